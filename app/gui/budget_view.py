"""The spend limit in the window: a banner above the conversation and a figure in the status bar.

The banner is shown from 80 % of a budget (amber), when the budget is reached and audio and
camera are no longer sent (red; typing still works), and when the budget cannot be checked
because the model's price is unknown (amber). The status-bar figure shows how much of the
tightest budget the next turn would use (its tooltip: spent this session, today, next turn).
Both follow ``app.model.BudgetChanged`` (``app.core_budget``). GUI thread only.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow, QStatusBar, QVBoxLayout

from app.core_budget import budget_figure
from app.model import BudgetLevel, BudgetStatus

__all__ = ["BudgetView", "budget_figure"]

_AMBER = "background: #f6c453; color: #2b2100; border-radius: 6px; padding: 6px 10px;"
_RED = "background: #d6453d; color: white; border-radius: 6px; padding: 6px 10px;"


def _usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:.4f}"


class BudgetView:
    """The banner (added to the window's central layout, under the top row) and the status
    figure (a permanent widget of ``status``)."""

    def __init__(self, window: QMainWindow, status: QStatusBar) -> None:
        self.banner = QLabel("")
        self.banner.setObjectName("budgetBanner")
        self.banner.setAccessibleName("Budget warning")
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)
        central = window.centralWidget()
        root = central.layout() if central is not None else None
        if isinstance(root, QVBoxLayout):
            root.insertWidget(1, self.banner)
        self.figure = QLabel("")
        self.figure.setAccessibleName("Budget")
        self.figure.setVisible(False)
        status.addPermanentWidget(self.figure)
        self.status: BudgetStatus | None = None

    def show(self, status: BudgetStatus) -> None:
        self.status = status
        level = status.level
        text = budget_figure(status)
        self.figure.setText(text)
        self.figure.setVisible(bool(text))
        self.figure.setToolTip(
            f"Spent this session: {_usd(status.session_usd)}\n"
            f"Spent today: {_usd(status.day_usd)}\n"
            f"Next turn (estimate, context billed again): {_usd(status.next_turn_usd)}"
        )
        warn = level in (BudgetLevel.WARNING, BudgetLevel.UNKNOWN)
        stop = level is BudgetLevel.STOPPED
        style = _RED if stop else (_AMBER if warn else "")
        self.figure.setStyleSheet(style.replace("padding: 6px 10px;", "padding: 0 6px;"))
        self.banner.setStyleSheet(style)
        self.banner.setText(("⚠ " if warn or stop else "") + status.message)
        self.banner.setVisible(warn or stop)
