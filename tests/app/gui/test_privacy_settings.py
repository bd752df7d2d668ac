"""Settings → Privacy (issue 15, item 1): the redaction options persist, reach the assistant,
and a bad region is refused with the reason while the dialog stays open."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from app.config import Settings
from app.gui.privacy_tab import RegionPicker
from tests.app.gui.test_settings_dialog import open_dialog

pytestmark = pytest.mark.gui


def test_privacy_options_persist_and_reach_the_assistant(window, fake, qtbot, config_dir) -> None:
    dlg = open_dialog(window, qtbot)
    tab = dlg.privacy_tab
    assert dlg.tabs.tabText(dlg.tabs.indexOf(tab)) == "Privacy"
    tab.blur_box.setCurrentIndex(tab.blur_box.findData("cloud"))
    tab.add_window("Password manager")
    tab.add_window("Slack")
    tab.add_window("Slack")  # picked twice, kept once
    tab.region_edit.setText("the left half")
    dlg.buttons.accepted.emit()
    assert dlg.isVisible() and "X,Y,W,H" in dlg.message.text()  # refused, with the form

    tab.region_edit.setText("0,0,400,300")
    assert tab.keep_days_spin.text() == "Forever" and tab.keep_gb_spin.text() == "No limit"
    tab.keep_days_spin.setValue(30)
    tab.keep_gb_spin.setValue(2.5)
    with qtbot.waitSignal(dlg.saved_to_disk):
        dlg.buttons.accepted.emit()
    name, (applied,) = fake.calls[-1]
    assert name == "apply_settings"
    assert applied.blur_faces == "cloud"
    assert applied.exclude_windows == "Password manager, Slack"
    assert applied.exclude_region == "0,0,400,300"
    assert (applied.keep_days, applied.keep_gb) == (30, 2.5)
    stored = Settings.load()
    assert (stored.blur_faces, stored.exclude_region) == ("cloud", "0,0,400,300")
    dlg2 = open_dialog(window, qtbot)
    assert dlg2.privacy_tab.blur_box.currentData() == "cloud"
    assert dlg2.privacy_tab.windows_edit.text() == "Password manager, Slack"


def test_a_drawn_region_fills_the_field(qtbot) -> None:
    picker = RegionPicker()  # deletes itself when closed
    got: list[str] = []
    picker.picked.connect(got.append)
    picker.show()
    qtbot.mousePress(picker, Qt.MouseButton.LeftButton, pos=QPoint(10, 20))
    qtbot.mouseMove(picker, QPoint(110, 70))
    qtbot.mouseRelease(picker, Qt.MouseButton.LeftButton, pos=QPoint(110, 70))
    assert len(got) == 1
    x, y, w, h = (int(v) for v in got[0].split(","))
    origin = picker.mapToGlobal(QPoint(10, 20))
    assert (x, y, w, h) == (origin.x(), origin.y(), 100, 50)
    assert Settings(exclude_region=got[0]).exclude_region == got[0]
