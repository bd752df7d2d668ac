"""The camera and screen-share switches: one video source at a time, the preview follows.

``VideoSwitches`` connects the window's camera/screen buttons to the assistant (which returns
at once) and polls the preview frame (scaled on the preview's worker). A change the assistant
made itself (``CameraChanged``) is shown without calling it back. GUI thread only.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from app.gui.layout import MainWindowUi
from app.gui.port import AssistantPort


class VideoSwitches:
    """The camera and screen buttons of ``ui``, kept exclusive, driving ``assistant``."""

    def __init__(self, ui: MainWindowUi, assistant: AssistantPort) -> None:
        self.ui = ui
        self.assistant = assistant

    def on_camera(self, on: bool) -> None:
        ui = self.ui
        if on and ui.screen_btn.isChecked():  # one video source at a time
            _set_checked_quietly(ui.screen_btn, False)
        self.assistant.set_camera(on)
        if not on and not ui.screen_btn.isChecked():
            ui.preview.clear()

    def on_screen(self, on: bool) -> None:
        ui = self.ui
        if on and ui.camera_btn.isChecked():
            _set_checked_quietly(ui.camera_btn, False)
        self.assistant.set_screen(on)
        if not on and not ui.camera_btn.isChecked():
            ui.preview.clear()

    def reflect_camera(self, on: bool) -> None:
        """The assistant switched the camera itself: show it without calling back."""
        ui = self.ui
        _set_checked_quietly(ui.camera_btn, on)
        if on and ui.screen_btn.isChecked():
            _set_checked_quietly(ui.screen_btn, False)
        if not on and not ui.screen_btn.isChecked():
            ui.preview.clear()

    def poll_preview(self) -> None:
        ui = self.ui
        if not (ui.camera_btn.isChecked() or ui.screen_btn.isChecked()):
            return
        frame = self.assistant.preview_frame()
        if frame is not None:
            ui.preview.show_frame(frame.image, frame.seq)  # scaled on the preview's worker


def _set_checked_quietly(button: QWidget, on: bool) -> None:
    """Check/uncheck without emitting ``toggled`` (a change the assistant made, not the user)."""
    button.blockSignals(True)
    button.setChecked(on)  # type: ignore[attr-defined]
    button.blockSignals(False)
