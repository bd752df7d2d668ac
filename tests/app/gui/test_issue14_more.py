"""Issue #14, items 3, 9, 10 and 12 as the window shows them (pytest-qt, offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from app.secrets import api_key, forget_this_run_keys
from tests.app.gui.test_settings_dialog import KEY, all_texts, open_dialog

pytestmark = pytest.mark.gui


@pytest.fixture
def no_keyring(memory_keyring, monkeypatch) -> Iterator[None]:
    """The machine has no keyring backend (keyring's own "fail" backend, as without one)."""
    for name in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    keyring.set_keyring(fail.Keyring())  # memory_keyring's teardown restores the real one
    forget_this_run_keys()
    yield
    forget_this_run_keys()


def test_no_keyring_says_one_sentence_and_the_key_works_for_this_run(
    no_keyring, window, qtbot, config_dir: Path, qsettings
) -> None:
    dlg = open_dialog(window, qtbot)
    note = dlg.keyring_note.text()
    assert dlg.keyring_note.isVisibleTo(dlg.tabs.widget(0))
    assert "works until VoiceCam closes" in note and "keyring" in note
    assert "OPENAI_API_KEY" in note
    # not the exception, and not in red under every tab
    assert not any("No recommended backend" in t for t in all_texts(dlg))
    assert not any("Error" in t for t in all_texts(dlg))
    assert dlg.message.text() == ""

    dlg.key_rows["openai"].edit.setText(KEY)
    with qtbot.waitSignal(dlg.saved_to_disk), qtbot.waitSignal(dlg.error) as failed:
        dlg.buttons.accepted.emit()
    said = failed.args[0]
    assert said.startswith("Your OpenAI key works until VoiceCam closes")
    assert "OPENAI_API_KEY" in said and "Error" not in said
    assert window.ui.status.currentMessage() == said

    assert api_key("openai", env={}) == KEY  # used for this launch
    for f in [*config_dir.rglob("*"), Path(qsettings.fileName())]:
        if f.is_file():
            assert KEY not in f.read_text(errors="replace"), f  # never in plain text


def test_window_state_lives_in_the_one_settings_folder(tmp_path: Path, monkeypatch) -> None:
    """Item 12: Qt's own ``~/.config/VoiceCam`` was a second settings folder."""
    from PySide6.QtCore import QSettings

    from app.config import config_dir
    from app.config_folder import legacy_config_dir, migrate_legacy_config
    from app.gui.main import make_qsettings

    monkeypatch.delenv("VOICECAM_CONFIG_DIR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    old = QSettings(str(tmp_path / "VoiceCam" / "VoiceCam.ini"), QSettings.Format.IniFormat)
    old.setValue("window/splitter", "kept")
    old.sync()
    del old
    (tmp_path / "voicecam").mkdir()
    (tmp_path / "voicecam" / "settings.toml").write_text('backend = "gemini"\n')

    migrate_legacy_config(config_dir(), legacy_config_dir())
    qs = make_qsettings()
    assert Path(qs.fileName()) == tmp_path / "voicecam" / "window.ini"
    assert qs.value("window/splitter") == "kept"
    qs.setValue("window/geometry", "new")
    qs.sync()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["voicecam"]
    assert sorted(p.name for p in (tmp_path / "voicecam").iterdir()) == [
        "settings.toml",
        "window.ini",
    ]


def test_device_lists_show_descriptions_and_keep_names(window, qtbot) -> None:
    """Item 9: the sound server's devices by description; the setting holds the stable name."""
    from app.config import Settings
    from app.devices import DeviceNames
    from app.gui.settings_dialog import SettingsDialog

    found = DeviceNames(
        ("alsa_input.usb-mic",),
        ("alsa_output.pci.analog-stereo", "bluez_sink.headset"),
        {
            "alsa_input.usb-mic": "USB Microphone",
            "alsa_output.pci.analog-stereo": "Built-in Audio Analog Stereo",
            "bluez_sink.headset": "Headset",
        },
    )
    dlg = SettingsDialog(
        Settings(output_device="bluez_sink.headset"),
        window,
        keyring_read=dict,
        device_lister=lambda: found,
    )
    qtbot.waitUntil(lambda: dlg.keys_loaded and dlg.devices_loaded)
    box = dlg.output_box
    shown = [box.itemText(i) for i in range(box.count())]
    assert shown == ["System default", "Built-in Audio Analog Stereo", "Headset"]
    assert box.currentText() == "Headset"
    assert dlg.input_box.itemText(1) == "USB Microphone"
    box.setCurrentIndex(1)
    assert dlg.collect().output_device == "alsa_output.pci.analog-stereo"
    dlg.shutdown()
    dlg.deleteLater()
