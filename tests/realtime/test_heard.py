"""One heard-text rule for the transcript and the reconnect context."""

from __future__ import annotations

import pytest

from app.transcript import Turn
from realtime.context_log import ContextLog
from realtime.events import AudioDelta, ItemTruncated, TranscriptDone
from realtime.heard import heard_index, heard_text, unheard_text

TEXT = "one two three four five six seven eight nine ten"


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.3, 0.333, 0.5, 0.77, 0.99, 1.0])
def test_heard_and_unheard_split_at_a_word_start(fraction: float) -> None:
    i = heard_index(TEXT, fraction)
    assert i == 0 or i == len(TEXT) or TEXT[i - 1] == " " or TEXT[i] == " "
    assert heard_text(TEXT, fraction) + " " + unheard_text(TEXT, fraction) in (
        TEXT,
        " " + TEXT,
        TEXT + " ",
    )


@pytest.mark.parametrize("played_ms", [100, 300, 333, 500, 770])
def test_transcript_and_reconnect_context_keep_the_same_words(played_ms: int) -> None:
    turn = Turn(seq=1, role="assistant", text=TEXT, interrupted=True)
    turn = Turn(**{**turn.__dict__, "played_ms": played_ms, "received_ms": 1000})
    log = ContextLog()
    log.observe(TranscriptDone("a1", TEXT))
    log.observe(AudioDelta("a1", b"\0\0" * 24000, 24000))  # 1000 ms
    log.observe(ItemTruncated("a1", played_ms))
    (item,) = log.items()
    assert item.text.removesuffix("…") == turn.heard_text
