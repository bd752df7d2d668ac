"""The daily spend file: survives restarts, a killed writer and a damaged file."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from realtime.spend_store import SpendStore, SpendStoreError

DAY = dt.date(2026, 12, 5)


def test_daily_total_survives_a_restart(tmp_path):
    path = tmp_path / "spend.json"
    s = SpendStore(path)
    s.add(DAY, 0.25)
    s.add(DAY, 0.5)
    s.add(DAY - dt.timedelta(days=1), 3.0)
    again = SpendStore(path)  # a new process would do exactly this
    assert again.day_usd(DAY) == pytest.approx(0.75)
    assert again.day_usd(DAY - dt.timedelta(days=1)) == pytest.approx(3.0)
    assert again.day_usd(DAY + dt.timedelta(days=1)) == 0.0
    assert again.problem == ""


def test_a_killed_writer_leaves_a_readable_file(tmp_path):
    path = tmp_path / "spend.json"
    code = (
        "import datetime as dt, sys\n"
        "from pathlib import Path\n"
        "from realtime.spend_store import SpendStore\n"
        "s = SpendStore(Path(sys.argv[1]))\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    s.add(dt.date(2026, 12, 5), 0.001)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        while not path.exists():
            time.sleep(0.01)
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    s = SpendStore(path)
    assert s.problem == ""
    total = s.day_usd(DAY)
    assert total > 0
    assert round(total / 0.001) == pytest.approx(total / 0.001, abs=1e-6)  # whole additions
    json.loads(path.read_text())


def test_a_damaged_file_is_kept_aside_and_said(tmp_path):
    path = tmp_path / "spend.json"
    path.write_text("{not json")
    s = SpendStore(path)
    assert "damaged" in s.problem and s.day_usd(DAY) == 0.0
    assert (tmp_path / "spend.json.damaged").read_text() == "{not json"
    s.add(DAY, 0.1)
    assert SpendStore(path).day_usd(DAY) == pytest.approx(0.1)


def test_an_unwritable_place_is_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # (root may write into a read-only folder; a file as folder fails)
    s = SpendStore(blocker / "spend.json")
    with pytest.raises(SpendStoreError, match="could not save today's spend"):
        s.add(DAY, 0.1)
