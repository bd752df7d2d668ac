"""``realtime.local.stage_log``: marks go to ``$VOICECAM_STAGE_LOG`` only when it is set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtime.local import stage_log


def test_marks_are_appended_as_json_lines_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "stages.jsonl"
    monkeypatch.setenv(stage_log.ENV, str(path))
    assert stage_log.enabled()
    stage_log.mark("ask", silence_ms=214)
    stage_log.mark("commit")
    lines = [json.loads(raw) for raw in path.read_text(encoding="utf-8").splitlines()]
    assert [m["stage"] for m in lines] == ["ask", "commit"]
    assert lines[0]["silence_ms"] == 214
    assert lines[0]["t"] <= lines[1]["t"]


def test_nothing_is_written_without_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(stage_log.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert not stage_log.enabled()
    stage_log.mark("commit")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_log_does_not_raise(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(stage_log.ENV, str(tmp_path / "missing" / "stages.jsonl"))
    stage_log.mark("commit")  # the server must never fail because of its benchmark log
