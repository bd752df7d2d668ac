"""Light/dark palettes (system scheme, or forced with VOICECAM_THEME)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette

from app.gui.theme import apply_theme

pytestmark = pytest.mark.gui


def test_forced_dark_and_light(qapp, monkeypatch) -> None:
    try:
        apply_theme(qapp, "dark")
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 100
        assert qapp.palette().color(QPalette.ColorRole.Text).lightness() > 180
        monkeypatch.setenv("VOICECAM_THEME", "light")
        apply_theme(qapp)
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 200
    finally:
        apply_theme(qapp, "light")
