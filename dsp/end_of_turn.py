"""When has the user finished their turn? A pure decision driven by audio time.

The caller (the offline server, or the app's client-side detector) tracks speech and silence with
its VAD and feeds this class the length of the silence that follows speech, in milliseconds of
AUDIO (never the wall clock, so a test streaming faster than real time gets the same decisions):

    eot = EndOfTurn(policy_for("auto"))
    eot.speech()                      # speech (re)started: forget earlier checks
    d = eot.silence(silence_ms)       # after each audio chunk of silence
    if d.action is Action.ASK:        # a checkpoint: run the turn model on the audio so far
        d = eot.judged(silence_ms, acoustic=p, text=TextCue.of(transcript, p_text))
    if d.action is Action.END: ...    # the turn is over (d.reason says why)

Rules (each decision carries a ``Reason``):
- Before ``checkpoint_ms`` of silence nothing is decided (``Reason.SHORT_SILENCE``).
- At the checkpoint, and then every ``recheck_ms``, the caller is asked for a judgement.
- The turn ends at a checkpoint when the acoustic model says complete (``p >= acoustic_threshold``)
  AND the transcript, if known, does not say otherwise: it does not end on a word that needs a
  continuation ("and", "the", "um", ...) and its text-completeness score, if the caller has one,
  is at least ``text_threshold`` (and the two scores' log-odds sum to ``combined_threshold``).
- Otherwise it waits, and ends anyway when the silence reaches the cap for the eagerness
  (``cap_ms``; ``hold_cap_ms`` when the transcript ends on a word that needs a continuation).

Caps (chosen, not OpenAI's 8/4/2 s: on a camera assistant a long wait feels broken, and the
shared paused clips hesitate for at most 1 s): high 1.0 s, medium/auto 1.3 s, low 2.5 s; an
unfinished-sounding transcript holds up to 2.0 s / 2.5 s / 4.0 s.

Not thread-safe; one instance per audio stream.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal

Eagerness = Literal["low", "medium", "high", "auto"]

# Words after which an English utterance is almost never finished.
# fmt: off
CONTINUATION_WORDS: Final = frozenset((
    "a", "an", "the", "and", "or", "but", "so", "because", "if", "that", "which", "who", "whose",
    "whom", "what", "where", "when", "how", "why", "to", "of", "in", "on", "at", "for", "with",
    "from", "by", "about", "into", "than", "as", "like", "then", "my", "your", "his", "her",
    "their", "our", "its", "this", "these", "those", "is", "are", "was", "were", "am", "be",
    "can", "could", "would", "should", "will", "do", "does", "did", "have", "has", "um", "uh",
    "erm", "er", "hmm", "mm", "ah", "eh", "well",
))
# fmt: on
_WORD = re.compile(r"[a-z']+")


class Action(Enum):
    """What the caller should do next."""

    WAIT = "wait"  # keep listening
    ASK = "ask"  # run the turn model (and the text score) now, then call judged()
    END = "end"  # the turn is over


class Reason(Enum):
    """Why a decision was taken (logged and counted by the bench)."""

    SPEAKING = "speaking"
    SHORT_SILENCE = "silence shorter than the checkpoint"
    CHECKPOINT = "checkpoint reached: judge the turn"
    COMPLETE = "model and transcript say the turn is complete"
    ACOUSTIC_INCOMPLETE = "the turn model says the speech is unfinished"
    TEXT_INCOMPLETE = "the transcript does not read as a finished utterance"
    CONTINUATION_WORD = "the transcript ends on a word that needs a continuation"
    WAITING_RECHECK = "waiting for the next checkpoint"
    CAP = "silence reached the cap for this eagerness"


@dataclass(frozen=True)
class EndOfTurnPolicy:
    """Thresholds for one eagerness. All durations are milliseconds of audio."""

    checkpoint_ms: int
    recheck_ms: int
    cap_ms: int
    hold_cap_ms: int
    #: Chosen from the shared turn clips' checkpoints (``bench/turn_points.py``): the
    #: one hesitation that both scores call complete-ish, "What is weld?" in paused05_espeak
    #: (P 0.54, words 0.34), waits; the lowest finished question that ended at the first
    #: checkpoint at 0.5 and still does is complete01_espeak (P 0.64, words 0.09). The cost:
    #: complete03_espeak (P 0.51) and paused06_espeak's end (P 0.58) end at the re-check.
    acoustic_threshold: float = 0.6
    #: On ``TextCue.complete_p``: the language model's P(the utterance ends here) after the
    #: transcript without its closing punctuation (``realtime.local.text_turn``). Unfinished
    #: clauses score below 1e-4, finished short questions 0.04-0.8 on the shared clips.
    text_threshold: float = 0.03
    #: Both scores known: their log-odds must also sum to at least this, so that two borderline
    #: "complete"s (P 0.5 from the model, 0.04 from the words) do not end the turn together.
    combined_threshold: float = -2.5
    #: At a re-check (not the first checkpoint of a silence) with both scores known, the sum
    #: must reach this instead: Smart Turn's P rises with the length of the trailing silence
    #: (hesitations that scored 0.5 at 200 ms scored 0.9 at 500 ms on the shared paused clips),
    #: so a turn judged unfinished ends at a re-check only on strong evidence, else at the cap.
    #: Data (log-odds sums at the 490 ms re-check): hesitations 0.77 (paused05_espeak, P 0.81,
    #: words 0.34) and below; finished questions 2.53 (complete03_espeak), 3.0, 3.3 and above.
    recheck_combined_threshold: float = 2.0
    #: Re-checks per silence (None: every ``recheck_ms`` until the cap). The server, whose
    #: judgement holds the audio while it runs, allows one: later ones rarely end a turn.
    max_rechecks: int | None = None


POLICIES: Final[dict[str, EndOfTurnPolicy]] = {
    "high": EndOfTurnPolicy(checkpoint_ms=150, recheck_ms=200, cap_ms=1000, hold_cap_ms=2000),
    "medium": EndOfTurnPolicy(checkpoint_ms=200, recheck_ms=250, cap_ms=1300, hold_cap_ms=2500),
    "low": EndOfTurnPolicy(checkpoint_ms=250, recheck_ms=300, cap_ms=2500, hold_cap_ms=4000),
}


def policy_for(eagerness: str) -> EndOfTurnPolicy:
    """The policy for a ``semantic_vad`` eagerness; "auto" (and unknown values) mean medium."""
    return POLICIES.get(eagerness, POLICIES["medium"])


def ends_on_continuation(transcript: str) -> bool:
    """True when the transcript's last word needs a continuation ("... and", "... the", "um")."""
    words = _WORD.findall(transcript.lower().replace("\u2019", "'"))
    if not words:
        return False
    if transcript.rstrip().endswith(("?", ".", "!")) and words[-1] not in {"um", "uh", "er"}:
        return False
    return words[-1] in CONTINUATION_WORDS


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class TextCue:
    """What the transcript says about the turn. ``complete_p`` is None when not scored."""

    continuation: bool
    complete_p: float | None = None

    @classmethod
    def of(cls, transcript: str, complete_p: float | None = None) -> TextCue:
        return cls(continuation=ends_on_continuation(transcript), complete_p=complete_p)


@dataclass(frozen=True)
class TurnDecision:
    """One decision: what to do, why, and at how much silence (ms of audio) it was taken."""

    action: Action
    reason: Reason
    silence_ms: int


class EndOfTurn:
    """The per-stream state machine. See the module docstring for the call order."""

    def __init__(self, policy: EndOfTurnPolicy) -> None:
        self.policy = policy
        self._next_check_ms = policy.checkpoint_ms
        self._cap_ms = policy.cap_ms
        self._pending = False
        self._checks = 0

    def speech(self) -> None:
        """Speech (re)started: the next silence starts from scratch."""
        self._next_check_ms = self.policy.checkpoint_ms
        self._cap_ms = self.policy.cap_ms
        self._pending = False
        self._checks = 0

    @property
    def rechecks_left(self) -> bool:
        """Whether this silence may still be judged again (``max_rechecks`` not used up): when
        not, it ends at the cap unless speech resumes first."""
        limit = self.policy.max_rechecks
        return limit is None or self._checks <= limit

    def silence(self, silence_ms: int) -> TurnDecision:
        """The silence after speech has grown to ``silence_ms``."""
        if silence_ms >= self._cap_ms:
            return TurnDecision(Action.END, Reason.CAP, silence_ms)
        if silence_ms < self.policy.checkpoint_ms:
            return TurnDecision(Action.WAIT, Reason.SHORT_SILENCE, silence_ms)
        limit = self.policy.max_rechecks
        if (
            self._pending
            or silence_ms < self._next_check_ms
            or (limit is not None and self._checks > limit)
        ):
            return TurnDecision(Action.WAIT, Reason.WAITING_RECHECK, silence_ms)
        self._pending = True
        self._checks += 1
        return TurnDecision(Action.ASK, Reason.CHECKPOINT, silence_ms)

    def judged(self, silence_ms: int, acoustic: float, text: TextCue | None = None) -> TurnDecision:
        """The caller's judgement for the checkpoint it was asked about (at ``silence_ms``)."""
        self._pending = False
        first = self._next_check_ms == self.policy.checkpoint_ms  # no check yet this silence
        self._next_check_ms = silence_ms + self.policy.recheck_ms
        combined = self.policy.combined_threshold
        if not first:
            combined = self.policy.recheck_combined_threshold
        if text is not None and text.continuation:
            self._cap_ms = self.policy.hold_cap_ms
            reason = Reason.CONTINUATION_WORD
        elif acoustic < self.policy.acoustic_threshold:
            reason = Reason.ACOUSTIC_INCOMPLETE
        elif (
            text is not None
            and text.complete_p is not None
            and (
                text.complete_p < self.policy.text_threshold
                or _logit(acoustic) + _logit(text.complete_p) < combined
            )
        ):
            reason = Reason.TEXT_INCOMPLETE
        else:
            return TurnDecision(Action.END, Reason.COMPLETE, silence_ms)
        if silence_ms >= self._cap_ms:
            return TurnDecision(Action.END, Reason.CAP, silence_ms)
        return TurnDecision(Action.WAIT, reason, silence_ms)
