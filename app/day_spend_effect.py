"""The one performer of the core's ``AddDaySpend`` effect, shared by every front end.

``perform_add_day_spend(day_spend, effect)`` adds a response's cost to today's total on disk
(``app.day_spend.DaySpend``) and returns the core's answer to a failure: a ``DaySpendProblem``
input that the caller feeds back into ``ConversationCore.handle`` (the core shows it as the
conversation's notice), or ``None`` when the cost was saved or no day total is kept.

Contract: call it once per ``AddDaySpend``, in effect order, on the thread that drives the core
(the engine loop for ``app.conversation``, the re-run's loop for ``app.rerun``). It blocks for a
small fsync'd write of a few ms, on purpose: done before the conversation can end, so no
answer's cost is lost when the process exits. It never raises for a failed save.
"""

from __future__ import annotations

from app.day_spend import DaySpend
from app.effects import AddDaySpend, DaySpendProblem

__all__ = ["perform_add_day_spend"]


def perform_add_day_spend(
    day_spend: DaySpend | None, effect: AddDaySpend
) -> DaySpendProblem | None:
    """Add ``effect.usd`` to ``day_spend`` (None: not kept, nothing to do); a failed save comes
    back as the ``DaySpendProblem`` to give the core, with a sentence for the user."""
    if day_spend is None:
        return None
    problem = day_spend.add(effect.usd)
    return DaySpendProblem(problem) if problem else None
