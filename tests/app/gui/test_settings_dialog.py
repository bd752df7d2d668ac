"""Settings dialog: keys go to the keyring (in-memory test backend) and are never shown in
full again; everything else persists in app.config.Settings and reaches the assistant."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QLineEdit, QPlainTextEdit

from app.config import Settings
from app.devices import DeviceNames
from app.gui.api_keys import mask_key
from app.gui.settings_dialog import SettingsDialog
from app.secrets import KEYRING_SERVICE

pytestmark = pytest.mark.gui

KEY = "sk-proj-CANARY0123456789abcdefWXYZ"


def open_dialog(window, qtbot) -> SettingsDialog:
    window.actions_by_name["settings"].trigger()
    dlg = window.settings_dialog
    assert isinstance(dlg, SettingsDialog)
    qtbot.waitUntil(lambda: dlg.keys_loaded and dlg.devices_loaded)
    return dlg


def all_texts(dlg: SettingsDialog) -> list[str]:
    texts = [w.text() for w in dlg.findChildren(QLineEdit)]
    texts += [w.text() for w in dlg.findChildren(QLabel)]
    texts += [w.toolTip() for w in dlg.findChildren(QLabel)]
    texts += [w.toPlainText() for w in dlg.findChildren(QPlainTextEdit)]
    texts.append(dlg.windowTitle())
    return texts


def test_mask_key() -> None:
    assert mask_key(KEY) == "sk-…WXYZ"
    assert KEY not in mask_key(KEY)


def test_settings_persist_and_reach_assistant(
    window, fake, qtbot, memory_keyring, qsettings, config_dir: Path
) -> None:
    window.ui.backend_box.setCurrentIndex(window.ui.backend_box.findData("openai"))
    dlg = open_dialog(window, qtbot)
    assert [dlg.input_box.itemText(i) for i in range(dlg.input_box.count())] == [
        "System default",
        "USB Mic",
        "Built-in Mic",
    ]
    dlg.key_rows["openai"].edit.setText(KEY)
    dlg.input_box.setCurrentIndex(dlg.input_box.findData("USB Mic"))
    dlg.output_box.setCurrentIndex(dlg.output_box.findData("Speakers"))
    dlg.vad_slider.setValue(80)
    dlg.aec_box.setCurrentIndex(dlg.aec_box.findData("headphones"))
    dlg.patience_box.setCurrentIndex(dlg.patience_box.findData("high"))
    dlg.policy_box.setCurrentIndex(dlg.policy_box.findData("on-change"))
    dlg.budget_spin.setValue(12)
    dlg.camera_edit.setText("/work/shared/media/video/desk.mp4")
    dlg.instructions_edit.setPlainText("Answer in one sentence.")
    dlg.voice_box.setCurrentIndex(dlg.voice_box.findData("cedar"))
    dlg.folder_edit.setText("/tmp/voicecam-sessions")
    dlg.record_check.setChecked(False)
    with qtbot.waitSignals([dlg.keys_saved, dlg.saved_to_disk]):
        dlg.buttons.accepted.emit()

    assert memory_keyring.store[(KEYRING_SERVICE, "openai")] == KEY
    name, (applied,) = fake.calls[-1]
    assert name == "apply_settings" and isinstance(applied, Settings)
    assert applied.input_device == "USB Mic" and applied.output_device == "Speakers"
    assert applied.aec == "headphones" and applied.frames_per_minute == 12
    assert applied.patience == "high" and applied.options().eagerness == "low"
    assert applied.frame_policy == "on-change" and applied.voice == "cedar"
    assert applied.instructions == "Answer in one sentence." and applied.backend == "openai"
    assert applied.camera.endswith("desk.mp4")
    assert applied.options().vad_threshold < 0.5  # more sensitive → lower threshold
    assert window.ui.voice_box.currentText() == "cedar"
    assert "Not recording" in window.ui.status.rec_dot.text()

    stored = Settings.load()
    assert stored.input_device == "USB Mic" and stored.vad_sensitivity == 0.8
    assert stored.recording is False and stored.recordings_dir == "/tmp/voicecam-sessions"
    for f in [*config_dir.rglob("*"), Path(qsettings.fileName())]:
        if f.is_file():
            assert KEY not in f.read_text(errors="replace"), f

    # reopen: the key is shown masked only; the form shows the saved values
    dlg2 = open_dialog(window, qtbot)
    assert dlg2 is not dlg
    assert dlg2.input_box.currentData() == "USB Mic"
    assert dlg2.vad_slider.value() == 80
    assert dlg2.aec_box.currentData() == "headphones"
    assert dlg2.patience_box.currentData() == "high"
    assert dlg2.instructions_edit.toPlainText() == "Answer in one sentence."
    row = dlg2.key_rows["openai"]
    assert "sk-…WXYZ" in row.status.text()
    assert row.edit.text() == ""
    assert not any(KEY in t for t in all_texts(dlg2))

    # remove the key
    row.remove.click()
    with qtbot.waitSignal(dlg2.keys_saved):
        dlg2.accept()
    assert (KEYRING_SERVICE, "openai") not in memory_keyring.store


def test_environment_key_shown_masked(window, qtbot, monkeypatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaSyCANARY0123456789abcd")
    dlg = open_dialog(window, qtbot)
    text = dlg.key_rows["gemini"].status.text()
    assert "environment" in text and "abcd" in text
    assert "AIzaSyCANARY0123456789abcd" not in text
    dlg.reject()


def test_cancel_changes_nothing(window, fake, qtbot, memory_keyring, config_dir) -> None:
    dlg = open_dialog(window, qtbot)
    dlg.key_rows["openai"].edit.setText(KEY)
    dlg.budget_spin.setValue(3)
    dlg.reject()
    assert memory_keyring.store == {}
    assert not Settings.path().exists()
    assert "apply_settings" not in fake.names()[1:]  # only the start-up one


def test_keyring_failure_is_reported(window, qtbot) -> None:
    def broken() -> dict:
        raise RuntimeError("no Secret Service on this machine")

    dlg = SettingsDialog(
        Settings(), window, keyring_read=broken, device_lister=lambda: DeviceNames((), ())
    )
    qtbot.waitUntil(lambda: dlg.keys_loaded and dlg.devices_loaded)
    assert "no keyring" in dlg.keyring_note.text()
    assert "Secret Service" not in dlg.keyring_note.text()  # a sentence, not the exception
    dlg.shutdown()
    dlg.deleteLater()


def test_cloud_tab_endpoints_and_options_persist(window, fake, qtbot, config_dir) -> None:
    """Issue 13: the Backend URL fields and provider options live in Settings → Cloud."""
    dlg = open_dialog(window, qtbot)
    cloud = dlg.cloud_tab
    labels = [cloud.resolution_box.itemText(i) for i in range(cloud.resolution_box.count())]
    assert all("tokens per frame" in label for label in labels)  # the cost of each choice
    cloud.gemini_url.setText("ftp://not-a-gateway")
    dlg.accept()
    assert "gemini_url" in dlg.message.text() and dlg.isVisible()  # stays open, says why
    cloud.gemini_url.setText("https://gateway.example")
    cloud.vertex_project.setText("my-project-123")
    cloud.noise_box.setCurrentIndex(cloud.noise_box.findData("near"))
    cloud.resolution_box.setCurrentIndex(cloud.resolution_box.findData("low"))
    cloud.compression_check.setChecked(False)
    with qtbot.waitSignal(dlg.saved_to_disk):
        dlg.accept()
    stored = Settings.load()
    assert (stored.gemini_url, stored.vertex_project) == (
        "https://gateway.example",
        "my-project-123",
    )
    assert (stored.noise_reduction, stored.media_resolution) == ("near", "low")
    assert stored.context_compression is False
    dlg2 = open_dialog(window, qtbot)
    assert dlg2.cloud_tab.gemini_url.text() == "https://gateway.example"
    assert "azure" in dlg2.key_rows  # the Azure key has its keyring row
    dlg2.reject()
