"""TRANSITIONAL: an object with ``on_state``/``on_turn``/… methods as a ``ModelListener``.

Only for ``app.gui.adapter`` until it subscribes to ``app.model`` events itself; delete this
module then. New code calls ``Assistant.subscribe(callback)`` and dispatches with ``isinstance``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.model import (
    CameraChanged,
    FrameSent,
    LoadingChanged,
    ModeChanged,
    ModelEvent,
    NoticeChanged,
    ServerErrorReported,
    SpendChanged,
    State,
    StateChanged,
    TimeLeftChanged,
    TranscriptReset,
    TurnCompleted,
    TurnUpdated,
)


class OnMethods:
    """Calls ``target.on_<what>(...)`` for each event, as the old listener contract did."""

    def __init__(self, target: object, snapshot: Callable[[], object]) -> None:
        self.target = target
        self._snapshot = snapshot

    def __call__(self, event: ModelEvent) -> None:
        if isinstance(event, StateChanged):
            if event.state != State.LOADING:  # the old contract reported loading separately
                self._call("on_state", event.state, event.message)
        elif isinstance(event, TurnUpdated):
            self._call("on_turn", event.turn)
        elif isinstance(event, SpendChanged):
            self._call("on_usage", self._snapshot())
        elif isinstance(event, TimeLeftChanged):
            self._call("on_time_left", event.seconds)
        elif isinstance(event, FrameSent):
            self._call("on_frame_sent", event.frame)
        elif isinstance(event, NoticeChanged):
            self._call("on_notice", event.message)
        elif isinstance(event, ModeChanged):
            self._call("on_mode", event.mode)
        elif isinstance(event, TurnCompleted):
            self._call("on_turn_complete", event.count)
        elif isinstance(event, TranscriptReset):
            self._call("on_transcript_reset")
        elif isinstance(event, ServerErrorReported):
            self._call("on_server_error", event.error)
        elif isinstance(event, LoadingChanged):
            loading = event.loading
            self._call("on_loading", loading.step, loading.total, loading.what)
        elif isinstance(event, CameraChanged):
            self._call("on_camera", event.on)

    def _call(self, name: str, *args: Any) -> None:
        fn = getattr(self.target, name, None)
        if fn is not None:
            fn(*args)
