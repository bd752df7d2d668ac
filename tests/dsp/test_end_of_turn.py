"""The pure end-of-turn decision: checkpoints, judgements, caps, all on audio time."""

from __future__ import annotations

from dsp.end_of_turn import (
    Action,
    EndOfTurn,
    Reason,
    TextCue,
    ends_on_continuation,
    policy_for,
)


def _run(eot: EndOfTurn, acoustic: float, text: TextCue | None, until_ms: int) -> list[object]:
    """Feed 20 ms chunks of silence; answer every ASK with the given judgement."""
    decisions = []
    for silence_ms in range(20, until_ms + 1, 20):
        d = eot.silence(silence_ms)
        if d.action is Action.ASK:
            decisions.append(("ask", silence_ms))
            d = eot.judged(silence_ms, acoustic, text)
        if d.action is Action.END:
            decisions.append((d.reason, silence_ms))
            return decisions
    return decisions


def test_nothing_is_decided_before_the_checkpoint() -> None:
    eot = EndOfTurn(policy_for("high"))
    d = eot.silence(100)
    assert d.action is Action.WAIT and d.reason is Reason.SHORT_SILENCE


def test_complete_speech_ends_at_the_first_checkpoint_per_eagerness() -> None:
    for eagerness, checkpoint in (("high", 160), ("medium", 200), ("auto", 200), ("low", 260)):
        out = _run(EndOfTurn(policy_for(eagerness)), 0.9, TextCue.of("What time is it?"), 5000)
        assert out == [("ask", checkpoint), (Reason.COMPLETE, checkpoint)], eagerness


def test_unfinished_speech_waits_and_rechecks_until_the_cap() -> None:
    out = _run(EndOfTurn(policy_for("medium")), 0.1, None, 5000)
    asks = [ms for kind, ms in out if kind == "ask"]
    assert asks[:3] == [200, 460, 720]  # the recheck follows the checkpoint every 250 ms + chunk
    assert out[-1] == (Reason.CAP, 1300)


def test_caps_grow_as_eagerness_falls() -> None:
    caps = [_run(EndOfTurn(policy_for(e)), 0.0, None, 9000)[-1] for e in ("high", "medium", "low")]
    assert caps == [(Reason.CAP, 1000), (Reason.CAP, 1300), (Reason.CAP, 2500)]


def test_a_transcript_ending_on_a_conjunction_holds_past_the_normal_cap() -> None:
    out = _run(EndOfTurn(policy_for("medium")), 0.95, TextCue.of("Can you tell me and"), 9000)
    assert out[-1] == (Reason.CAP, 2500)
    assert all(kind != Reason.COMPLETE for kind, _ in out)


def test_a_low_text_score_vetoes_an_acoustic_complete() -> None:
    eot = EndOfTurn(policy_for("high"))
    assert eot.silence(160).action is Action.ASK
    d = eot.judged(160, 0.9, TextCue(continuation=False, complete_p=0.001))
    assert d.action is Action.WAIT and d.reason is Reason.TEXT_INCOMPLETE


def test_speech_resets_the_checkpoints_and_the_cap() -> None:
    eot = EndOfTurn(policy_for("medium"))
    assert eot.silence(200).action is Action.ASK
    eot.judged(200, 0.9, TextCue.of("so the thing is"))
    eot.speech()
    assert eot.silence(1400).reason is Reason.CAP  # back to the normal 1.3 s cap
    eot.speech()
    assert eot.silence(200).action is Action.ASK


def test_only_one_question_is_outstanding() -> None:
    eot = EndOfTurn(policy_for("high"))
    assert eot.silence(160).action is Action.ASK
    assert eot.silence(400).reason is Reason.WAITING_RECHECK  # the answer has not come yet


def test_continuation_words() -> None:
    assert ends_on_continuation("I want to know how many fingers and")
    assert ends_on_continuation("so the thing I wanted to ask is um")
    assert ends_on_continuation("What does the")
    assert not ends_on_continuation("What does the sign on the wall say?")
    assert not ends_on_continuation("Read the sign for me")
    assert not ends_on_continuation("")


def test_two_borderline_scores_do_not_end_the_turn_together() -> None:
    """P 0.5 from the model and 0.04 from the words: each passes its own threshold, their
    log-odds sum does not (a hesitation after "What is twelve" scored this)."""
    out = _run(EndOfTurn(policy_for("medium")), 0.5, TextCue(False, 0.04), 5000)
    assert out[-1] == (Reason.CAP, 1300)
    out = _run(EndOfTurn(policy_for("medium")), 0.9, TextCue(False, 0.04), 5000)
    assert out == [("ask", 200), (Reason.COMPLETE, 200)]


def test_a_recheck_needs_strong_evidence() -> None:
    """Smart Turn's P drifts up as the silence grows: judged unfinished at the checkpoint, the
    turn ends at a re-check only when both scores are clearly complete."""
    eot = EndOfTurn(policy_for("medium"))
    assert eot.silence(200).action is Action.ASK
    assert eot.judged(200, 0.3, TextCue(False, 0.3)).action is Action.WAIT
    assert eot.silence(460).action is Action.ASK
    d = eot.judged(460, 0.9, TextCue(False, 0.3))  # would end a first checkpoint
    assert d.action is Action.WAIT and d.reason is Reason.TEXT_INCOMPLETE
    assert eot.silence(720).action is Action.ASK
    assert eot.judged(720, 0.99, TextCue(False, 0.5)).reason is Reason.COMPLETE


def test_max_rechecks_limits_the_questions_per_silence() -> None:
    from dataclasses import replace

    out = _run(EndOfTurn(replace(policy_for("medium"), max_rechecks=1)), 0.1, None, 5000)
    assert [ms for kind, ms in out if kind == "ask"] == [200, 460]
    assert out[-1] == (Reason.CAP, 1300)


def test_rechecks_left_says_when_only_the_cap_or_speech_can_end_the_silence() -> None:
    from dataclasses import replace

    eot = EndOfTurn(replace(policy_for("medium"), max_rechecks=1))
    assert eot.rechecks_left
    assert eot.silence(200).action is Action.ASK
    eot.judged(200, 0.1)
    assert eot.rechecks_left  # the re-check is still to come
    assert eot.silence(460).action is Action.ASK
    eot.judged(460, 0.1)
    assert not eot.rechecks_left  # only the cap (or speech) ends this silence now
    eot.speech()
    assert eot.rechecks_left
    assert EndOfTurn(policy_for("medium")).rechecks_left  # no limit: always


def test_the_shared_clips_checkpoints_that_chose_the_thresholds() -> None:
    """(Smart Turn P, words' P) measured at the checkpoints of the shared turn clips (audio time,
    so the same on every run): the hesitation in paused05_espeak ("What is weld?") waits at the
    checkpoint and the re-check; the finished questions end, at the first checkpoint or, for
    the least sure one, at the re-check."""
    hesitation = EndOfTurn(policy_for("auto"))
    assert hesitation.silence(214).action is Action.ASK
    assert hesitation.judged(214, 0.541, TextCue(False, 0.3384)).action is Action.WAIT
    assert hesitation.silence(489).action is Action.ASK
    assert hesitation.judged(489, 0.808, TextCue(False, 0.3384)).action is Action.WAIT
    for acoustic, words in ((0.643, 0.0861), (0.812, 0.0397), (0.703, 0.8977)):
        finished = EndOfTurn(policy_for("auto"))
        assert finished.silence(214).action is Action.ASK
        d = finished.judged(214, acoustic, TextCue(False, words))
        assert d.reason is Reason.COMPLETE, (acoustic, words)
    unsure = EndOfTurn(policy_for("auto"))  # complete03_espeak
    assert unsure.silence(214).action is Action.ASK
    assert unsure.judged(214, 0.507, TextCue(False, 0.2786)).action is Action.WAIT
    assert unsure.silence(489).action is Action.ASK
    assert unsure.judged(489, 0.970, TextCue(False, 0.2786)).reason is Reason.COMPLETE
