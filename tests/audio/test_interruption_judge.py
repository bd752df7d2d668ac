"""InterruptionJudge on hand-made evidence and a simulated clock (pure)."""

from __future__ import annotations

import pytest

from audio.interruption_judge import (
    Duck,
    Hold,
    Interrupt,
    InterruptionJudge,
    JudgeAction,
    JudgeConfig,
    Reason,
    Restore,
    Transcribe,
)
from dsp.onset import Evidence
from dsp.onset import Reason as OnsetReason

MS = 1_000_000


def ev(t_ms: int, kind: str) -> Evidence:
    onset, voiced, reason = {
        "onset": (True, True, OnsetReason.ONSET),
        "voiced": (False, True, OnsetReason.VOICED),
        "hangover": (False, False, OnsetReason.HANGOVER),
        "released": (False, False, OnsetReason.RELEASED),
        "quiet": (False, False, OnsetReason.QUIET),
        "echo": (False, False, OnsetReason.ECHO),
    }[kind]
    return Evidence(t_ms * MS, onset, voiced, reason, -30.0, -70.0, -60.0)


def feed(j: InterruptionJudge, t0: int, pattern: list[tuple[str, int]], playing: bool = True):
    """``pattern``: (kind, blocks) runs from ``t0`` ms; returns (actions, end time ms)."""
    out: list[JudgeAction] = []
    t = t0
    for kind, n in pattern:
        for _ in range(n):
            out += j.on_evidence(ev(t, kind), playing)
            t += 10
    return out, t


def test_onset_over_a_reply_ducks_at_once_then_holds_at_the_deadline() -> None:
    j = InterruptionJudge(JudgeConfig(hold_after_ms=120))
    acts, _ = feed(j, 0, [("quiet", 5), ("onset", 1)])
    assert len(acts) == 1 and isinstance(acts[0], Duck)
    assert acts[0].reason is Reason.ONSET and acts[0].t_ns == 50 * MS
    assert acts[0].gain <= 0.1  # at least 20 dB down
    acts, _ = feed(j, 60, [("voiced", 12)])
    holds = [a for a in acts if isinstance(a, Hold)]
    assert len(holds) == 1 and holds[0].t_ns == 170 * MS  # 120 ms after the onset
    assert holds[0].reason is Reason.DEADLINE


def test_no_action_without_a_reply_or_on_echo() -> None:
    j = InterruptionJudge()
    assert feed(j, 0, [("onset", 1), ("voiced", 30)], playing=False)[0] == []
    j = InterruptionJudge()
    assert feed(j, 0, [("echo", 200), ("quiet", 10)])[0] == []


def test_a_click_comes_to_nothing_and_restores() -> None:
    j = InterruptionJudge(JudgeConfig(min_voice_ms=60))
    acts, _ = feed(j, 0, [("onset", 1), ("voiced", 2), ("hangover", 11), ("released", 1)])
    assert [type(a) for a in acts] == [Duck, Restore]
    assert acts[-1].reason is Reason.TOO_SHORT  # type: ignore[union-attr]
    assert not j.deciding


def test_short_voice_is_transcribed_and_a_backchannel_restores() -> None:
    j = InterruptionJudge(JudgeConfig(preroll_ms=40))
    acts, t = feed(j, 0, [("onset", 1), ("voiced", 30), ("hangover", 11), ("released", 1)])
    tr = [a for a in acts if isinstance(a, Transcribe)]
    assert len(tr) == 1
    assert tr[0].from_ns == -40 * MS and tr[0].to_ns == (310 + 50) * MS
    assert any(isinstance(a, Hold) for a in acts)
    acts = j.on_transcript(tr[0].seq, "Mm-hmm.", t * MS)
    assert len(acts) == 1 and isinstance(acts[0], Restore)
    assert acts[0].reason is Reason.BACKCHANNEL and acts[0].phrase == "mm hmm"


@pytest.mark.parametrize(("text", "reason"), [("Stop.", Reason.WORDS), ("", Reason.NO_WORDS)])
def test_transcript_decides(text: str, reason: Reason) -> None:
    j = InterruptionJudge()
    acts, t = feed(j, 0, [("onset", 1), ("voiced", 30), ("released", 1)])
    seq = next(a for a in acts if isinstance(a, Transcribe)).seq
    (act,) = j.on_transcript(seq, text, t * MS)
    assert act.reason is reason
    assert isinstance(act, Interrupt if reason is Reason.WORDS else Restore)


def test_long_voice_interrupts_without_waiting_for_words() -> None:
    j = InterruptionJudge(JudgeConfig(max_backchannel_ms=900))
    acts, _ = feed(j, 0, [("onset", 1), ("voiced", 100)])
    stops = [a for a in acts if isinstance(a, Interrupt)]
    assert len(stops) == 1 and stops[0].reason is Reason.TOO_LONG
    assert 890 * MS <= stops[0].t_ns <= 900 * MS
    assert not any(isinstance(a, Transcribe) for a in acts)


def test_voice_resuming_makes_the_pending_transcript_stale() -> None:
    j = InterruptionJudge()
    acts, t = feed(j, 0, [("onset", 1), ("voiced", 20), ("released", 1)])
    old = next(a for a in acts if isinstance(a, Transcribe)).seq
    acts, t = feed(j, t, [("onset", 1), ("voiced", 10), ("released", 1)])
    new = next(a for a in acts if isinstance(a, Transcribe))
    assert new.seq != old and new.from_ns < 0  # the snippet still starts at the first onset
    assert j.on_transcript(old, "Yeah.", t * MS) == []
    assert isinstance(j.on_transcript(new.seq, "Yeah, but no.", t * MS)[0], Interrupt)


def test_late_or_failed_transcripts_and_no_transcriber_interrupt() -> None:
    j = InterruptionJudge(JudgeConfig(transcript_timeout_ms=1000))
    acts, t = feed(j, 0, [("onset", 1), ("voiced", 20), ("released", 1)])
    assert j.poll((t + 500) * MS) == []
    (late,) = j.poll((t + 1000) * MS)
    assert isinstance(late, Interrupt) and late.reason is Reason.TRANSCRIPT_LATE
    j = InterruptionJudge()
    acts, t = feed(j, 0, [("onset", 1), ("voiced", 20), ("released", 1)])
    seq = next(a for a in acts if isinstance(a, Transcribe)).seq
    assert j.on_transcript(seq, None, t * MS)[0].reason is Reason.NO_TRANSCRIBER
    j = InterruptionJudge(can_transcribe=False)
    acts, _ = feed(j, 0, [("onset", 1), ("voiced", 20), ("released", 1)])
    assert acts[-1].reason is Reason.NO_TRANSCRIBER and isinstance(acts[-1], Interrupt)


def test_config_refuses_a_shallow_duck() -> None:
    with pytest.raises(ValueError, match="20 dB"):
        JudgeConfig(duck_db=-10.0)
