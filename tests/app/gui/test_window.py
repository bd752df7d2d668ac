"""Every control drives the right assistant call; states render; listener threads are safe."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QSlider,
)

from app.gui.window import MainWindow
from app.model import Loading, Meters, Mode, Spend, State, Turn, TurnLatency, Usage

pytestmark = pytest.mark.gui


def connected(window: MainWindow, fake, state: State = State.LISTENING) -> None:
    fake.emit_state(state)
    assert window.is_connected()


def test_connect_uses_selected_backend_model_voice(window, fake, qtbot) -> None:
    i = window.ui.backend_box.findData("openai")
    window.ui.backend_box.setCurrentIndex(i)
    window.ui.model_box.setCurrentIndex(window.ui.model_box.findText("gpt-realtime-mini"))
    window.ui.voice_box.setCurrentIndex(window.ui.voice_box.findText("cedar"))
    qtbot.mouseClick(window.ui.connect_btn, Qt.MouseButton.LeftButton)
    assert fake.calls[-1] == ("connect", ("openai", "gpt-realtime-mini", "cedar"))
    fake.emit_state(State.CONNECTING)
    assert window.ui.connect_btn.text() == "Disconnect"
    assert not window.ui.backend_box.isEnabled()
    qtbot.mouseClick(window.ui.connect_btn, Qt.MouseButton.LeftButton)
    assert fake.calls[-1] == ("disconnect", ())


def test_azure_model_is_the_typed_deployment_name(window, fake, qtbot) -> None:
    """Issue 13: with Azure OpenAI the model is the user's deployment name, typed in."""
    window.ui.backend_box.setCurrentIndex(window.ui.backend_box.findData("azure"))
    assert window.ui.model_box.isEditable()
    window.ui.model_box.setEditText("my-realtime-deployment")
    qtbot.mouseClick(window.ui.connect_btn, Qt.MouseButton.LeftButton)
    assert fake.calls[-1][0] == "connect"
    assert fake.calls[-1][1][:2] == ("azure", "my-realtime-deployment")
    fake.emit_state(State.CONNECTING)
    qtbot.mouseClick(window.ui.connect_btn, Qt.MouseButton.LeftButton)
    window.ui.backend_box.setCurrentIndex(window.ui.backend_box.findData("openai"))
    assert not window.ui.model_box.isEditable()


def test_talk_button_hands_free_starts_and_stops(window, fake, qtbot) -> None:
    qtbot.mouseClick(window.ui.talk_btn, Qt.MouseButton.LeftButton)
    assert fake.names()[-1] == "connect"
    fake.emit_state(State.CONNECTING)
    assert fake.names().count("disconnect") == 0
    connected(window, fake)
    qtbot.mouseClick(window.ui.talk_btn, Qt.MouseButton.LeftButton)
    assert fake.names()[-1] == "disconnect"


def test_push_to_talk_button_hold(window, fake, qtbot) -> None:
    connected(window, fake)
    qtbot.mouseClick(window.ui.mode_buttons[Mode.PUSH_TO_TALK], Qt.MouseButton.LeftButton)
    assert fake.calls[-1] == ("set_mode", (Mode.PUSH_TO_TALK,))
    qtbot.mousePress(window.ui.talk_btn, Qt.MouseButton.LeftButton)
    assert fake.names()[-1] == "talk_start"
    assert "release" in window.ui.state_label.text()
    qtbot.mouseRelease(window.ui.talk_btn, Qt.MouseButton.LeftButton)
    assert fake.names()[-1] == "talk_end"


def test_push_to_talk_space_hold_ignores_autorepeat(window, fake, qtbot) -> None:
    connected(window, fake)
    window.set_mode(Mode.PUSH_TO_TALK)
    window.ui.talk_btn.setFocus()
    qtbot.keyPress(window.ui.talk_btn, Qt.Key.Key_Space)
    for _ in range(3):  # auto-repeat while held
        QApplication.sendEvent(
            window.ui.talk_btn,
            QKeyEvent(
                QEvent.Type.KeyPress, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier, " ", True
            ),
        )
    assert fake.names().count("talk_start") == 1
    qtbot.keyRelease(window.ui.talk_btn, Qt.Key.Key_Space)
    assert fake.names()[-1] == "talk_end"
    assert fake.names().count("talk_end") == 1


def test_space_types_in_text_box(window, fake, qtbot) -> None:
    connected(window, fake)
    window.set_mode(Mode.PUSH_TO_TALK)
    window.ui.text_box.setFocus()
    qtbot.keyClicks(window.ui.text_box, "a b")
    assert window.ui.text_box.text() == "a b"
    assert "talk_start" not in fake.names()


def test_toggle_mode_click_twice(window, fake, qtbot) -> None:
    connected(window, fake)
    qtbot.mouseClick(window.ui.mode_buttons[Mode.TOGGLE], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.ui.talk_btn, Qt.MouseButton.LeftButton)
    assert fake.names()[-1] == "talk_start"
    qtbot.mouseClick(window.ui.talk_btn, Qt.MouseButton.LeftButton)
    assert fake.names()[-1] == "talk_end"


def test_mute_mode_and_unmute(window, fake, qtbot) -> None:
    connected(window, fake)
    window.set_mode(Mode.TOGGLE)
    qtbot.mouseClick(window.ui.mode_buttons[Mode.MUTE], Qt.MouseButton.LeftButton)
    assert fake.calls[-1] == ("set_mode", (Mode.MUTE,))
    assert window.ui.state_label.text() == "Muted"
    qtbot.mouseClick(window.ui.talk_btn, Qt.MouseButton.LeftButton)  # click unmutes
    assert fake.calls[-1] == ("set_mode", (Mode.TOGGLE,))


def test_camera_screen_look_text_recording(window, fake, qtbot) -> None:
    connected(window, fake)
    qtbot.mouseClick(window.ui.camera_btn, Qt.MouseButton.LeftButton)
    assert fake.calls[-1] == ("set_camera", (True,))
    qtbot.mouseClick(window.ui.camera_btn, Qt.MouseButton.LeftButton)
    assert fake.calls[-1] == ("set_camera", (False,))
    qtbot.mouseClick(window.ui.screen_btn, Qt.MouseButton.LeftButton)
    assert fake.calls[-1] == ("set_screen", (True,))
    qtbot.mouseClick(window.ui.look_btn, Qt.MouseButton.LeftButton)
    assert fake.calls[-1] == ("look_at_this", ())
    qtbot.keyClicks(window.ui.text_box, "what is on my desk?")
    qtbot.keyClick(window.ui.text_box, Qt.Key.Key_Return)
    assert fake.calls[-1] == ("send_text", ("what is on my desk?",))
    assert window.ui.text_box.text() == ""
    qtbot.keyClick(window.ui.text_box, Qt.Key.Key_Return)  # empty: nothing sent
    assert fake.calls[-1] == ("send_text", ("what is on my desk?",))
    qtbot.mouseClick(window.ui.status.rec_button, Qt.MouseButton.LeftButton)
    assert fake.calls[-1] == ("set_recording", (False,))
    assert "Not recording" in window.ui.status.rec_dot.text()


SHORTCUTS = [
    ("Ctrl+K", ("connect", None)),
    ("Ctrl+E", ("set_camera", (True,))),
    ("Ctrl+Shift+S", ("set_screen", (True,))),
    ("Ctrl+L", ("look_at_this", ())),
    ("Ctrl+M", ("set_mode", (Mode.MUTE,))),
    ("Ctrl+2", ("set_mode", (Mode.PUSH_TO_TALK,))),
    ("Ctrl+3", ("set_mode", (Mode.TOGGLE,))),
    ("Ctrl+R", ("set_recording", (False,))),
]


@pytest.mark.parametrize(("keys", "expected"), SHORTCUTS)
def test_shortcuts(window, fake, keys, expected) -> None:
    action = next(a for a in window.actions_by_name.values() if a.shortcut().toString() == keys)
    action.trigger()
    name, args = expected
    assert fake.calls[-1][0] == name
    if args is not None:
        assert fake.calls[-1][1] == args


def test_every_main_action_has_a_shortcut(window) -> None:
    for name in ("connect", "camera", "screen", "look", "text", "mute", "settings", "sessions"):
        assert not window.actions_by_name[name].shortcut().isEmpty(), name


def test_states_render(window, fake) -> None:
    expected = {
        State.IDLE: "Not connected",
        State.CONNECTING: "Connecting…",
        State.LISTENING: "Ready — say something",
        State.USER_SPEAKING: "Listening to you…",
        State.THINKING: "Thinking…",
        State.ASSISTANT_SPEAKING: "Speaking",
        State.RECONNECTING: "Reconnecting…",
    }
    for state, text in expected.items():
        fake.emit_state(state)
        assert window.ui.state_label.text() == text
        assert window.ui.talk_btn._state == state
    fake.emit_state(State.ERROR, "OPENAI_API_KEY is not set: add it in Settings → API keys.")
    assert window.ui.state_label.text() == "Something went wrong"
    assert "Settings → API keys" in window.ui.hint_label.text()
    assert window.ui.connect_btn.text() == "Connect"  # can retry


def test_loading_progress_then_ready(window, fake) -> None:
    fake.emit_state(State.LOADING)
    fake.emit_loading(Loading(2, 5, "Loading speech recognition (Whisper tiny.en)"))
    assert window.ui.progress.isVisibleTo(window)
    assert window.ui.progress.value() == 400
    assert "40%" in window.ui.state_label.text()
    assert "Whisper" in window.ui.hint_label.text()
    fake.emit_loading(Loading(5, 5, "ready"))
    fake.emit_state(State.LISTENING)
    assert not window.ui.progress.isVisibleTo(window)
    assert window.ui.state_label.text() == "Ready — say something"


def test_transcript_partials_interrupted_and_detail(window, fake) -> None:
    fake.emit_turn(Turn(1, "user", "What is on", partial=True))
    fake.emit_turn(Turn(1, "user", "What is on my desk?", partial=False))
    fake.emit_turn(Turn(2, "assistant", "A red mug", partial=True))
    ms = 1_000_000
    lat = TurnLatency(
        1, speech_end_ns=0, commit_ns=90 * ms, first_byte_ns=420 * ms, first_audible_ns=610 * ms
    )
    fake.emit_turn(
        Turn(
            2,
            "assistant",
            "A red mug and a QR code.",
            partial=False,
            interrupted=True,
            played_ms=600,  # 60 % heard: "A red mug and" | "a QR code."
            received_ms=1000,
            latency=lat,
            usage=Usage(input_tokens=100, output_tokens=20),
            cost_usd=0.0021,
        )
    )
    turns = window.ui.transcript.turns()
    assert [t.turn_id for t in turns] == ["t1", "t2"]
    bubble = window.ui.transcript.bubble("t2")
    assert "line-through" in bubble.body.text() and "a QR code." in bubble.body.text()
    assert "interrupted" in bubble.detail.text() and "610 ms" in bubble.detail.text()
    assert "$0.0021" in bubble.detail.text()
    assert "first audible sound: 610 ms" in bubble.toolTip()
    assert window.ui.status.latency.text() == "Last reply: 610 ms"
    fake.emit_spend(Spend(Usage(input_tokens=100, output_tokens=20), 0.0021))
    assert window.ui.status.cost.text() == "Cost: $0.0021"
    assert "100 input / 20 output" in window.ui.status.cost.toolTip()
    fake.emit_spend(Spend(Usage(input_tokens=100, output_tokens=20), 0.0, free=True))
    assert "free" in window.ui.status.cost.text()
    fake.emit_time_left(125)
    assert window.ui.status.time_left.text() == "2:05 left"


def test_engine_thread_events_arrive_on_the_gui_thread_coalesced(window, fake, qtbot) -> None:
    """51 events published on another thread before the GUI runs: ONE delivery, on the GUI
    thread, holding the state change and only the newest version of the turn."""
    gui_thread = threading.get_ident()
    seen: list[tuple[int, list]] = []
    window.events.delivered.connect(lambda batch: seen.append((threading.get_ident(), batch)))

    def engine() -> None:
        fake.emit_state(State.ASSISTANT_SPEAKING)
        for i in range(50):
            fake.emit_turn(Turn(7, "assistant", "x" * i, partial=True))

    t = threading.Thread(target=engine)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: len(seen) == 1)
    qtbot.wait(50)  # nothing more arrives
    assert len(seen) == 1
    thread_id, batch = seen[0]
    assert thread_id == gui_thread
    assert [type(e).__name__ for e in batch] == ["StateChanged", "TurnUpdated"]
    assert window.ui.state_label.text() == "Speaking"
    assert window.ui.transcript.turns()[-1].text == "x" * 49
    assert window.events.pushed - window.events.deliveries >= 50


def test_sent_frames_and_preview(window, fake, qtbot) -> None:
    img = np.zeros((480, 640, 3), np.uint8)
    img[:, :, 2] = 200
    _ok, jpg = cv2.imencode(".jpg", img)
    fake.emit_frame_sent(jpg.tobytes())
    fake.emit_frame_sent(b"not a jpeg")
    qtbot.waitUntil(lambda: window.ui.thumbs.pending() == 0)  # decoded on the strip's worker
    assert window.ui.thumbs.count() == 1
    assert window.ui.thumbs.sent_total == 1
    fake.set_preview(img, 1)
    window.ui.camera_btn.setChecked(True)
    qtbot.waitUntil(lambda: window.ui.preview.frames_shown == 1)
    polls = fake.preview_polls
    qtbot.waitUntil(lambda: fake.preview_polls > polls + 2)
    assert window.ui.preview.frames_shown == 1  # same seq: not redrawn
    window.ui.camera_btn.setChecked(False)
    assert not window.ui.preview.has_image()


def test_meters_and_echo_hint(window, fake, qtbot) -> None:
    fake.current_meters = Meters(mic_dbfs=-30, speaker_dbfs=-10, erle_db=35)
    qtbot.waitUntil(lambda: window.ui.meters.echo.text() == "Speakers OK")
    assert 0.4 < window.ui.meters.mic.fraction() < 0.6
    fake.current_meters = Meters(mic_dbfs=-30, speaker_dbfs=-10, erle_db=4)
    qtbot.waitUntil(lambda: window.ui.meters.echo.text() == "Use headphones")
    fake.current_meters = Meters(mic_dbfs=-90, speaker_dbfs=-90, erle_db=None)
    qtbot.waitUntil(lambda: window.ui.meters.mic.fraction() == 0)
    assert window.ui.meters.echo.text() == "Use headphones"  # kept until judged again


def test_camera_switched_by_assistant_is_reflected(window, fake) -> None:
    window.ui.screen_btn.setChecked(True)
    n = len(fake.calls)
    fake.emit_camera(True)
    assert window.ui.camera_btn.isChecked() and not window.ui.screen_btn.isChecked()
    assert len(fake.calls) == n  # reflected, not echoed back
    fake.emit_camera(False)
    assert not window.ui.camera_btn.isChecked()


def test_recording_error_shown(window, fake) -> None:
    fake.emit_recording(False, "The disk is full: recording stopped.")
    assert "Not recording" in window.ui.status.rec_dot.text()
    assert "disk is full" in window.ui.status.rec_dot.toolTip()


def test_recording_error_is_said_in_the_status_bar(window, fake) -> None:
    """Issue 17, items 1-3: the reason recording stopped is shown, not only in a tooltip."""
    fake.emit_recording(False, "Recording stopped: the disk is full while writing x.")
    assert window.ui.status.currentMessage().startswith("Recording stopped: the disk is full")


def test_title_never_contains_a_key(window, fake, monkeypatch) -> None:
    canary = "sk-canary-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", canary)
    window.ui.backend_box.setCurrentIndex(window.ui.backend_box.findData("openai"))
    window.toggle_connection()
    fake.emit_state(State.ERROR, "The key was rejected: check OPENAI_API_KEY.")
    assert canary not in window.windowTitle()
    texts = [w.text() for w in window.findChildren(QLabel)]
    assert not any(canary in t for t in texts)


def test_controls_have_accessible_names(window) -> None:
    missing = []
    for cls in (QAbstractButton, QComboBox, QLineEdit, QSlider):
        for w in window.findChildren(cls):
            if w.isVisibleTo(window) and not (w.accessibleName() or getattr(w, "text", str)()):
                missing.append(f"{type(w).__name__} {w.objectName()}")
    assert not missing


def test_window_state_persists(qtbot, fake, qsettings, memory_keyring, config_dir) -> None:
    from app.config import Settings
    from app.gui.main import build_window

    w = build_window(fake, qsettings, Settings.load())
    qtbot.addWidget(w)
    w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData("gemini"))
    w.ui.voice_box.setCurrentIndex(w.ui.voice_box.findText("Kore"))
    w.set_mode(Mode.TOGGLE)
    w.resize(760, 540)
    w.close()  # waits for the settings file to be written
    saved = Settings.load()
    assert (saved.backend, saved.voice, saved.mode) == ("gemini", "Kore", "toggle")
    w2 = build_window(fake, qsettings, saved)
    qtbot.addWidget(w2)
    assert w2.selection() == ("gemini", w2.ui.model_box.itemText(0), "Kore")
    assert w2.ui.mode_buttons[Mode.TOGGLE].isChecked()
    assert ("set_mode", (Mode.TOGGLE,)) in fake.calls
    assert fake.calls[-1][0] == "apply_settings" and fake.calls[-1][1][0].voice == "Kore"
    assert (w2.width(), w2.height()) == (760, 540)
    w2.close()


def test_thumbnails_and_preview_are_decoded_and_scaled_off_the_gui_thread(
    window, fake, qtbot, monkeypatch
) -> None:
    import app.gui.preview as preview

    where: list[tuple[str, str]] = []
    decode, scale = preview.decode_thumbnail, preview.scaled_qimage

    def spy_decode(*args):  # type: ignore[no-untyped-def]
        where.append(("decode", threading.current_thread().name))
        return decode(*args)

    def spy_scale(*args):  # type: ignore[no-untyped-def]
        where.append(("scale", threading.current_thread().name))
        return scale(*args)

    monkeypatch.setattr(preview, "decode_thumbnail", spy_decode)
    monkeypatch.setattr(preview, "scaled_qimage", spy_scale)
    img = np.zeros((720, 1280, 3), np.uint8)
    fake.emit_frame_sent(cv2.imencode(".jpg", img)[1].tobytes())
    fake.set_preview(img, 1)
    window.ui.camera_btn.setChecked(True)
    qtbot.waitUntil(lambda: window.ui.preview.frames_shown == 1 and window.ui.thumbs.count() == 1)
    assert {kind for kind, _ in where} == {"decode", "scale"}
    assert all(name.startswith("gui-task") for _, name in where), where
    assert window.ui.preview.has_image()


def test_mute_shortcut_and_unmute_show_on_the_mode_buttons(window, fake, qtbot) -> None:
    connected(window, fake)
    window.set_mode(Mode.TOGGLE)
    window.actions_by_name["mute"].trigger()
    assert window.ui.mode_buttons[Mode.MUTE].isChecked()
    qtbot.mouseClick(window.ui.talk_btn, Qt.MouseButton.LeftButton)  # click unmutes
    assert window.ui.mode_buttons[Mode.TOGGLE].isChecked()
    assert fake.calls[-1] == ("set_mode", (Mode.TOGGLE,))


def test_a_new_window_renders_the_assistants_present_state(
    qtbot, fake, qsettings, memory_keyring, config_dir
) -> None:
    """The first render comes from ``current_events()``; with none, the idle state shows."""
    from app.config import Settings
    from app.gui.main import build_window
    from app.model import StateChanged, TurnUpdated

    w = build_window(fake, qsettings, Settings.load(), save_settings=None)
    qtbot.addWidget(w)
    assert w.ui.state_label.text() == "Not connected"
    w.close()
    fake.present = (
        StateChanged(State.THINKING),
        TurnUpdated(Turn(1, "user", "What is on my desk?", partial=False)),
    )
    w2 = build_window(fake, qsettings, Settings.load(), save_settings=None)
    qtbot.addWidget(w2)
    assert w2.ui.state_label.text() == "Thinking…"
    assert [t.text for t in w2.ui.transcript.turns()] == ["What is on my desk?"]
    w2.close()
