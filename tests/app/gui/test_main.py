"""``voicecam`` (no arguments) opens the window and closes cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[3]


def _catches_sigterm(proc: subprocess.Popen[str]) -> bool:
    """Linux: the process has a handler for SIGTERM (``SigCgt`` in /proc/PID/status)."""
    try:
        status = Path(f"/proc/{proc.pid}/status").read_text()
    except OSError:
        return False
    caught = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("SigCgt:")), "0")
    return bool(int(caught, 16) >> (signal.SIGTERM - 1) & 1)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_main_starts_and_quits_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    ini = tmp_path / "gui.ini"
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "VOICECAM_GUI_SETTINGS": str(ini),
        "VOICECAM_CONFIG_DIR": str(tmp_path / "cfg"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", "from app.cli import main; raise SystemExit(main([]))"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # signal once the app has installed its handlers (SIGTERM caught: Python catches only
        # SIGINT by itself); the window saves its geometry when it closes
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not _catches_sigterm(proc):
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert _catches_sigterm(proc), "the app never installed its quit handlers"
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-2000:]
    text = ini.read_text()
    assert "[window]" in text and "geometry=" in text  # closed through closeEvent
    assert (tmp_path / "cfg" / "settings.toml").is_file()  # selection saved


def test_no_display_is_explained_before_qt_aborts() -> None:
    from app.gui.main import no_display_reason

    reason = no_display_reason({}, "linux")
    assert "no display was found" in reason and "--headless" in reason
    assert no_display_reason({"DISPLAY": ":0"}, "linux") == ""
    assert no_display_reason({"WAYLAND_DISPLAY": "wayland-0"}, "linux") == ""
    assert no_display_reason({"QT_QPA_PLATFORM": "offscreen"}, "linux") == ""
    assert no_display_reason({}, "win32") == ""


def test_environment_settings_apply_but_are_never_saved(config_dir) -> None:
    """VOICECAM_* variables override the file for this run (the CLI's precedence); closing
    the window writes only what the person changed, not the variables' values."""
    from dataclasses import replace

    from app.config import Settings
    from app.gui.main import load_settings, save_changes_only

    Settings(aec="on", voice="marin", backend="openai").save()
    saved, effective, problem = load_settings({"VOICECAM_AEC": "off"})
    assert (saved.aec, effective.aec, problem) == ("on", "off", "")
    save_changes_only(saved, effective)(replace(effective, voice="cedar"))
    back = Settings.load()
    assert (back.aec, back.voice) == ("on", "cedar")


def test_bad_environment_setting_is_reported_and_skipped(config_dir) -> None:
    from app.config import Settings
    from app.gui.main import load_settings

    Settings(vad_sensitivity=0.5).save()
    saved, effective, problem = load_settings({"VOICECAM_VAD_SENSITIVITY": "loud"})
    assert effective == saved and effective.vad_sensitivity == 0.5
    assert "VOICECAM_VAD_SENSITIVITY" in problem
