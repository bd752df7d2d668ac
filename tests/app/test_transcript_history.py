"""The reconnect context reads the transcript (the one turn model), not a second log."""

from __future__ import annotations

from app.transcript import Transcript, TranscriptHistory
from realtime.context_log import ContextLog
from realtime.events import AddHistoryItem, AudioDelta, ItemTruncated, TranscriptDone

TEXT = "one two three four five six seven eight nine ten"


def test_history_is_what_the_user_saw() -> None:
    t = Transcript()
    t.user_typed("What is on my desk?")
    t.assistant_done("a1", "A red mug.")
    t.user_started("u2")
    t.user_transcript("Tell me a story", True, "u2")
    t.assistant_done("a2", TEXT)
    t.assistant_interrupted("a2", played_ms=400, received_ms=1000)
    t.user_started("u3")  # still speaking, nothing transcribed yet: not replayed
    items = TranscriptHistory(t).items()
    assert items == (
        AddHistoryItem("user", "What is on my desk?"),
        AddHistoryItem("assistant", "A red mug."),
        AddHistoryItem("user", "Tell me a story"),
        AddHistoryItem("assistant", "one two three four…"),
    )
    # the same words the event-derived log would keep for the cut reply
    log = ContextLog()
    log.observe(TranscriptDone("a2", TEXT))
    log.observe(AudioDelta("a2", b"\0\0" * 24000, 24000))
    log.observe(ItemTruncated("a2", 400))
    assert log.items()[-1] == items[-1]


def test_history_is_bounded_newest_first() -> None:
    t = Transcript()
    for i in range(30):
        t.user_typed(f"question {i}")
    items = TranscriptHistory(t, max_turns=5).items()
    assert [i.text for i in items] == [f"question {n}" for n in range(25, 30)]
    items = TranscriptHistory(t, max_chars=25).items()
    assert [i.text for i in items] == ["question 28", "question 29"]
