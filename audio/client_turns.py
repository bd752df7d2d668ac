"""``ClientTurnEnd``: the semantic end of the user's turn, decided on the client for every backend.

In ``client`` turn detection (hands-free) the capture's voice detector runs with a short stop
delay (``VAD_STOP_MS``). ``audio.capture.Capture`` does not close the turn at its ``VoiceEnd``:
it hands the end here, and this class times the silence that follows in AUDIO samples (never the
wall clock) and asks ``dsp.end_of_turn.EndOfTurn`` what to do. At its checkpoints the turn model
(``dsp.turn_model``, Smart Turn) judges the speech so far, silence included, on one worker thread:

* the model says complete → the turn ends at the checkpoint (about 200 ms of silence);
* it says unfinished (a hesitation) → keep listening, re-judge, and end anyway at the cap for the
  eagerness (1.0 / 1.3 / 2.5 s of silence for high / medium / low eagerness);
* voice comes back before that → the same turn goes on (a pending judgement is dropped).

Call order (engine thread, ``Capture``; ``sample`` = index into the engine's 16 kHz stream)::

    turns.feed(pcm16)                  # every batch of 16 kHz audio, hands-free
    turns.speech(sample, new_turn)     # the VAD's VoiceStart while the talk gate is open
    turns.pause(sample)                # the VAD's VoiceEnd while the talk gate is open
    ended = turns.advance()            # after each batch: a TurnEnded closes the turn
    turns.cancel()                     # the turn ended otherwise (mode change, lost device)

Audio time: each checkpoint judges the turn's audio up to EXACTLY its scheduled silence
(``checkpoint_ms``, then every ``recheck_ms``: 200, 450, 700 ms ... at medium), cut at that sample
whatever batch brought it, and when it says complete the turn ends at the sample where the silence
began; so a test that streams faster than real time with ``InlineExecutor`` gets exactly the
decisions of a live run, and the batching of the stream decides nothing. (The capture's 16 kHz
stream comes in soxr's bursts of about 30 ms; judging all audio fed so far made every re-check
slip a burst later, 226 / 501 / 777 / 1052 ms instead of 200 / 450 / 700 / 950, and gave the model
an end point set by the burst, while its P on one borderline clip swings 0.07-0.93 within 1 ms of
end point.) With the worker (the default) a judgement that comes back after the voice resumed is
dropped (the user is talking: never cut).

With ``words`` (a transcriber, ``turn_transcriber()``; the app passes one at medium and high
patience), a checkpoint the model calls complete also asks for the transcript of the turn:
ending on a word that needs a continuation ("... the text on", "... is...") holds the turn, and
so does a ``scorer`` (``dsp.text_end``) that reads the words as unfinished ("Can you tell me",
``dsp.end_of_turn``). Smart Turn alone cannot tell those pauses: the first halves of the shared
paused questions score 0.85-0.99 (a finished-sounding phrase), so without the words 14 of 16 are
cut. The words cost a Whisper pass (0.3-1.5 s on a busy core), started on its own worker as soon
as the voice pauses (so it runs beside the model's wait and verdict) and reused by the rechecks
of the same silence.

A turn shorter than ``MIN_JUDGED_MS`` is not judged, and when the model cannot be loaded (file
missing) ``warning`` says so once: both end after ``fallback_ms`` of plain silence (the old
behaviour).

Engine thread only, except the two workers, which only run the judge's ``probability`` (and the
scorer's ``complete_p``) and the transcriber's ``transcribe``.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, ParamSpec, TypeVar

from audio.turn_verdict import (
    Heard,
    Readers,
    SharedTurnModel,
    TextScorer,
    TurnJudge,
    TurnTranscriber,
    Verdict,
    judge_turn,
    text_cue,
)
from dsp.end_of_turn import Action, EndOfTurn, Reason, TurnDecision, policy_for
from dsp.snippet_stt import SnippetTranscriber
from dsp.turn_model import WINDOW_SAMPLES

log = logging.getLogger(__name__)

__all__ = [
    "VAD_STOP_MS",
    "ClientTurnEnd",
    "InlineExecutor",
    "SharedTurnModel",
    "TextScorer",
    "TurnEnded",
    "TurnJudge",
    "TurnTranscriber",
    "text_cue",
    "turn_transcriber",
]

RATE_HZ: Final = 16_000
#: The voice detector's stop delay under semantic turns: well below the first checkpoint
#: (150-250 ms), so the checkpoint, not the detector, decides.
VAD_STOP_MS: Final = 100
#: Audio kept before the first voiced sample of the turn (the model hears the onset).
PREROLL_MS: Final = 300
_KEEP_SAMPLES: Final = WINDOW_SAMPLES  # the model reads the last 8 s
#: A turn shorter than this (first voice to the pause) is not judged: the model misreads a lone
#: syllable (measured: piper's "What | colour is the mug?" was cut after "What", p = 0.9), so it
#: ends after ``fallback_ms`` of silence, as without the model.
MIN_JUDGED_MS: Final = 400

P = ParamSpec("P")
T = TypeVar("T")


def turn_transcriber() -> SnippetTranscriber:
    """The words of a whole turn: Whisper tiny without the backchannel prompt (it biases a
    turn's words: "Tell me a joke about" came out "Tell me I don't come out"), up to 32 tokens
    (the shared questions need 8-15). Loads lazily; share one per process."""
    return SnippetTranscriber(max_new_tokens=32, prompt=None)


class InlineExecutor(concurrent.futures.Executor):
    """Runs each job at ``submit`` on the caller's thread (tests and benches: pure audio time)."""

    def submit(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[T]:
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


@dataclass(frozen=True)
class TurnEnded:
    """The user's turn is over: the voice ended at ``sample`` (16 kHz stream index);
    ``decision`` says why and at how much silence."""

    sample: int
    decision: TurnDecision


class ClientTurnEnd:
    """Silence after speech → end of turn, with the turn model's judgement (module docstring)."""

    def __init__(
        self,
        eagerness: str = "medium",
        judge: TurnJudge | None = None,
        *,
        words: TurnTranscriber | None = None,
        scorer: TextScorer | None = None,
        executor: concurrent.futures.Executor | None = None,
        fallback_ms: int = 500,
    ) -> None:
        self.policy = policy_for(eagerness)
        self.eagerness = eagerness
        self.fallback_ms = fallback_ms
        self._judge: TurnJudge = judge if judge is not None else SharedTurnModel()
        #: the transcript cue (slower: a Whisper pass at a checkpoint the model calls complete)
        self._readers = Readers(words, scorer)
        #: (silence start, its transcript or the transcription started at the pause)
        self._heard: tuple[int, Heard] | None = None
        self._executor = executor
        self._words_executor = executor  # its own thread: the words run beside the model
        self._own_executor = False
        self._eot = EndOfTurn(self.policy)
        self._hist = bytearray()
        self._hist_start = 0  # stream index of self._hist[0]
        self._voice_from: int | None = None  # first voiced sample of the open turn
        self._silence_from: int | None = None
        self._job: tuple[concurrent.futures.Future[Verdict], int] | None = None  # (verdict, at)
        self._broken = False
        #: Set once when the model cannot be used (what a person can do about it); the caller
        #: reports it and clears it.
        self.warning: str | None = None
        #: Every decision that ended a turn or answered a checkpoint, oldest first (bench, logs).
        self.decisions: list[TurnDecision] = []

    # ------------------------------------------------------------------ lifecycle
    def warm(self) -> None:
        """Load the model on its worker now, and the word readers on theirs (any later
        checkpoint then runs at once, the first turn's too)."""
        self._submit(bytes(RATE_HZ))
        if self._readers.words is not None or self._readers.scorer is not None:
            self._words_pool().submit(self._readers.load)

    def close(self) -> None:
        """Stop the worker (a pending judgement is dropped). Any thread."""
        self._drop_job()
        if self._own_executor:
            for ex in (self._executor, self._words_executor):
                if ex is not None:
                    ex.shutdown(wait=False, cancel_futures=True)
            self._executor = self._words_executor = None  # a later job starts new workers

    def reset(self) -> None:
        """A new stream: positions restart at 0; no turn is open."""
        self.cancel()
        self._hist.clear()
        self._hist_start = 0

    def cancel(self) -> None:
        """The turn ended without us (talk mode changed, device lost): forget it."""
        self._drop_job()
        self._drop_heard()
        self._voice_from = None
        self._silence_from = None
        self._eot.speech()

    # ------------------------------------------------------------------ engine thread
    @property
    def position(self) -> int:
        """16 kHz samples fed since the stream opened."""
        return self._hist_start + len(self._hist) // 2

    @property
    def reads_words(self) -> bool:
        """Checkpoints the model calls complete also read the turn's words."""
        return self._readers.words is not None

    @property
    def waiting(self) -> bool:
        """A turn's voice has paused and its end is being decided."""
        return self._silence_from is not None

    def feed(self, pcm16: bytes) -> None:
        """The next 16 kHz PCM16 of the stream (the engine's ``MicAudio.pcm16_16k`` audio)."""
        self._hist += pcm16
        excess = len(self._hist) // 2 - (_KEEP_SAMPLES + RATE_HZ)
        if excess > 0:  # trim in >= 1 s steps, keep 8 s
            drop = excess + RATE_HZ
            del self._hist[: 2 * drop]
            self._hist_start += drop

    def speech(self, sample: int, new_turn: bool) -> None:
        """Voice (re)started at ``sample``; ``new_turn``: it opened the talk gate."""
        if new_turn or self._voice_from is None:
            self._voice_from = sample
        self._silence_from = None
        self._drop_job()
        self._drop_heard()
        self._eot.speech()

    def pause(self, sample: int) -> None:
        """The voice detector says the voice ended at ``sample``; the turn stays open. With the
        words, their transcription starts now (by the first checkpoint it is mostly done)."""
        if self._voice_from is None:
            self._voice_from = sample
        self._silence_from = sample
        self._drop_job()
        self._drop_heard()
        self._eot.speech()
        words = self._readers.words
        voiced_ms = (sample - self._voice_from) * 1000 // RATE_HZ
        if words is not None and not self._broken and voiced_ms >= MIN_JUDGED_MS:
            self._heard = (sample, self._words_pool().submit(words.transcribe, self._turn_audio()))

    def advance(self) -> TurnEnded | None:
        """After a batch was fed: the end of the turn, if it is decided now."""
        silence_from = self._silence_from
        if silence_from is None:
            return None
        silence_ms = max(0, (self.position - silence_from) * 1000 // RATE_HZ)
        if self._job is not None:
            verdict = self._verdict()
            if verdict is not None:
                return verdict
        voiced_ms = (silence_from - (self._voice_from or 0)) * 1000 // RATE_HZ
        if self._broken or voiced_ms < MIN_JUDGED_MS:
            if silence_ms >= self.fallback_ms:
                return self._end(TurnDecision(Action.END, Reason.CAP, silence_ms))
            return None
        decision = self._eot.silence(silence_ms)
        if decision.action is Action.END:
            return self._end(decision)
        if decision.action is Action.ASK:
            at_ms = self._scheduled_ms(silence_ms)
            end = silence_from + at_ms * RATE_HZ // 1000
            self._job = (self._submit(self._turn_audio(end)), at_ms)
            return self._verdict()  # at once with an InlineExecutor
        return None

    # ------------------------------------------------------------------ internals
    def _scheduled_ms(self, silence_ms: int) -> int:
        """The latest checkpoint of the policy's schedule (``checkpoint_ms``, then every
        ``recheck_ms``) that ``silence_ms`` has reached: the silence a checkpoint judges."""
        policy = self.policy
        if silence_ms < policy.checkpoint_ms:
            return silence_ms
        n = (silence_ms - policy.checkpoint_ms) // policy.recheck_ms
        return policy.checkpoint_ms + n * policy.recheck_ms

    def _turn_audio(self, end: int | None = None) -> bytes:
        """The open turn's audio from ``PREROLL_MS`` before its first voice up to the stream
        index ``end`` (None: all fed so far)."""
        pad = PREROLL_MS * RATE_HZ // 1000
        start = max(self._hist_start, (self._voice_from or 0) - pad)
        stop = len(self._hist) if end is None else 2 * (end - self._hist_start)
        return bytes(self._hist[2 * (start - self._hist_start) : stop])

    def _drop_heard(self) -> None:
        heard = self._heard
        if heard is not None and isinstance(heard[1], concurrent.futures.Future):
            heard[1].cancel()
        self._heard = None

    def _verdict(self) -> TurnEnded | None:
        assert self._job is not None
        fut, at_ms = self._job
        if not fut.done():
            return None
        self._job = None
        try:
            verdict = fut.result()
        except Exception as exc:  # a missing or broken model: fall back to plain silence
            self._broken = True
            self.warning = (
                f"semantic end of turn is off ({exc}); your turn ends after "
                f"{self.fallback_ms} ms of silence"
            )
            log.warning("%s", self.warning)
            self._eot.speech()
            return None
        if verdict.transcript is not None and self._silence_from is not None:
            self._heard = (self._silence_from, verdict.transcript)
        decision = self._eot.judged(at_ms, verdict.acoustic, verdict.text)
        if decision.action is Action.END:
            return self._end(decision)
        self._record(decision)
        return None

    def _end(self, decision: TurnDecision) -> TurnEnded:
        assert self._silence_from is not None
        self._record(decision)
        ended = TurnEnded(self._silence_from, decision)
        self.cancel()
        return ended

    def _record(self, decision: TurnDecision) -> None:
        self.decisions.append(decision)
        if len(self.decisions) > 200:
            del self.decisions[:100]

    def _submit(self, pcm16: bytes) -> concurrent.futures.Future[Verdict]:
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="turn-model"
            )
            self._own_executor = True
        threshold = self.policy.acoustic_threshold
        heard = self._heard
        known = heard[1] if heard is not None and heard[0] == self._silence_from else None
        return self._executor.submit(
            judge_turn, self._judge, self._readers, threshold, pcm16, known
        )

    def _words_pool(self) -> concurrent.futures.Executor:
        if self._words_executor is None:
            self._words_executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="turn-words"
            )
            self._own_executor = True
        return self._words_executor

    def _drop_job(self) -> None:
        if self._job is not None:
            self._job[0].cancel()
            self._job = None
