"""Model events reach the GUI thread coalesced: the pure reduction, and the queue's delivery
(at most once per frame, on the queue's thread, nothing after close)."""

from __future__ import annotations

import threading

import pytest

from app.gui.events import ModelEventQueue, coalesce
from app.model import (
    CameraChanged,
    FrameSent,
    Loading,
    LoadingChanged,
    SentFrame,
    Spend,
    SpendChanged,
    State,
    StateChanged,
    TimeLeftChanged,
    TranscriptReset,
    Turn,
    TurnUpdated,
    Usage,
)
from video.pacing import Reason

pytestmark = pytest.mark.gui


def turn(seq: int, text: str, partial: bool = True) -> TurnUpdated:
    return TurnUpdated(Turn(seq, "assistant", text, partial=partial))


def frame(n: int) -> FrameSent:
    return FrameSent(SentFrame(b"jpeg%d" % n, n, Reason.INTERVAL, 64, 36, snapshot=False))


def test_latest_update_of_each_turn_at_its_first_place() -> None:
    out = coalesce([turn(1, "a"), turn(2, "x"), turn(1, "ab"), turn(2, "xy"), turn(1, "abc")])
    assert [(e.turn.seq, e.turn.text) for e in out] == [(1, "abc"), (2, "xy")]


def test_every_state_change_kept_in_order_latest_values_once() -> None:
    spend = Spend(Usage(input_tokens=5), 0.01)
    events = [
        StateChanged(State.THINKING),
        TimeLeftChanged(100.0),
        SpendChanged(Spend()),
        StateChanged(State.ASSISTANT_SPEAKING),
        TimeLeftChanged(99.0),
        SpendChanged(spend),
        LoadingChanged(Loading(1, 2, "x")),
        CameraChanged(True),
        CameraChanged(False),
    ]
    out = coalesce(events)
    states = [e.state for e in out if isinstance(e, StateChanged)]
    assert states == [State.THINKING, State.ASSISTANT_SPEAKING]
    assert [e.seconds for e in out if isinstance(e, TimeLeftChanged)] == [99.0]
    assert [e.spend for e in out if isinstance(e, SpendChanged)] == [spend]
    assert [e.on for e in out if isinstance(e, CameraChanged)] == [False]
    assert len(out) == 6


def test_reset_keeps_the_turns_before_it_in_their_conversation() -> None:
    # the window keeps the ended conversation above a divider (issue 14, item 11)
    out = coalesce([turn(1, "ol"), turn(1, "old"), TranscriptReset(), turn(1, "new"), turn(2, "b")])
    names = [type(e).__name__ for e in out]
    assert names == ["TurnUpdated", "TranscriptReset", "TurnUpdated", "TurnUpdated"]
    assert [out[0].turn.text, out[2].turn.text] == ["old", "new"]


def test_frames_kept_in_order_newest_only_beyond_the_strip() -> None:
    out = coalesce([frame(i) for i in range(40)], keep_frames=30)
    assert [e.frame.t_ns for e in out] == list(range(10, 40))


def test_queue_delivers_once_per_burst_on_its_thread(qtbot) -> None:
    q = ModelEventQueue()
    got: list[tuple[int, list]] = []
    q.delivered.connect(lambda batch: got.append((threading.get_ident(), batch)))

    def engine() -> None:
        for i in range(200):
            q.push(turn(1, "x" * i))

    t = threading.Thread(target=engine)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: len(got) == 1)
    qtbot.wait(40)
    assert len(got) == 1 and got[0][0] == threading.get_ident()
    assert [e.turn.text for e in got[0][1]] == ["x" * 199]
    assert (q.pushed, q.deliveries) == (200, 1)
    q.close()


def test_queue_waits_a_frame_after_a_delivery(qtbot) -> None:
    """Two pushes right after each other on the GUI thread: the second waits for the next frame
    (one delivery each, not one per push, and never two within ``frame_ms``)."""
    q = ModelEventQueue(frame_ms=200)
    got: list[list] = []
    q.delivered.connect(got.append)
    q.push(turn(1, "a"))
    qtbot.waitUntil(lambda: len(got) == 1)
    q.push(turn(1, "ab"))
    q.push(turn(1, "abc"))
    qtbot.wait(50)
    assert len(got) == 1  # still inside the 200 ms frame
    qtbot.waitUntil(lambda: len(got) == 2, timeout=2000)
    assert got[1][0].turn.text == "abc"
    q.close()


def test_flush_delivers_now_and_close_stops_deliveries(qtbot) -> None:
    q = ModelEventQueue()
    got: list[list] = []
    q.delivered.connect(got.append)
    q.push(StateChanged(State.LISTENING))
    q.flush()
    assert len(got) == 1
    q.close()
    q.push(StateChanged(State.IDLE))
    q.flush()
    qtbot.wait(40)
    assert len(got) == 1
