"""Device loss and recovery against a real PulseAudio server (``-m pulse``): the server dies
mid-session (the device 'disappears'), the engine reports an actionable ``AudioDeviceError``,
keeps running, and reopens by itself when the server is back.

Runs ``tests/audio/recovery_scenario.py`` in a child process with its own server: the dead
stream stays stuck inside PortAudio and must not leak into this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pulse

REPO = Path(__file__).resolve().parents[2]


def test_server_loss_is_reported_and_stream_reopens(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "tests.audio.recovery_scenario", str(tmp_path / "pulse")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"scenario printed nothing: {proc.stderr[-2000:]}"
    out = json.loads(lines[-1])
    assert "Settings" in out["error"] and "retries" in out["error"], out
    assert out.get("recovered_rate") == 48000, out
    assert out.get("audio_after_recovery") is True, out
    assert out.get("raised") == [], "process() must never raise for device trouble"
    assert proc.returncode == 0, "the process must exit cleanly despite the stuck dead stream"
