"""The spend limit in the window, on the REAL assistant through ``AssistantAdapter`` (a scripted
in-process session priced as gpt-realtime, a real FileSource camera), and in Settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app import core_budget
from app.config import Settings
from app.devices import DeviceNames
from app.gui.adapter import AssistantAdapter
from app.gui.main import build_window
from app.gui.settings_dialog import SettingsDialog
from app.model import BudgetChanged, BudgetLevel, BudgetStatus
from app.pricing import CostMeter, PriceTable
from realtime.events import AppendImage, AudioDelta, ResponseDone, ResponseStarted, SendText, Usage
from tests.app.fakes import FakeAudio, FakeSpec

pytestmark = pytest.mark.gui

ONE_SECOND_24K = b"\x00\x01" * 24000
USAGE = Usage(
    input_tokens=10000, input_audio_tokens=10000, output_tokens=5000, output_audio_tokens=5000
)


def projected() -> float:
    """Spent plus the next turn once ``USAGE`` was answered, by the real meter."""
    probe = core_budget.new_meter(CostMeter(PriceTable.load(), "gpt-realtime"), "openai")
    probe.response_done(USAGE)
    nxt = probe.next_turn_usd()
    assert nxt is not None
    return probe.session_usd + nxt


@pytest.fixture
def rig(qtbot, qsettings, memory_keyring, config_dir, tmp_path: Path, media_dir: Path):
    spec = FakeSpec(name="openai", model="gpt-realtime")
    audio = FakeAudio()

    def source(spec_text: str):
        from video.file import FileSource

        return FileSource(str(media_dir / "video" / "desk.png"), loop=True, still_fps=5.0)

    settings = Settings(recording=False, camera="desk", budget_session_usd=projected() / 0.9)
    adapter = AssistantAdapter(
        settings,
        resolve=lambda s, **kw: spec,
        make_audio=lambda s, rate: audio,
        make_source=source,
    )
    w = build_window(adapter, qsettings, settings, save_settings=None)
    qtbot.addWidget(w)
    w.show()
    yield w, adapter, spec, audio
    w.close()
    adapter.close()


def test_warning_stop_and_raise_through_the_window(rig, qtbot) -> None:
    w, _adapter, spec, audio = rig
    banner, figure = w.budget.banner, w.budget.figure
    w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData("openai"))
    qtbot.mouseClick(w.ui.camera_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.ui.preview.frames_shown > 0, timeout=10000)
    qtbot.mouseClick(w.ui.connect_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.ui.state_label.text() == "Ready — say something", timeout=10000)
    qtbot.waitUntil(lambda: figure.text().startswith("Budget: "))
    assert not banner.isVisible()  # well within the budget

    # A question with the camera on: the frame's cost is in the strip's tooltip.
    qtbot.keyClicks(w.ui.text_box, "what is on my desk?")
    qtbot.keyClick(w.ui.text_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.ui.thumbs.count() >= 1, timeout=10000)
    tip = w.ui.thumbs.item(0).toolTip()
    assert "Cost: $0.00" in tip and "billed again on every later turn" in tip
    s = spec.sessions[-1]
    s.emit(ResponseStarted("r1"), AudioDelta("a1", ONE_SECOND_24K, 24000))
    s.emit(ResponseDone("r1", "completed", USAGE))
    audio.finish_playback()

    # 90 % of the session budget: a visible warning; the session total in the status bar.
    qtbot.waitUntil(lambda: banner.isVisible(), timeout=10000)
    assert "90% of the session budget" in banner.text()
    assert figure.text().startswith("Budget: 90% of $")
    assert w.ui.status.cost.text().startswith("Cost: $")
    assert "Spent this session: $" in figure.toolTip()

    # A lower budget from Settings: reached at once; said plainly; typing still works.
    w.apply_settings(Settings(recording=False, camera="desk", budget_session_usd=0.5))
    qtbot.waitUntil(lambda: "no longer sent" in banner.text(), timeout=10000)
    assert figure.text() == "Budget reached (session)"
    assert banner.isVisible() and "You can still type" in banner.text()
    frames_before = sum(isinstance(c, AppendImage) for c in spec.sent)
    qtbot.keyClicks(w.ui.text_box, "still there?")
    qtbot.keyClick(w.ui.text_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: SendText("still there?", respond=True) in spec.sent)
    assert sum(isinstance(c, AppendImage) for c in spec.sent) == frames_before

    # Raising it again hides the banner.
    w.apply_settings(Settings(recording=False, camera="desk", budget_session_usd=100.0))
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=10000)
    assert figure.text().startswith("Budget: ")

    qtbot.mouseClick(w.ui.connect_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.ui.state_label.text() == "Not connected", timeout=10000)


def test_unknown_price_says_the_budget_cannot_be_checked(window, fake, qtbot) -> None:
    fake.emit(BudgetChanged(BudgetStatus(BudgetLevel.UNKNOWN, None, None, None)))
    banner, figure = window.budget.banner, window.budget.figure
    qtbot.waitUntil(lambda: banner.isVisible())
    assert "price is unknown" in banner.text()
    assert figure.text() == "Budget: price unknown"
    assert "Next turn (estimate, context billed again): unknown" in figure.toolTip()
    fake.emit(BudgetChanged(BudgetStatus(BudgetLevel.NONE, None, None, 0.01)))
    qtbot.waitUntil(lambda: not banner.isVisible() and not figure.isVisible())


def test_budget_settings_are_edited_and_saved(qtbot, config_dir) -> None:
    saved: list[Settings] = []
    dlg = SettingsDialog(
        Settings(budget_session_usd=1.5, budget_day_usd=0.0),
        device_lister=lambda: DeviceNames((), ()),
        keyring_read=lambda: {},
        keyring_write=lambda p, k: None,
        saver=saved.append,
    )
    qtbot.addWidget(dlg)
    tab = dlg.budget_tab
    assert tab.session_box.value() == 1.5
    assert tab.day_box.text() == "No limit"
    tab.day_box.setValue(4.25)
    tab.session_box.setValue(0.0)
    new = dlg.collect()
    assert (new.budget_session_usd, new.budget_day_usd) == (0.0, 4.25)
    dlg.accept()
    qtbot.waitUntil(lambda: bool(saved))
    assert saved[0].budget_day_usd == 4.25
    dlg.shutdown()
