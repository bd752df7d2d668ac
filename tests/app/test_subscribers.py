"""``app.subscribers.Subscribers``: order, once-only, unsubscribe, a failing listener."""

from __future__ import annotations

import pytest

from app.model import ModelEvent, NoticeChanged, TranscriptReset
from app.subscribers import Subscribers


def test_publish_in_order_once_and_survives_a_failing_listener(
    caplog: pytest.LogCaptureFixture,
) -> None:
    subs = Subscribers()
    seen: list[tuple[str, ModelEvent]] = []

    def first(e: ModelEvent) -> None:
        seen.append(("first", e))

    def broken(e: ModelEvent) -> None:
        raise RuntimeError("view bug")

    def last(e: ModelEvent) -> None:
        seen.append(("last", e))

    for listener in (first, broken, first, last):
        subs.subscribe(listener)
    subs.publish(NoticeChanged("hello"))
    assert seen == [("first", NoticeChanged("hello")), ("last", NoticeChanged("hello"))]
    assert "view bug" in caplog.text

    subs.unsubscribe(first)
    subs.unsubscribe(first)  # not subscribed any more: nothing happens
    seen.clear()
    subs.publish(TranscriptReset())
    assert seen == [("last", TranscriptReset())]
