"""SmolLM2's end-of-utterance score (``dsp.text_end``) on the shared clips' transcripts."""

from __future__ import annotations

import pytest

from dsp.end_of_turn import policy_for
from dsp.text_end import TextEndScorer


@pytest.fixture(scope="module")
def scorer() -> TextEndScorer:
    s = TextEndScorer()
    s.load()
    return s


# What Whisper tiny wrote for the first halves of the paused questions, and for whole ones.
UNFINISHED = (
    "Can you tell me?",
    "I want to know how many.",
    "Read me the text on.",
    "Is it too dark?",
)
FINISHED = ("What time is it?", "Read the sign for me.", "What does the sign on the wall say?")


def test_unfinished_clauses_score_below_the_cut_and_finished_ones_above(
    scorer: TextEndScorer,
) -> None:
    cut = policy_for("medium").text_threshold
    assert all(scorer.complete_p(t) < cut for t in UNFINISHED), UNFINISHED
    assert all(scorer.complete_p(t) > cut for t in FINISHED), FINISHED


def test_the_closing_punctuation_does_not_decide(scorer: TextEndScorer) -> None:
    assert scorer.complete_p("Can you tell me?") == pytest.approx(
        scorer.complete_p("Can you tell me")
    )
    assert scorer.complete_p("  ") == 0.0 and scorer.complete_p("...") == 0.0


def test_scores_do_not_depend_on_the_previous_call(scorer: TextEndScorer) -> None:
    first = scorer.complete_p("What time is it")
    scorer.complete_p("So the thing I wanted to ask is")
    assert scorer.complete_p("What time is it") == pytest.approx(first, rel=1e-4)
