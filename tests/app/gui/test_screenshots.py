"""Screenshots of the main states under a real X server (pytest-xvfb's Xvfb, Qt's xcb plugin).

Runs tests/app/gui/screenshots.py in a subprocess (this process's QApplication is offscreen) and
checks every PNG has the expected size and real content. ``VOICECAM_UPDATE_SCREENSHOTS=1``
writes them to docs/screenshots/ (the committed copies shown in the README).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[3]
NAMES = (
    "idle",
    "loading",
    "listening",
    "speaking",
    "speaking_dark",
    "small",
    "error",
    "settings",
    "sessions",
    "replay",
)


def test_screenshots_under_xvfb(tmp_path: Path) -> None:
    display = os.environ.get("DISPLAY")
    if not display:
        pytest.skip("no X display (run with pytest-xvfb enabled)")
    out = (
        REPO / "docs" / "screenshots" if os.environ.get("VOICECAM_UPDATE_SCREENSHOTS") else tmp_path
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "VOICECAM_CONFIG_DIR": str(tmp_path / "cfg")}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.app.gui.screenshots", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in NAMES:
        img = QImage(str(out / f"{name}.png"))
        assert not img.isNull(), name
        assert img.width() >= 600 and img.height() >= 400, (name, img.size())
        # real content: many distinct colours in a sample of pixels
        colours = {
            img.pixel(x, y) for x in range(0, img.width(), 23) for y in range(0, img.height(), 23)
        }
        assert len(colours) > 8, name
