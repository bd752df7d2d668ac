"""Sessions a person can manage (issue 15 item 5, issue 14 item 7): the saved retention rule is
applied when the app starts and deletes only what it should (old sessions, with their search
entries; never the recent ones, never a file that is not a session); a failed connect leaves no
empty session behind."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from app import cli
from app.config import Settings, SettingsError
from app.retention import retention_rule
from app.session_search import forget_indexes, search_sessions
from tests.app.fakes import FakeThread
from tests.app.test_cli_fake import Run
from tests.app.test_session_search import record


def age(path: Path, days: float) -> Path:
    """Make the recorded session look started ``days`` ago."""
    started = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'started_at'", (json.dumps(started),))
    conn.commit()
    conn.close()
    return path


def test_retention_at_start_deletes_only_what_it_should(
    fake: FakeThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "sessions"
    old = age(record(folder, "What about the zebra?", "It is striped.").files[0], 30)
    older = age(record(folder, "And the zebra's foal?", "Also striped.").files[0], 400)
    recent = age(record(folder, "Is the zebra asleep?", "Yes.").files[0], 2)
    today = record(folder, "Where is the zebra?", "At the zoo.").files[0]
    notes = folder / "notes.txt"
    notes.write_text("my own file")
    forget_indexes()  # the run below opens the index as a fresh process would
    assert len(search_sessions(folder, "zebra")) == 4
    forget_indexes()

    monkeypatch.setenv("VOICECAM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VOICECAM_RECORDINGS_DIR", str(folder))
    monkeypatch.setenv("VOICECAM_KEEP_DAYS", "7")
    run = Run(["--headless", "--backend", fake.url, "--text", "hello", "--timeout", "30"])
    assert run.wait() == 0
    assert "voicecam: Retention: deleted 2 old sessions" in capsys.readouterr().err
    left = {p.name for p in folder.iterdir() if not p.name.startswith("search-index")}
    assert left == {recent.name, today.name, notes.name}
    assert not old.exists() and not older.exists()
    hits = search_sessions(folder, "zebra")  # the deleted sessions left the index
    assert {h.path.name for h in hits} == {recent.name, today.name}


def test_no_rule_deletes_nothing_and_bad_values_are_refused() -> None:
    assert retention_rule(Settings()) is None
    rule = retention_rule(Settings(keep_days=7, keep_gb=0.5))
    assert rule is not None and rule.keep_days == 7 and rule.keep_bytes == 512 * 1024**2
    with pytest.raises(SettingsError, match="keep_days"):
        Settings(keep_days=-1)


def test_a_failed_connect_leaves_no_empty_session(tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    code = cli.main(
        [
            "--headless",
            *("--backend", "ws://127.0.0.1:9/v1/realtime"),  # nothing listens there
            *("--text", "hello", "--record", str(folder), "--timeout", "20"),
        ]
    )
    assert code == 1
    assert not list(folder.glob("*.voicecam"))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from tests.app.test_cli_fake import KEY
    from tests.fakes.fake_openai import FakeOpenAI

    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", KEY)
    ft = FakeThread(FakeOpenAI(api_key=KEY, chunk_delay_s=0.02))
    yield ft
    ft.close()
