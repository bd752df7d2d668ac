"""The shared ``AddDaySpend`` performer (``app.day_spend_effect``) with a real ``DaySpend`` on
disk and a real ``ConversationCore``: the cost a response produces is saved, a failed save comes
back as the core's notice, and no day total kept means nothing to do."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app import core_budget
from app.core import Backend, ConversationCore
from app.day_spend import DaySpend
from app.day_spend_effect import perform_add_day_spend
from app.effects import AddDaySpend, Connecting, DaySpendProblem
from app.model import NoticeChanged
from app.modes import ConversationOptions
from app.pricing import CostMeter, PriceTable
from realtime.budget import Limits
from realtime.events import ResponseDone, SessionReady, Usage

MODEL = "gpt-realtime"
TODAY = dt.date(2026, 12, 5)
USAGE = Usage(
    input_tokens=1000, input_audio_tokens=1000, output_tokens=500, output_audio_tokens=500
)


def _core() -> ConversationCore:
    cost = CostMeter(PriceTable.load(), MODEL)
    meter = core_budget.new_meter(cost, "openai", Limits(day_usd=100.0))
    backend = Backend("test", "openai", MODEL, 24000, voice="marin")
    core = ConversationCore(backend, ConversationOptions(), cost, has_player=False, budget=meter)
    core.handle(Connecting(), 1)
    core.handle(SessionReady("s1", MODEL), 2)
    return core


def _spend_of_one_response(core: ConversationCore) -> AddDaySpend:
    (effect,) = [
        e
        for e in core.handle(ResponseDone("r", "completed", USAGE), 3)
        if isinstance(e, AddDaySpend)
    ]
    assert effect.usd > 0
    return effect


def test_the_cost_of_a_response_is_added_to_the_day_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "spend.json"
    effect = _spend_of_one_response(_core())
    assert perform_add_day_spend(DaySpend(path, today=lambda: TODAY), effect) is None
    assert DaySpend(path, today=lambda: TODAY).today_usd() == pytest.approx(effect.usd)


def test_a_failed_save_becomes_the_cores_notice(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the settings folder should be", encoding="utf-8")
    core = _core()
    effect = _spend_of_one_response(core)
    problem = perform_add_day_spend(DaySpend(blocker / "spend.json", today=lambda: TODAY), effect)
    assert isinstance(problem, DaySpendProblem)
    assert "could not be saved" in problem.message and str(blocker) in problem.message
    notices = [e for e in core.handle(problem, 4) if isinstance(e, NoticeChanged)]
    assert [n.message for n in notices] == [problem.message]
    assert core.notice == problem.message


def test_without_a_day_total_there_is_nothing_to_do() -> None:
    assert perform_add_day_spend(None, AddDaySpend(0.25)) is None
