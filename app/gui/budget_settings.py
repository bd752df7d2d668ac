"""The settings dialog's "Budget" tab: spend limits per session and per day (0 = no limit).

GUI thread only. ``apply(settings)`` sets the two ``app.config.Settings`` fields; a limit applies at
once to a running conversation (``AssistantPort.apply_settings``), so raising a reached one
lets audio and camera go again.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QLabel, QWidget

from app.config import Settings

__all__ = ["BudgetTab"]

NO_LIMIT = "No limit"


def _usd_box(value: float, name: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.0, 10_000.0)
    box.setDecimals(2)
    box.setSingleStep(0.5)
    box.setPrefix("$")
    box.setSpecialValueText(NO_LIMIT)  # shown at 0
    box.setValue(value)
    box.setAccessibleName(name)
    return box


class BudgetTab(QWidget):
    """Two amounts in US dollars; see the module docstring."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(14, 14, 14, 14)
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(12)
        self.session_box = _usd_box(settings.budget_session_usd, "Budget per conversation")
        self.day_box = _usd_box(settings.budget_day_usd, "Budget per day")
        note = QLabel(
            "Paid backends bill the whole conversation again on every turn (earlier speech "
            "and camera frames too). Before each reply VoiceCam estimates the next turn: at "
            "80 % of a budget the window warns you; at 100 % it stops sending your voice and "
            "camera (you can still type, and the recording is kept). Today's total is kept "
            "across restarts. Set 0 for no limit."
        )
        note.setWordWrap(True)
        note.setObjectName("muted")
        form.addRow("Per conversation", self.session_box)
        form.addRow("Per day", self.day_box)
        form.addRow(note)

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with the budgets as set in the form."""
        return replace(
            settings,
            budget_session_usd=round(self.session_box.value(), 2),
            budget_day_usd=round(self.day_box.value(), 2),
        )
