"""Budgets from the settings, ``--budget``, the daily total on disk and the CLI's budget line."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest

from app import cli
from app.compose import build_budget, build_day_spend, resolve_settings
from app.config import Settings, SettingsError
from app.core_budget import budget_figure
from app.day_spend import SPEND_FILE, DaySpend, budget_limits
from app.model import BudgetChanged, BudgetLevel, BudgetStatus
from app.printer import Printer
from realtime.budget import Limits


def test_budgets_come_from_settings_env_and_flags_with_zero_meaning_none() -> None:
    assert budget_limits(Settings()) == Limits()
    assert budget_limits(Settings(budget_session_usd=0.5, budget_day_usd=3.0)) == Limits(0.5, 3.0)
    base = Settings(budget_session_usd=1.0, budget_day_usd=5.0)
    env = {"VOICECAM_BUDGET_SESSION_USD": "2.5", "VOICECAM_BUDGET_DAY_USD": "0"}
    from_env = resolve_settings(env=env, base=base)
    assert build_budget(from_env) == Limits(session_usd=2.5, day_usd=None)
    flagged = resolve_settings({"budget_session_usd": 0.25}, env=env, base=base)
    assert build_budget(flagged).session_usd == 0.25  # the flag wins over the environment
    with pytest.raises(SettingsError, match="budget_day_usd"):
        Settings(budget_day_usd=-1.0)
    with pytest.raises(SettingsError, match="VOICECAM_BUDGET_SESSION_USD"):
        resolve_settings(env={"VOICECAM_BUDGET_SESSION_USD": "lots"}, base=Settings())


def test_budget_settings_round_trip_through_the_file(tmp_path: Path) -> None:
    path = Settings(budget_session_usd=0.75, budget_day_usd=4.0).save(tmp_path / "s.toml")
    loaded = Settings.load(path)
    assert (loaded.budget_session_usd, loaded.budget_day_usd) == (0.75, 4.0)


def test_the_day_total_survives_a_restart_and_starts_again_the_next_day(tmp_path: Path) -> None:
    today = dt.date(2026, 12, 5)
    path = tmp_path / "spend.json"
    first = DaySpend(path, today=lambda: today)
    assert first.today_usd() == 0.0
    assert first.add(0.25) == "" and first.add(0.5) == ""
    again = DaySpend(path, today=lambda: today)  # a new process
    assert again.today_usd() == pytest.approx(0.75)
    tomorrow = DaySpend(path, today=lambda: today + dt.timedelta(days=1))
    assert tomorrow.today_usd() == 0.0


def test_a_damaged_day_file_is_said_once_and_counting_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "spend.json"
    path.write_text("{not json", encoding="utf-8")
    day = DaySpend(path)
    problem = day.take_problem()
    assert "damaged" in problem and str(path) in problem
    assert day.take_problem() == ""
    assert (tmp_path / "spend.json.damaged").exists()
    assert day.add(0.1) == "" and DaySpend(path).today_usd() == pytest.approx(0.1)


def test_a_day_file_that_cannot_be_written_gives_a_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    day = DaySpend(blocker / "spend.json")
    problem = day.add(0.1)
    assert "could not be saved" in problem and "spend.json" in problem


def test_the_day_file_lives_in_the_settings_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICECAM_CONFIG_DIR", str(tmp_path))
    assert build_day_spend().store.path == tmp_path / SPEND_FILE


def _status(level: BudgetLevel, fraction: float = 0.0) -> BudgetStatus:
    return BudgetStatus(level, 0.8, 0.8, 0.05, fraction, "session", 1.0)


def test_the_cli_prints_one_line_per_warning() -> None:
    err = io.StringIO()
    p = Printer(out=io.StringIO(), err=err)
    for event in (
        BudgetChanged(_status(BudgetLevel.OK, 0.5)),
        BudgetChanged(_status(BudgetLevel.WARNING, 0.85)),
        BudgetChanged(_status(BudgetLevel.WARNING, 0.9)),  # same level: no new line
        BudgetChanged(_status(BudgetLevel.STOPPED, 1.1)),  # said by the notice
    ):
        p(event)
    assert err.getvalue() == (
        "budget: 85% of the session budget of $1.00 used (next turn about $0.050).\n"
    )
    unknown = io.StringIO()
    Printer(out=io.StringIO(), err=unknown)(
        BudgetChanged(BudgetStatus(BudgetLevel.UNKNOWN, None, None, None))
    )
    assert "cannot be checked" in unknown.getvalue()


@pytest.mark.parametrize("value", ["0", "-2", "nan", "lots"])
def test_cli_refuses_a_bad_budget(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--headless", "--text", "hi", "--budget", value])
    assert exc.value.code == 2
    assert "--budget" in capsys.readouterr().err


def test_budget_flag_needs_headless(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--budget", "1"])
    assert "--budget needs --headless" in capsys.readouterr().err


def test_budget_figure_in_a_few_words() -> None:
    assert budget_figure(_status(BudgetLevel.NONE)) == ""
    assert budget_figure(_status(BudgetLevel.OK, 0.456)) == "Budget: 46% of $1.00 (session)"
    assert budget_figure(_status(BudgetLevel.STOPPED, 1.2)) == "Budget reached (session)"
    unknown = BudgetStatus(BudgetLevel.UNKNOWN, None, None, None)
    assert budget_figure(unknown) == "Budget: price unknown"
