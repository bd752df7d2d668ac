"""A fake assistant implementing app.gui.port.AssistantPort: records calls, lets tests publish
``app.model`` events to the subscribers exactly as the real assistant does (optionally from a
thread), and serves meters and a preview frame."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np

from app.backends import BACKENDS, BackendInfo
from app.config import Settings
from app.model import (
    CameraChanged,
    Frame,
    FrameSent,
    Loading,
    LoadingChanged,
    Meters,
    Mode,
    ModelEvent,
    ModelListener,
    RecordingChanged,
    SentFrame,
    Spend,
    SpendChanged,
    State,
    StateChanged,
    TimeLeftChanged,
    Turn,
    TurnUpdated,
)
from app.privacy_status import Destination, SendingState
from video.pacing import Reason


class FakeAssistant:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.subscribers: list[ModelListener] = []
        #: What ``current_events()`` returns (the state a new window renders first).
        self.present: tuple[ModelEvent, ...] = ()
        self.current_meters: Meters | None = Meters()
        self.frame: Frame | None = None
        self.preview_polls = 0
        self.meter_polls = 0
        #: Called after an event published on the main thread (tests set it to the window's
        #: ``events.flush`` so the window shows the change at once instead of next frame).
        self.pump: Any = None
        self._lock = threading.Lock()
        #: What ``sending_state()`` returns (the privacy chip polls it; not recorded as a call).
        self.sending = SendingState(Destination("this computer", local=True), connected=False)

    # -- the port
    def backends(self) -> tuple[BackendInfo, ...]:
        return BACKENDS

    def subscribe(self, listener: ModelListener) -> None:
        self.subscribers.append(listener)

    def unsubscribe(self, listener: ModelListener) -> None:
        self.subscribers.remove(listener)

    def current_events(self) -> tuple[ModelEvent, ...]:
        return self.present

    def _call(self, name: str, *args: Any) -> None:
        with self._lock:
            self.calls.append((name, args))

    def connect(self, backend: str, model: str, voice: str) -> None:
        self._call("connect", backend, model, voice)

    def disconnect(self) -> None:
        self._call("disconnect")

    def set_mode(self, mode: Mode) -> None:
        self._call("set_mode", mode)

    def talk_start(self) -> None:
        self._call("talk_start")

    def talk_end(self) -> None:
        self._call("talk_end")

    def set_camera(self, on: bool) -> None:
        self._call("set_camera", on)

    def set_screen(self, on: bool) -> None:
        self._call("set_screen", on)

    def look_at_this(self) -> None:
        self._call("look_at_this")

    def send_text(self, text: str) -> None:
        self._call("send_text", text)

    def set_recording(self, on: bool) -> None:
        self._call("set_recording", on)

    def apply_settings(self, settings: Settings) -> None:
        self._call("apply_settings", settings)

    def pause_sending(self, on: bool) -> None:
        self._call("pause_sending", on)
        self.sending = replace(self.sending, paused=on)

    def sending_state(self) -> SendingState:
        return self.sending

    def meters(self) -> Meters | None:
        self.meter_polls += 1
        return self.current_meters

    def preview_frame(self) -> Frame | None:
        self.preview_polls += 1
        return self.frame

    def close(self) -> None:
        self._call("close")

    # -- test helpers
    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def emit(self, event: ModelEvent) -> None:
        """Publish ``event`` to the subscribers on this thread (as the engine thread does)."""
        for listener in list(self.subscribers):
            listener(event)
        if self.pump is not None and threading.current_thread() is threading.main_thread():
            self.pump()

    def emit_state(self, state: State, message: str = "") -> None:
        self.emit(StateChanged(state, message))

    def emit_turn(self, turn: Turn) -> None:
        self.emit(TurnUpdated(turn))

    def emit_spend(self, spend: Spend) -> None:
        self.emit(SpendChanged(spend))

    def emit_loading(self, loading: Loading) -> None:
        self.emit(LoadingChanged(loading))

    def emit_time_left(self, s: float | None) -> None:
        self.emit(TimeLeftChanged(s))

    def emit_frame_sent(self, jpeg: bytes) -> None:
        frame = SentFrame(jpeg, time.monotonic_ns(), Reason.INTERVAL, 640, 360, snapshot=False)
        self.emit(FrameSent(frame))

    def emit_recording(self, on: bool, error: str | None = None) -> None:
        self.emit(RecordingChanged(on, None, error))

    def emit_camera(self, on: bool) -> None:
        self.emit(CameraChanged(on))

    def set_preview(self, image: np.ndarray, seq: int) -> None:
        self.frame = Frame(image, time.monotonic_ns(), seq)
