"""The spend limit as the app configures it: budgets from ``Settings``, today's total on disk.

``budget_limits(settings)`` turns the two settings (``budget_session_usd``,
``budget_day_usd``; 0 = no limit) into ``realtime.budget.Limits``. ``DaySpend`` is today's
total (``realtime.spend_store.SpendStore``, the file ``spend.json`` in the settings folder, so
``VOICECAM_CONFIG_DIR`` moves it too) with the date taken from an injectable clock and every
failure turned into a sentence for the user. Built by ``app.compose.build_day_spend``.

Threads: ``DaySpend`` is used by one conversation at a time, on the assistant's engine thread:
``today_usd`` when it starts, ``add`` once per response (a small fsync'd write, done before the
conversation can end so no answer's cost is lost when the process exits).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from app.config import Settings, config_dir
from realtime.budget import Limits
from realtime.spend_store import SpendStore, SpendStoreError

__all__ = ["SPEND_FILE", "DaySpend", "Limits", "budget_limits", "spend_path"]

SPEND_FILE = "spend.json"


def budget_limits(settings: Settings) -> Limits:
    """The settings' budgets (a value of 0 means no limit)."""
    return Limits(
        session_usd=settings.budget_session_usd or None,
        day_usd=settings.budget_day_usd or None,
    )


def spend_path() -> Path:
    """Where the day's totals are kept (next to ``settings.toml``)."""
    return config_dir() / SPEND_FILE


class DaySpend:
    """Today's spend in the user's local calendar day; survives restarts."""

    def __init__(self, path: Path, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.store = SpendStore(path)
        self._today = today

    def take_problem(self) -> str:
        """Why the earlier totals could not be read (a damaged file, kept aside), once; else
        ``""``."""
        problem, self.store.problem = self.store.problem, ""
        return problem

    def today_usd(self) -> float:
        return self.store.day_usd(self._today())

    def add(self, usd: float) -> str:
        """Add a response's cost to today; returns ``""`` or why it could not be saved."""
        try:
            self.store.add(self._today(), usd)
        except (SpendStoreError, ValueError) as exc:
            return (
                f"Today's spend could not be saved ({exc}); the daily budget counts this "
                "session only until it can."
            )
        return ""
