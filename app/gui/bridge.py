"""One QObject turning the assistant's listener callbacks into queued Qt signals.

The assistant calls the listener methods from its engine thread; each one emits a signal whose
receivers live on the GUI thread, so Qt queues the call (``AutoConnection`` across threads).
Only immutable values cross: frozen dataclasses, ``bytes``, ``str``, numbers. Every text that
reaches the window is scrubbed of the secrets the process holds (messages also of key shapes).

No signal per audio block: meters and preview are not here; GUI timers poll them.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from app.gui.model import AssistantModel, Loading, StateInfo, Turn, Usage
from app.scrubbed_output import scrub_all, scrub_held


class AssistantBridge(QObject):
    """Implements :class:`app.gui.model.AssistantListener`; register with ``attach()``.

    Call ``detach()`` before the assistant or the bridge goes away (the window does it on close).
    """

    state_changed = Signal(object)  # StateInfo
    turn_updated = Signal(object)  # Turn
    usage_changed = Signal(object)  # Usage
    time_left_changed = Signal(object)  # float | None
    loading_changed = Signal(object)  # Loading
    frame_sent = Signal(bytes, object)  # jpeg, t_ns (int: too large for a C int)
    recording_changed = Signal(bool, object, object)  # on, path | None, error | None
    transcript_reset = Signal()
    notice = Signal(str)
    camera_changed = Signal(bool)

    def __init__(self, assistant: AssistantModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._assistant = assistant
        self._attached = False

    def attach(self) -> None:
        if not self._attached:
            self._assistant.add_listener(self)
            self._attached = True

    def detach(self) -> None:
        if self._attached:
            self._assistant.remove_listener(self)
            self._attached = False

    # ----------------------------------------------------------- listener (any thread)
    def on_state(self, info: StateInfo) -> None:
        if info.message:
            info = replace(info, message=scrub_all(info.message))
        self.state_changed.emit(info)

    def on_turn(self, turn: Turn) -> None:
        self.turn_updated.emit(
            replace(turn, text=scrub_held(turn.text), unheard=scrub_held(turn.unheard))
        )

    def on_usage(self, usage: Usage) -> None:
        self.usage_changed.emit(usage)

    def on_time_left(self, seconds: float | None) -> None:
        self.time_left_changed.emit(seconds)

    def on_loading(self, loading: Loading) -> None:
        self.loading_changed.emit(loading)

    def on_frame_sent(self, jpeg: bytes, t_ns: int) -> None:
        self.frame_sent.emit(bytes(jpeg), int(t_ns))

    def on_recording(self, on: bool, path: str | None, error: str | None) -> None:
        self.recording_changed.emit(bool(on), path, scrub_all(error) if error else error)

    def on_transcript_reset(self) -> None:
        self.transcript_reset.emit()

    def on_notice(self, message: str) -> None:
        self.notice.emit(scrub_all(str(message)))

    def on_camera(self, on: bool) -> None:
        self.camera_changed.emit(bool(on))
