"""What the window needs from the assistant: ``AssistantPort``, a small Qt-free contract.

It adds no values of its own: states, modes, turns, spend, meters and the change events are the
app's one vocabulary (:mod:`app.model`). The real assistant is adapted to this port in
:mod:`app.gui.adapter`; tests and ``bench/bench_gui.py`` use ``tests.app.gui.fake_assistant``.

Threads and call order:

- commands (``connect``, ``send_text`` …) are called on the GUI thread and return at once (the
  work runs on the assistant's engine thread or the adapter's workers);
- ``subscribe(listener)``: ``listener(event)`` is then called with every ``ModelEvent`` on ANY
  thread (usually the engine thread); it must be cheap. The window hands events to
  :class:`app.gui.events.ModelEventQueue`, which delivers them coalesced, at most once per
  frame, on the GUI thread;
- ``current_events()``: the events that render the assistant's present state on a blank view,
  in order (state, mode, transcript, spend, time left, camera, recording). Call it after
  ``subscribe`` so no change falls between the two (applying an event twice is harmless);
- ``meters()`` and ``preview_frame()`` are polled by GUI timers: cheap, non-blocking, the latest
  value only.
"""

from __future__ import annotations

from typing import Protocol

from app.backends import BackendInfo
from app.config import Settings
from app.model import Frame, Meters, Mode, ModelEvent, ModelListener
from app.privacy_status import SendingState

__all__ = ["AssistantPort"]


class AssistantPort(Protocol):
    """The assistant as the window sees it (see the module docstring for threads)."""

    def backends(self) -> tuple[BackendInfo, ...]: ...
    def subscribe(self, listener: ModelListener) -> None: ...
    def unsubscribe(self, listener: ModelListener) -> None: ...
    def current_events(self) -> tuple[ModelEvent, ...]: ...

    # commands (GUI thread, return at once)
    def connect(self, backend: str, model: str, voice: str) -> None: ...
    def disconnect(self) -> None: ...
    def set_mode(self, mode: Mode) -> None: ...
    def talk_start(self) -> None: ...
    def talk_end(self) -> None: ...
    def set_camera(self, on: bool) -> None: ...
    def set_screen(self, on: bool) -> None: ...
    def look_at_this(self) -> None: ...
    def send_text(self, text: str) -> None: ...
    def set_recording(self, on: bool) -> None: ...
    def pause_sending(self, on: bool) -> None:
        """The privacy pause: no microphone audio and no frame leaves the machine while on."""
        ...

    def apply_settings(self, settings: Settings) -> None:
        """Used from the next conversation on (the mode and the budgets at once)."""
        ...

    # polled by GUI timers (cheap, latest value only)
    def meters(self) -> Meters | None: ...
    def sending_state(self) -> SendingState:
        """What leaves the machine now, and to whom (the privacy chip)."""
        ...

    def preview_frame(self) -> Frame | None:
        """The newest camera/screen frame while one is on (BGR ``image``, ``seq``)."""
        ...

    def close(self) -> None:
        """Stop everything (blocking; call after the window closed)."""
        ...
