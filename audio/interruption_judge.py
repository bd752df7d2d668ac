"""Duck at once, decide after: interruption or backchannel — a pure decision class.

:class:`InterruptionJudge` has no clock, thread or I/O. The caller (``audio.interruptions.
InterruptionMonitor``, or a test on a simulated clock) feeds it one :class:`dsp.onset.Evidence` per
10 ms microphone block, whether a reply is playing, and transcripts of the snippets it asks for.
It answers with actions, each carrying a :class:`Reason`:

1. :class:`Duck` at the first onset block while a reply plays (the reply goes on, ``duck_db``
   quieter, ramped over ``duck_ramp_ms``).
2. :class:`Hold` once ``hold_after_ms`` have passed since the onset without a decision, if at least
   ``min_voice_ms`` were voiced (a click stays a duck): the reply fades out and stops where it is
   (so an interruption is silent within the deadline, and a backchannel loses nothing).
3. When the voice ends (the detector's release), short voice (< ``min_voice_ms``) came to nothing:
   :class:`Restore`. Otherwise :class:`Transcribe` asks for the words of the snippet
   (``preroll_ms`` before the onset to the end of voice).
4. The transcript decides: every word a backchannel (``dsp.backchannel``) → :class:`Restore`
   (``BACKCHANNEL``, the reply resumes where it stopped); no words → :class:`Restore`
   (``NO_WORDS``: a cough, a knock); any other words → :class:`Interrupt` (``WORDS``).
5. Voice that lasts longer than ``max_backchannel_ms`` is an :class:`Interrupt` at once
   (``TOO_LONG``), and so is a snippet whose transcript has not come within
   ``transcript_timeout_ms`` of the end of voice (``TRANSCRIPT_LATE``) or when there is no
   transcriber (``NO_TRANSCRIBER``).

Voice that resumes while the transcript is pending makes the snippet longer (the pending
transcript is ignored; a new one is asked for when that voice ends). An onset while no reply is
playing is not the judge's business (no action: the ordinary voice-detection turn applies).

Times are monotonic ns (the evidence's block times; ``poll`` takes the current time).
Not thread-safe: engine thread only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from dsp.backchannel import backchannel_phrase
from dsp.onset import Evidence
from dsp.onset import Reason as OnsetReason

__all__ = [
    "Duck",
    "Hold",
    "Interrupt",
    "InterruptionJudge",
    "JudgeAction",
    "JudgeConfig",
    "Reason",
    "Restore",
    "Transcribe",
]

_MS = 1_000_000


class Reason(enum.StrEnum):
    ONSET = "onset"
    DEADLINE = "deadline"
    TOO_SHORT = "too-short"
    BACKCHANNEL = "backchannel"
    NO_WORDS = "no-words"
    WORDS = "words"
    TOO_LONG = "too-long"
    TRANSCRIPT_LATE = "transcript-late"
    NO_TRANSCRIBER = "no-transcriber"
    VOICE_ENDED = "voice-ended"

    @property
    def text(self) -> str:
        return _TEXT[self]


_TEXT = {
    Reason.ONSET: "ducked: you may be starting to speak",
    Reason.DEADLINE: "paused: still deciding whether you are interrupting",
    Reason.TOO_SHORT: "resumed: it was not speech",
    Reason.BACKCHANNEL: "resumed: that was a backchannel",
    Reason.NO_WORDS: "resumed: no words in it",
    Reason.WORDS: "stopped: you interrupted",
    Reason.TOO_LONG: "stopped: you are talking",
    Reason.TRANSCRIPT_LATE: "stopped: could not tell in time, so treated as an interruption",
    Reason.NO_TRANSCRIBER: "stopped: no local transcriber to tell backchannels apart",
    Reason.VOICE_ENDED: "checking what you said",
}


@dataclass(frozen=True)
class JudgeConfig:
    """Judge settings (ms, dB). See the module docstring for what each one does."""

    duck_db: float = -30.0
    duck_ramp_ms: float = 2.0
    hold_after_ms: int = 120
    hold_ramp_ms: float = 10.0
    restore_ramp_ms: float = 150.0
    min_voice_ms: int = 60
    max_backchannel_ms: int = 900
    preroll_ms: int = 40
    transcript_timeout_ms: int = 2500

    def __post_init__(self) -> None:
        if self.duck_db > -20.0:
            raise ValueError(f"duck_db={self.duck_db}: a duck must be at least 20 dB down")
        if not 0 < self.min_voice_ms < self.max_backchannel_ms:
            raise ValueError("need 0 < min_voice_ms < max_backchannel_ms")

    @property
    def duck_gain(self) -> float:
        return float(10.0 ** (self.duck_db / 20.0))


@dataclass(frozen=True)
class Duck:
    t_ns: int
    onset_ns: int
    reason: Reason
    gain: float
    ramp_ms: float


@dataclass(frozen=True)
class Hold:
    t_ns: int
    onset_ns: int
    reason: Reason
    ramp_ms: float


@dataclass(frozen=True)
class Restore:
    """The reply goes on (``phrase``: the backchannel heard, normalised; "" otherwise)."""

    t_ns: int
    onset_ns: int
    reason: Reason
    ramp_ms: float
    phrase: str = ""
    text: str = ""


@dataclass(frozen=True)
class Interrupt:
    """The user interrupted: stop the reply. ``item_id``/``played_ms`` are filled in by whoever
    clears the player (what was heard, for the truncate command)."""

    t_ns: int
    onset_ns: int
    reason: Reason
    text: str = ""
    item_id: str | None = None
    played_ms: int = 0


@dataclass(frozen=True)
class Transcribe:
    """Please transcribe the microphone from ``from_ns`` to ``to_ns`` and answer with
    ``on_transcript(seq, text, now)``."""

    t_ns: int
    onset_ns: int
    reason: Reason
    seq: int
    from_ns: int
    to_ns: int


JudgeAction = Duck | Hold | Restore | Interrupt | Transcribe


class _Phase(enum.Enum):
    IDLE = 0
    LISTENING = 1  # voice going on
    JUDGING = 2  # voice ended, transcript pending


class InterruptionJudge:
    """See the module docstring. ``can_transcribe=False``: every real voice is an interruption."""

    def __init__(self, config: JudgeConfig | None = None, can_transcribe: bool = True) -> None:
        self.config = config or JudgeConfig()
        self.can_transcribe = can_transcribe
        self._phase = _Phase.IDLE
        self._onset_ns = 0
        self._voiced_ms = 0
        self._last_voiced_end_ns = 0
        self._voice_end_ns = 0
        self._held = False
        self._seq = 0

    @property
    def deciding(self) -> bool:
        """An onset was heard over the reply and no decision has been made yet."""
        return self._phase is not _Phase.IDLE

    @property
    def held(self) -> bool:
        return self._held

    def on_evidence(self, ev: Evidence, playing: bool, block_ms: int = 10) -> list[JudgeAction]:
        """One microphone block's evidence (in order); ``playing``: a reply is queued/playing."""
        cfg = self.config
        if self._phase is _Phase.IDLE:
            if not (ev.onset and playing):
                return []
            self._phase = _Phase.LISTENING
            self._onset_ns = ev.t_ns
            self._voiced_ms = block_ms
            self._last_voiced_end_ns = ev.t_ns + block_ms * _MS
            self._held = False
            return [Duck(ev.t_ns, ev.t_ns, Reason.ONSET, cfg.duck_gain, cfg.duck_ramp_ms)]
        out: list[JudgeAction] = []
        if self._phase is _Phase.JUDGING and ev.onset:
            self._phase = _Phase.LISTENING  # more voice: the snippet grows
            self._seq += 1  # the pending transcript is stale
        if self._phase is _Phase.LISTENING:
            if ev.voiced:
                self._voiced_ms += block_ms
                self._last_voiced_end_ns = ev.t_ns + block_ms * _MS
                if ev.t_ns + block_ms * _MS - self._onset_ns > cfg.max_backchannel_ms * _MS:
                    return out + self._interrupt(ev.t_ns, Reason.TOO_LONG)
            elif ev.reason is not OnsetReason.HANGOVER:
                ended = self._voice_ended(ev.t_ns)
                out += ended
                if any(isinstance(a, Restore | Interrupt) for a in ended):
                    return out
        return out + self.poll(ev.t_ns)

    def poll(self, t_ns: int) -> list[JudgeAction]:
        """Deadlines (hold, transcript timeout); call with the current time, any time."""
        if self._phase is _Phase.IDLE:
            return []
        cfg = self.config
        out: list[JudgeAction] = []
        if (
            not self._held
            and self._voiced_ms >= cfg.min_voice_ms
            and t_ns - self._onset_ns >= cfg.hold_after_ms * _MS
        ):
            self._held = True
            out.append(Hold(t_ns, self._onset_ns, Reason.DEADLINE, cfg.hold_ramp_ms))
        if (
            self._phase is _Phase.JUDGING
            and t_ns - self._voice_end_ns >= cfg.transcript_timeout_ms * _MS
        ):
            out += self._interrupt(t_ns, Reason.TRANSCRIPT_LATE)
        return out

    def on_transcript(self, seq: int, text: str | None, t_ns: int) -> list[JudgeAction]:
        """The words of snippet ``seq`` (from a :class:`Transcribe`; ``None``: transcription
        failed); stale answers are ignored."""
        if self._phase is not _Phase.JUDGING or seq != self._seq:
            return []
        if text is None:
            return self._interrupt(t_ns, Reason.NO_TRANSCRIBER)
        phrase = backchannel_phrase(text)
        if phrase is not None:
            return self._restore(t_ns, Reason.BACKCHANNEL, phrase, text)
        if not text.strip():
            return self._restore(t_ns, Reason.NO_WORDS, "", text)
        return self._interrupt(t_ns, Reason.WORDS, text)

    def reset(self) -> None:
        """Forget any pending decision (stream reopened, reply cleared by someone else)."""
        self._phase = _Phase.IDLE
        self._held = False
        self._seq += 1

    # ------------------------------------------------------------------ internals
    def _voice_ended(self, t_ns: int) -> list[JudgeAction]:
        cfg = self.config
        if self._voiced_ms < cfg.min_voice_ms:
            return self._restore(t_ns, Reason.TOO_SHORT, "", "")
        if not self.can_transcribe:
            return self._interrupt(t_ns, Reason.NO_TRANSCRIBER)
        self._phase = _Phase.JUDGING
        self._voice_end_ns = self._last_voiced_end_ns
        self._seq += 1
        return [
            Transcribe(
                t_ns,
                self._onset_ns,
                Reason.VOICE_ENDED,
                self._seq,
                self._onset_ns - cfg.preroll_ms * _MS,
                self._voice_end_ns + 50 * _MS,
            )
        ]

    def _restore(self, t_ns: int, reason: Reason, phrase: str, text: str) -> list[JudgeAction]:
        onset = self._onset_ns
        self._phase = _Phase.IDLE
        self._held = False
        return [Restore(t_ns, onset, reason, self.config.restore_ramp_ms, phrase, text)]

    def _interrupt(self, t_ns: int, reason: Reason, text: str = "") -> list[JudgeAction]:
        onset = self._onset_ns
        self._phase = _Phase.IDLE
        self._held = False
        self._seq += 1
        return [Interrupt(t_ns, onset, reason, text)]
