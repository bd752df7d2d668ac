"""Backchannel phrases vs anything else, from transcripts."""

from __future__ import annotations

import pytest

from dsp.backchannel import backchannel_phrase, normalise


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Uh-huh.", "uh huh"),
        ("Mm-hmm.", "mm hmm"),
        ("mhm", "mhm"),
        ("Yeah.", "yeah"),
        ("Yeah, yeah.", "yeah"),
        ("Okay.", "okay"),
        ("OK!", "ok"),
        ("Right.", "right"),
        ("Sure.", "sure"),
        ("Got it.", "got it"),
        ("I see.", "i see"),
        ("Okay, got it.", "okay got it"),
    ],
)
def test_backchannels(text: str, phrase: str) -> None:
    assert backchannel_phrase(text) == phrase


@pytest.mark.parametrize(
    "text",
    [
        "Stop.",
        "Wait, wait.",
        "No, that is not what I asked.",
        "Hold on a second.",
        "Yeah, but what about the mug?",
        "Okay stop.",
        "I",
        "got",
        "yeah yeah yeah yeah",
        "",
        "   ",
    ],
)
def test_not_backchannels(text: str) -> None:
    assert backchannel_phrase(text) is None


def test_normalise_unifies_spellings_and_punctuation() -> None:
    assert normalise("  Uh-Huh!  Mm-hmm… OK. ") == "uh huh mm hmm ok"
