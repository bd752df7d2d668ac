"""Model events into the GUI thread: coalesced, at most one delivery per frame.

The assistant calls its subscribers on its engine thread, sometimes hundreds of times a second
(transcript deltas, spend, time left). The window must not repaint for each, and Qt widgets may
only be touched on the GUI thread. :class:`ModelEventQueue`:

- ``push(event)`` (any thread): appends under a lock; the first event after a delivery schedules
  one (a queued signal to the GUI thread). Nothing else runs on the caller's thread;
- the GUI thread delivers no sooner than ``FRAME_MS`` after the previous delivery: one
  ``delivered(events)`` signal with the batch reduced by :func:`coalesce`;
- ``flush()`` (GUI thread) delivers what is queued now (window construction, tests).

:func:`coalesce` is pure: the latest update of each turn (at the place the turn first
appeared), the latest value of each "current value" event (spend, time left, loading, mode,
notice, camera, recording, budget), every state change (the window acts on each, then renders
once), every frame sent (the thumbnail strip keeps the newest few), and every ``TranscriptReset``
in its place: the turn updates before it belong to the conversation that ended (the window keeps
it above a divider, issue 14 item 11), those after it to the new one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from app.model import (
    BudgetChanged,
    CameraChanged,
    FrameSent,
    LoadingChanged,
    ModeChanged,
    ModelEvent,
    NoticeChanged,
    RecordingChanged,
    ServerErrorReported,
    SpendChanged,
    StateChanged,
    TimeLeftChanged,
    TranscriptReset,
    TurnCompleted,
    TurnUpdated,
)

__all__ = ["FRAME_MS", "ModelEventQueue", "coalesce"]

#: One display frame (ms): the shortest interval between two deliveries.
FRAME_MS = 16

_LATEST_VALUE = (
    SpendChanged,
    TimeLeftChanged,
    LoadingChanged,
    ModeChanged,
    NoticeChanged,
    CameraChanged,
    RecordingChanged,
    TurnCompleted,
    BudgetChanged,
)


def coalesce(events: Sequence[ModelEvent], keep_frames: int = 30) -> list[ModelEvent]:
    """Reduce a batch to what a view needs to show its end state (see the module doc)."""
    slots: dict[tuple[str, object], ModelEvent] = {}
    frames = 0
    conversation = 0  # turn ids start again after a reset
    for i, event in enumerate(events):
        key: tuple[str, object]
        if isinstance(event, TurnUpdated):
            key = ("turn", (conversation, event.turn.turn_id))
        elif isinstance(event, TranscriptReset):
            conversation += 1
            key = ("reset", i)
        elif isinstance(event, _LATEST_VALUE):
            key = ("latest", type(event).__name__)
            slots.pop(key, None)  # moves to the end: after the state changes queued before it
        elif isinstance(event, FrameSent):
            key = ("frame", i)
            frames += 1
        elif isinstance(event, StateChanged | ServerErrorReported):
            key = ("event", i)
        else:  # a new kind of event: delivered as it is
            key = ("event", i)
        slots[key] = event
    out = list(slots.values())
    if frames > keep_frames:  # only the newest ``keep_frames`` can be shown
        drop = frames - keep_frames
        kept: list[ModelEvent] = []
        for e in out:
            if isinstance(e, FrameSent) and drop > 0:
                drop -= 1
                continue
            kept.append(e)
        out = kept
    return out


class ModelEventQueue(QObject):
    """Thread-safe inbox for model events; delivers coalesced batches on its own thread (the
    thread it was created on: the GUI thread). ``close()`` stops deliveries."""

    #: ``list[ModelEvent]``, coalesced; at most once per ``FRAME_MS``.
    delivered = Signal(object)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None, frame_ms: int = FRAME_MS) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: list[ModelEvent] = []
        self._scheduled = False
        self._closed = False
        self._frame_ms = frame_ms
        self._last_delivery = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._wake.connect(self._schedule)  # queued when pushed from another thread
        #: Statistics for the benchmark: events pushed and batches delivered.
        self.pushed = 0
        self.deliveries = 0

    def push(self, event: ModelEvent) -> None:
        """Any thread. Queue ``event``; schedules a delivery if none is pending."""
        with self._lock:
            if self._closed:
                return
            self._pending.append(event)
            self.pushed += 1
            if self._scheduled:
                return
            self._scheduled = True
        self._wake.emit()

    def _schedule(self) -> None:
        """GUI thread: deliver at the next frame boundary."""
        if self._closed or self._timer.isActive():
            return
        since_ms = (time.monotonic() - self._last_delivery) * 1000.0
        self._timer.start(max(0, round(self._frame_ms - since_ms)))

    def flush(self) -> None:
        """GUI thread: deliver everything queued now (nothing if empty)."""
        self._timer.stop()
        with self._lock:
            batch, self._pending = self._pending, []
            self._scheduled = False
            if self._closed:
                return
        if not batch:
            return
        self._last_delivery = time.monotonic()
        self.deliveries += 1
        self.delivered.emit(coalesce(batch))

    def close(self) -> None:
        """GUI thread: drop what is queued and deliver nothing more."""
        with self._lock:
            self._closed = True
            self._pending = []
        self._timer.stop()
