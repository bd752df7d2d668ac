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


def _loud_windows(path: Path) -> int:
    """50 ms windows louder than RMS 1000 in a recorded WAV."""
    import numpy as np

    from dsp.pcm import read_wav

    pcm, rate = read_wav(path)
    x = np.frombuffer(pcm, np.int16).astype(np.float64)
    win = rate // 20
    return sum(
        bool(np.sqrt(np.mean(x[i : i + win] ** 2)) > 1000) for i in range(0, len(x) - win, win)
    )


@pytest.mark.pulse
def test_replay_is_heard_while_a_live_engine_runs(qtbot, tmp_path: Path, pulse_server) -> None:
    """Item 3: a replay opened before PortAudio was re-initialised is heard, with no error,
    while a live conversation's audio engine runs its own duplex stream."""
    from app.gui.replay_view import ReplayView
    from audio.config import AudioConfig
    from audio.devices import reinitialize
    from audio.engine import AudioEngine
    from audio.events import MicAudio
    from tests.app.gui.test_sessions import make_session
    from tests.audio.runner import EngineRunner

    path = make_session(tmp_path, "What is on my desk?")
    view = ReplayView(audio=True)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=20000):
        view.open(path)
    # What the live engine's device recovery does (audio.recovery): PortAudio re-initialised
    # after the replay was opened. A stream opened with the session is gone ("Invalid stream
    # pointer", PaErrorCode -9988).
    reinitialize()
    with EngineRunner(AudioEngine(AudioConfig(input_device="pulse", output_device="pulse"))) as run:
        run.wait_for(MicAudio)  # a live conversation's duplex stream runs
        rec = pulse_server.record(tmp_path / "heard.wav")
        qtbot.wait(300)
        view.play()
        qtbot.waitUntil(lambda: view.position_ms() > 0, timeout=1000)  # never sits at 0:00
        qtbot.waitUntil(lambda: not view._playing, timeout=20000)  # stops at the end
        qtbot.wait(300)
        rec.stop()
        assert run.call(lambda: run.engine.info) is not None  # the live engine still runs
    note = view.note.text()
    view.shutdown()
    assert "failed" not in note and "without sound" not in note, note
    # two 1 s tones (mic at 0.1 s, reply at 1.5 s): about 2 s of loud audio in 50 ms windows
    assert 30 <= _loud_windows(tmp_path / "heard.wav") <= 50


def test_replay_while_connected_pauses_the_live_microphone(window, fake, qtbot, tmp_path) -> None:
    """Item 3: the replay heard from the speaker must not be sent as the user's speech."""
    from app.gui.replay_mic import PAUSED_NOTE
    from app.model import State
    from app.modes import Mode
    from tests.app.gui.test_sessions import make_session

    make_session(tmp_path / "sessions", "What is on my desk?")
    window.set_mode(Mode.PUSH_TO_TALK)
    fake.emit_state(State.LISTENING)
    window.show_sessions()
    browser = window.sessions_window
    qtbot.waitUntil(lambda: browser.table.rowCount() == 1)
    browser.table.selectRow(0)
    with qtbot.waitSignal(browser.replay.loaded, timeout=20000):
        browser.open_selected()
    view = browser.replay

    view.play()
    assert window.talk.mode == Mode.MUTE
    assert ("set_mode", (Mode.MUTE,)) in fake.calls
    assert view.note.text() == PAUSED_NOTE
    assert "paused" in window.ui.status.currentMessage()
    view.stop()
    assert window.talk.mode == Mode.PUSH_TO_TALK  # the person's mode comes back
    assert fake.calls[-1] == ("set_mode", (Mode.PUSH_TO_TALK,))
    assert view.note.text() == ""

    fake.emit_state(State.IDLE)  # not connected: nothing to pause
    view.play()
    assert window.talk.mode == Mode.PUSH_TO_TALK
    view.stop()
