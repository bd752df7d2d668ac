"""The input audio buffer and OpenAI ``server_vad`` turn detection over ``dsp.vad``.

``InputBuffer`` receives the client's 24 kHz PCM16 (``input_audio_buffer.append``), keeps a 16 kHz
copy for the detector and the recogniser, and returns ``TurnEvent``s:

- ``SpeechBegan(item_id, audio_start_ms)`` → ``input_audio_buffer.speech_started``
- ``SilenceBegan(start_sample, end_sample, pcm16_16k)`` → start speculative transcription
- ``SpeechResumed()`` → the speculation is stale
- ``SpeechEnded(item_id, audio_end_ms)`` → ``input_audio_buffer.speech_stopped``
- ``TurnCommitted(item_id, pcm16_16k, start_sample, last_voiced_sample)`` → committed + a user item
- ``JudgeTurn(ask_id, silence_ms, start_sample, pcm16_16k)`` (``semantic_vad`` with
  ``ask_caller=True``) → judge the turn so far (turn model + transcript) off the event loop and
  answer with ``judged(ask_id, acoustic, text)``; until then ``append`` only holds the audio, so
  the decision lands at the same audio time however fast the audio is streamed

Times (``*_ms``) are milliseconds of audio appended since the session began, as in OpenAI's
events; ``*_sample`` are sample indices in that same 16 kHz stream. VAD timing depends only on the
samples, so audio may be streamed faster than real time.

``turn_detection=None`` is push-to-talk: no detection; ``commit()`` closes the turn.
Thread: the session's event-loop thread only (the detector costs ~0.1 ms per 32 ms window).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from dsp.end_of_turn import Action, EndOfTurn, TextCue, TurnDecision, policy_for
from dsp.resample import StreamResampler
from dsp.vad import StreamingVad, VoiceEnd, VoiceStart
from realtime.openai_vocab import MIN_COMMIT_MS, RATE_HZ

INPUT_RATE_HZ = RATE_HZ
VAD_RATE_HZ = 16000
_BYTES_PER_MS_16K = VAD_RATE_HZ * 2 // 1000
#: Speculation starts after this much quiet inside an utterance (at most a third of the stop
#: delay). Silero's windows already put the first quiet window ~100 ms after the voice ends.
SPECULATE_AFTER_MS = 100


@dataclass(frozen=True)
class ServerVadParams:
    """OpenAI ``server_vad`` parameters (defaults as the cloud's)."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True
    idle_timeout_ms: int | None = None
    #: Set for ``semantic_vad``: the turn ends by ``dsp.end_of_turn`` (silence_duration_ms is then
    #: the cap that applies when no turn judge is available).
    eagerness: str | None = None


@dataclass(frozen=True)
class SpeechBegan:
    item_id: str
    audio_start_ms: int


@dataclass(frozen=True)
class SilenceBegan:
    start_sample: int
    end_sample: int
    pcm16_16k: bytes
    #: Where the quiet began (the last voiced sample so far); -1 if unknown.
    voice_end_sample: int = -1


@dataclass(frozen=True)
class SpeechResumed:
    pass


@dataclass(frozen=True)
class SpeechEnded:
    item_id: str
    audio_end_ms: int


@dataclass(frozen=True)
class TurnCommitted:
    item_id: str
    pcm16_16k: bytes
    start_sample: int
    last_voiced_sample: int

    @property
    def duration_ms(self) -> int:
        return len(self.pcm16_16k) // _BYTES_PER_MS_16K


@dataclass(frozen=True)
class JudgeTurn:
    """A ``semantic_vad`` checkpoint: ``silence_ms`` of audio-time silence follows the speech in
    ``pcm16_16k`` (the turn so far, from ``start_sample``); answer with ``judged(ask_id, ...)``."""

    ask_id: int
    silence_ms: int
    start_sample: int
    pcm16_16k: bytes


TurnEvent = SpeechBegan | SilenceBegan | SpeechResumed | SpeechEnded | TurnCommitted | JudgeTurn


class CommitTooShort(ValueError):
    """``commit()`` with less than 100 ms of audio buffered; ``buffered_ms`` says how much."""

    def __init__(self, buffered_ms: float) -> None:
        self.buffered_ms = buffered_ms
        why = f"Expected at least {MIN_COMMIT_MS}ms of audio, but buffer only has "
        super().__init__(f"buffer too small. {why}{buffered_ms:.2f}ms of audio.")


class InputBuffer:
    """Uncommitted user audio plus the turn detector (see module docstring)."""

    def __init__(
        self,
        new_item_id: Callable[[], str],
        vad: ServerVadParams | None,
        judge: Callable[[bytes], float] | None = None,
        *,
        ask_caller: bool = False,
    ) -> None:
        """``judge(pcm16_16k)`` returns P(turn complete) for the speech so far (the turn model);
        it is called synchronously at ``semantic_vad`` checkpoints (about 50-100 ms, at most
        once per re-check interval), so decisions depend only on the audio, not on timing.

        ``ask_caller=True`` (the server): instead of calling ``judge``, a checkpoint returns a
        ``JudgeTurn`` event and holds later audio until ``judged()`` answers it (the caller can
        then also weigh the transcript, and judge on a worker)."""
        self._new_id = new_item_id
        self._judge = judge
        self._ask_caller = ask_caller
        self._asking: JudgeTurn | None = None
        self._held: list[bytes] = []  # 24 kHz chunks appended while a judgement is pending
        self._asks = 0
        self._eot: EndOfTurn | None = None
        self.decisions: list[TurnDecision] = []  # semantic_vad verdicts, newest last
        self._resampler = StreamResampler(INPUT_RATE_HZ, VAD_RATE_HZ)
        self._pcm16 = bytearray()  # uncommitted 16 kHz audio
        self._buf_start = 0  # stream sample index of self._pcm16[0]
        self._pending_24k_bytes = 0  # appended since the last commit/clear
        self.params: ServerVadParams | None = None
        self._vad: StreamingVad | None = None
        self._vad_base = 0
        self._speech_item: str | None = None
        self._speech_start = 0
        self._silence_from: int | None = None
        self._speculated = False
        self.configure(vad)

    def configure(self, vad: ServerVadParams | None) -> None:
        """Switch detection on/off or change its parameters (``session.update``)."""
        if vad == self.params and (vad is None) == (self._vad is None):
            return
        self.params = vad
        self._speech_item = None
        self._silence_from = None
        self._speculated = False
        self._release_held()
        if vad is None:
            self._vad = None
            return
        self._vad = self._new_vad()
        self._vad_base = self.stream_samples

    def _new_vad(self) -> StreamingVad:
        """The detector for ``self.params``; under semantic_vad with a judge, its stop delay is
        only the longest hold (``dsp.end_of_turn`` ends the turn sooner)."""
        params = self.params
        assert params is not None
        stop_ms = params.silence_duration_ms
        self._eot = None
        if params.eagerness is not None and (self._judge is not None or self._ask_caller):
            policy = policy_for(params.eagerness)
            if self._ask_caller:  # the audio is held while a judgement runs: judge twice
                policy = replace(policy, max_rechecks=1)
            self._eot = EndOfTurn(policy)
            stop_ms = policy.hold_cap_ms
        return StreamingVad(rate_hz=VAD_RATE_HZ, threshold=params.threshold, min_silence_ms=stop_ms)

    @property
    def stream_samples(self) -> int:
        """16 kHz samples appended since the session began."""
        return self._buf_start + len(self._pcm16) // 2

    @property
    def buffered_ms(self) -> float:
        """Milliseconds of audio appended and not yet committed or cleared."""
        return self._pending_24k_bytes / (INPUT_RATE_HZ * 2 / 1000)

    @property
    def in_speech(self) -> bool:
        return self._speech_item is not None

    @property
    def quiet(self) -> bool:
        """Inside an utterance and the voice has stopped (``SilenceBegan`` may be yet to come)."""
        return self._silence_from is not None

    def speech_so_far(self) -> tuple[int, bytes] | None:
        """The utterance in progress (prefix padding included) as 16 kHz PCM16 with its start
        sample, or None outside speech (for streaming transcription)."""
        if self._speech_item is None or self.params is None:
            return None
        start = self._turn_start()
        return start, bytes(self._pcm16[(start - self._buf_start) * 2 :])

    @property
    def end_of_turn(self) -> EndOfTurn | None:
        """The semantic_vad decision in use (None under server_vad or without a turn judge)."""
        return self._eot

    @property
    def asking(self) -> JudgeTurn | None:
        """The checkpoint waiting for ``judged()`` (audio is held meanwhile)."""
        return self._asking

    def append(self, pcm24: bytes) -> list[TurnEvent]:
        """``input_audio_buffer.append``: 24 kHz PCM16 mono (even length)."""
        if self._asking is not None:
            self._held.append(pcm24)
            return []
        self._pending_24k_bytes += len(pcm24)
        pcm16 = self._resampler.process(pcm24)
        self._pcm16 += pcm16
        if self._vad is None or not pcm16:
            return []
        events: list[TurnEvent] = []
        for ev in self._vad.process(pcm16):
            if isinstance(ev, VoiceStart):
                events.extend(self._on_start(self._vad_base + ev.sample))
            elif isinstance(ev, VoiceEnd):
                events.extend(self._on_end(self._vad_base + ev.sample))
        events.extend(self._watch_silence())
        if self._speech_item is None:
            self._trim_idle()
        return events

    def _trim_idle(self) -> None:
        """Between utterances keep only what the next one's prefix padding could need."""
        assert self.params is not None
        keep = (self.params.prefix_padding_ms + 1000) * _BYTES_PER_MS_16K
        excess = len(self._pcm16) - keep
        if excess > VAD_RATE_HZ * 2:  # trim in ≥ 1 s steps
            del self._pcm16[:excess]
            self._buf_start += excess // 2

    def _on_start(self, sample: int) -> list[TurnEvent]:
        self._speech_item = self._new_id()
        self._speech_start = sample
        self._silence_from = None
        self._speculated = False
        return [SpeechBegan(self._speech_item, sample * 1000 // VAD_RATE_HZ)]

    def _turn_start(self) -> int:
        assert self.params is not None
        pad = self.params.prefix_padding_ms * VAD_RATE_HZ // 1000
        return max(self._buf_start, self._speech_start - pad)

    def _on_end(self, sample: int) -> list[TurnEvent]:
        item_id = self._speech_item or self._new_id()
        self._speech_item = None
        self._silence_from = None
        self._speculated = False
        events: list[TurnEvent] = [SpeechEnded(item_id, sample * 1000 // VAD_RATE_HZ)]
        start = self._turn_start()
        # Keep ~100 ms of the silence after the last voiced window (Whisper likes a tail).
        end = min(self.stream_samples, sample + VAD_RATE_HZ // 10)
        pcm = bytes(self._pcm16[(start - self._buf_start) * 2 : (end - self._buf_start) * 2])
        del self._pcm16[: (end - self._buf_start) * 2]
        self._buf_start = end
        self._pending_24k_bytes = len(self._pcm16) * 3 // 2
        if len(pcm) >= MIN_COMMIT_MS * _BYTES_PER_MS_16K:
            events.append(TurnCommitted(item_id, pcm, start, sample))
        return events

    def _watch_silence(self) -> list[TurnEvent]:
        """Speculation hook: once silence inside an utterance has lasted ``speculate_ms``
        (a third of the stop delay, at most 100 ms), report ``SilenceBegan`` with the audio so far;
        if voice comes back after that, ``SpeechResumed``."""
        vad = self._vad
        if vad is None or self._speech_item is None or self.params is None:
            return []
        quiet = vad.probability < vad.end_threshold
        if not quiet:
            resumed = self._speculated
            self._silence_from = None
            self._speculated = False
            if self._eot is not None:
                self._eot.speech()
            return [SpeechResumed()] if resumed else []
        if self._silence_from is None:
            self._silence_from = self.stream_samples
        events: list[TurnEvent] = []
        stop_ms = self.params.silence_duration_ms
        if self._eot is not None:
            stop_ms = self._eot.policy.checkpoint_ms * 3 // 2
        wait = min(SPECULATE_AFTER_MS, stop_ms // 3) * VAD_RATE_HZ // 1000
        if not self._speculated and self.stream_samples - self._silence_from >= wait:
            self._speculated = True
            start = self._turn_start()
            pcm = bytes(self._pcm16[(start - self._buf_start) * 2 :])
            events.append(SilenceBegan(start, self.stream_samples, pcm, self._silence_from))
        if self._eot is not None:
            events.extend(self._judge_turn())
        return events

    def _judge_turn(self) -> list[TurnEvent]:
        """semantic_vad: ask ``dsp.end_of_turn`` (and the turn model at its checkpoints)."""
        eot, judge, silence_from = self._eot, self._judge, self._silence_from
        assert eot is not None and silence_from is not None
        silence_ms = (self.stream_samples - silence_from) * 1000 // VAD_RATE_HZ
        decision = eot.silence(silence_ms)
        if decision.action is Action.ASK:
            start = self._turn_start()
            pcm = bytes(self._pcm16[(start - self._buf_start) * 2 :])
            if self._ask_caller or judge is None:
                self._asks += 1
                self._asking = JudgeTurn(self._asks, silence_ms, start, pcm)
                return [self._asking]
            decision = eot.judged(silence_ms, judge(pcm))
        return self._apply(decision)

    def judged(self, ask_id: int, acoustic: float, text: TextCue | None) -> list[TurnEvent]:
        """The caller's answer to ``JudgeTurn(ask_id)``: P(complete) from the turn model and what
        the transcript says. Processes the audio held meanwhile; returns the events of both.
        A stale ``ask_id`` (the buffer was committed, cleared or reconfigured) is ignored."""
        ask = self._asking
        if ask is None or ask.ask_id != ask_id or self._eot is None:
            return []
        self._asking = None
        events = self._apply(self._eot.judged(ask.silence_ms, acoustic, text))
        held, self._held = self._held, []
        for chunk in held:
            events.extend(self.append(chunk))
        return events

    def _release_held(self) -> None:
        """Forget a pending judgement; the held audio joins the buffer undetected."""
        self._asking = None
        held, self._held = self._held, []
        for chunk in held:
            self._pending_24k_bytes += len(chunk)
            self._pcm16 += self._resampler.process(chunk)

    def _apply(self, decision: TurnDecision) -> list[TurnEvent]:
        silence_from = self._silence_from
        assert silence_from is not None
        if decision.action is not Action.END:
            return []
        self.decisions.append(decision)
        events = self._on_end(silence_from)
        self._vad = self._new_vad()  # the detector still thinks it is inside speech
        self._vad_base = self.stream_samples
        return events

    def commit(self) -> TurnCommitted:
        """``input_audio_buffer.commit``: the whole buffer becomes a user item.

        Raises ``CommitTooShort`` with < 100 ms buffered (the buffer is kept).
        """
        self._release_held()
        if self.buffered_ms < MIN_COMMIT_MS:
            raise CommitTooShort(self.buffered_ms)
        item_id = self._speech_item or self._new_id()
        self._speech_item = None
        self._silence_from = None
        self._speculated = False
        # Push the resampler's look-ahead tail out so the item holds all the audio sent.
        self._pcm16 += self._resampler.flush()
        self._resampler = StreamResampler(INPUT_RATE_HZ, VAD_RATE_HZ)
        self._pending_24k_bytes = 0
        pcm = bytes(self._pcm16)
        start = self._buf_start
        self._buf_start = self.stream_samples
        self._pcm16.clear()
        if self._vad is not None:
            self._vad = self._new_vad()
            self._vad_base = self.stream_samples
        return TurnCommitted(item_id, pcm, start, self.stream_samples)

    def clear(self) -> None:
        """``input_audio_buffer.clear``: drop uncommitted audio; an utterance in progress ends."""
        self._release_held()
        self._buf_start = self.stream_samples
        self._pcm16.clear()
        self._pending_24k_bytes = 0
        self._speech_item = None
        self._silence_from = None
        self._speculated = False
        if self._vad is not None and self.params is not None:
            self._vad = self._new_vad()
            self._vad_base = self.stream_samples
