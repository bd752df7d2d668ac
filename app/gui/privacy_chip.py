"""The privacy chip: always visible, it says what is leaving the machine and to whom.

"Mic + camera 1 fps → OpenAI", "Mic → Gemini, camera paused", "Local only", "Paused: nothing is
sent to OpenAI" (``app.privacy_status.privacy_line`` of the port's ``sending_state()``). Its
colour follows the level: grey nothing leaves, amber something goes to a cloud provider, blue
paused. Clicking it, or the hotkey :data:`PAUSE_KEYS` (window-wide, also while typing), pauses
all sending — microphone and frames — and resumes it.

The line is refreshed on a short timer (the port's state is cheap to read: settings, the
snapshot, two flags) and at once after a pause; the text changes only when the line does.
GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QMouseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QStatusBar, QWidget

from app.gui.port import AssistantPort
from app.privacy_status import PrivacyLevel, PrivacyStatus, privacy_line

__all__ = ["PAUSE_KEYS", "PrivacyChip", "install_privacy_chip"]

#: The one hotkey that pauses and resumes all sending.
PAUSE_KEYS = "Ctrl+Shift+P"
REFRESH_MS = 250

_STYLE = {
    PrivacyLevel.LOCAL: "background: #2e7d4f; color: white;",
    PrivacyLevel.IDLE: "background: #6b6f76; color: white;",
    PrivacyLevel.PAUSED: "background: #3b6fb6; color: white;",
    PrivacyLevel.CLOUD: "background: #b7791f; color: white;",
}


class PrivacyChip(QLabel):
    """See the module docstring. ``pause_toggled(bool)`` after each pause/resume."""

    pause_toggled = Signal(bool)

    def __init__(self, port: AssistantPort, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._port = port
        self.setObjectName("privacyChip")
        self.setAccessibleName("What is sent, and to whom")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setContentsMargins(8, 1, 8, 1)
        self.status: PrivacyStatus | None = None
        #: The pause hotkey (``install_privacy_chip`` adds it to the window).
        self.action = QAction("Pause all sending", self)
        self.action.setShortcut(QKeySequence(PAUSE_KEYS))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.triggered.connect(lambda _=False: self.toggle_pause())
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    @property
    def paused(self) -> bool:
        return self._port.sending_state().paused

    def refresh(self) -> None:
        status = privacy_line(self._port.sending_state())
        if status == self.status:
            return
        self.status = status
        self.setText(status.line)
        self.setStyleSheet(f"QLabel#privacyChip {{ {_STYLE[status.level]} border-radius: 8px; }}")
        verb = "Resume sending" if status.level is PrivacyLevel.PAUSED else "Pause all sending"
        self.setToolTip(f"{status.line}\n{verb}: click or {PAUSE_KEYS}")

    def toggle_pause(self) -> None:
        """Pause all sending, or resume it."""
        on = not self.paused
        self._port.pause_sending(on)
        self.refresh()
        self.pause_toggled.emit(on)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.toggle_pause()


def install_privacy_chip(
    win: QMainWindow, status_bar: QStatusBar, port: AssistantPort
) -> PrivacyChip:
    """Adds the chip at the left of ``status_bar`` and the pause hotkey to ``win`` (window-wide,
    so it works while the message box has focus)."""
    chip = PrivacyChip(port, win)
    # first of the permanent widgets (index 0 is the status panel's message label)
    status_bar.insertPermanentWidget(1, chip)
    win.addAction(chip.action)
    return chip
