"""Status bar: last-turn latency, session cost, time left, recording indicator with off switch.

GUI thread only. ``recording_toggled(bool)`` is emitted when the person flips the switch.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton, QWidget

from app.gui.transcript_view import format_cost, format_ms
from app.model import Spend


def format_time_left(seconds: float | None) -> str:
    if seconds is None:
        return "no time limit"
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d} left"


class StatusPanel(QStatusBar):
    recording_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(True)
        self.latency = QLabel("Last reply: —")
        self.latency.setAccessibleName("Last reply latency")
        self.latency.setToolTip("End of your speech → first sound of the reply")
        self.cost = QLabel("Cost: —")
        self.cost.setAccessibleName("Session cost")
        self.time_left = QLabel("")
        self.time_left.setAccessibleName("Session time left")
        self.rec_dot = QLabel()
        self.rec_dot.setAccessibleName("Recording indicator")
        self.rec_button = QToolButton()
        self.rec_button.setCheckable(True)
        self.rec_button.setObjectName("recSwitch")
        self.rec_button.setChecked(True)
        self.rec_button.setAccessibleName("Record sessions")
        self.rec_button.setToolTip("Record this session (Ctrl+R)")
        self.rec_button.toggled.connect(self._on_toggled)
        self.message = QLabel("")
        self.addWidget(self.message, 1)
        for w in (self.latency, self.cost, self.time_left, self.rec_dot, self.rec_button):
            self.addPermanentWidget(w)
        self._render_recording(True, None)

    def set_latency_ms(self, ms: float | None, stages: str = "") -> None:
        """``ms``: end of speech → first sound; ``stages``: its parts, named with units."""
        self.latency.setText(f"Last reply: {format_ms(ms)}")
        tip = "End of your speech → first sound of the reply"
        self.latency.setToolTip(f"{tip}:\n{stages}" if stages else tip)

    def set_spend(self, spend: Spend) -> None:
        """The session's tokens and price (``cost_usd`` None: unknown price)."""
        self.cost.setText(f"Cost: {format_cost(spend.cost_usd, spend.free)}")
        usage = spend.usage
        self.cost.setToolTip(f"{usage.input_tokens} input / {usage.output_tokens} output tokens")

    def set_time_left(self, seconds: float | None) -> None:
        self.time_left.setText(format_time_left(seconds) if seconds is not None else "")
        self.time_left.setVisible(seconds is not None)

    def set_recording(self, on: bool, error: str | None = None) -> None:
        """Reflect the assistant's recording state without re-emitting ``recording_toggled``."""
        self.rec_button.blockSignals(True)
        self.rec_button.setChecked(on)
        self.rec_button.blockSignals(False)
        self._render_recording(on, error)

    def _on_toggled(self, on: bool) -> None:
        self._render_recording(on, None)
        self.recording_toggled.emit(on)

    def _render_recording(self, on: bool, error: str | None) -> None:
        if error:
            self.rec_dot.setText("● Not recording")
            self.rec_dot.setStyleSheet("color: #d6453d;")
            self.rec_dot.setToolTip(error)
        elif on:
            self.rec_dot.setText("● REC")
            self.rec_dot.setStyleSheet("color: #d6453d; font-weight: 600;")
            self.rec_dot.setToolTip("This session is being recorded")
        else:
            self.rec_dot.setText("○ Not recording")
            self.rec_dot.setStyleSheet("")
            self.rec_dot.setToolTip("Recording is off")
        self.rec_button.setText("Turn off" if on else "Turn on")
