"""A fake assistant implementing app.gui.model.AssistantModel: records calls, lets tests push
changes through the listeners exactly as the real assistant would (optionally from a thread)."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from app.gui.model import (
    AssistantListener,
    Backend,
    Loading,
    Meters,
    Mode,
    PreviewFrame,
    Snapshot,
    State,
    StateInfo,
    Turn,
    Usage,
)


def _backends() -> tuple[Backend, ...]:
    """The real backend list (names, models, voices), as the real adapter reports it."""
    from app.backends import BACKENDS as REAL

    return tuple(Backend(b.name, b.label, b.models, b.voices, b.needs_key) for b in REAL)


BACKENDS = _backends()


class FakeAssistant:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.listeners: list[AssistantListener] = []
        self.snap = Snapshot()
        self.current_meters = Meters()
        self.frame: PreviewFrame | None = None
        self.preview_polls = 0
        self.meter_polls = 0
        self._lock = threading.Lock()

    # -- the protocol
    def backends(self) -> tuple[Backend, ...]:
        return BACKENDS

    def snapshot(self) -> Snapshot:
        return self.snap

    def add_listener(self, listener: AssistantListener) -> None:
        self.listeners.append(listener)

    def remove_listener(self, listener: AssistantListener) -> None:
        self.listeners.remove(listener)

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

    def apply_settings(self, settings: dict[str, Any]) -> None:
        self._call("apply_settings", settings)

    def meters(self) -> Meters:
        self.meter_polls += 1
        return self.current_meters

    def preview_frame(self) -> PreviewFrame | None:
        self.preview_polls += 1
        return self.frame

    def close(self) -> None:
        self._call("close")

    # -- test helpers
    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def emit_state(self, state: State, message: str = "") -> None:
        for lst in list(self.listeners):
            lst.on_state(StateInfo(state, message))

    def emit_turn(self, turn: Turn) -> None:
        for lst in list(self.listeners):
            lst.on_turn(turn)

    def emit_usage(self, usage: Usage) -> None:
        for lst in list(self.listeners):
            lst.on_usage(usage)

    def emit_loading(self, loading: Loading) -> None:
        for lst in list(self.listeners):
            lst.on_loading(loading)

    def emit_time_left(self, s: float | None) -> None:
        for lst in list(self.listeners):
            lst.on_time_left(s)

    def emit_frame_sent(self, jpeg: bytes) -> None:
        for lst in list(self.listeners):
            lst.on_frame_sent(jpeg, time.monotonic_ns())

    def emit_recording(self, on: bool, error: str | None = None) -> None:
        for lst in list(self.listeners):
            lst.on_recording(on, None, error)

    def emit_camera(self, on: bool) -> None:
        for lst in list(self.listeners):
            lst.on_camera(on)

    def set_preview(self, image: np.ndarray, seq: int) -> None:
        self.frame = PreviewFrame(image, seq)
