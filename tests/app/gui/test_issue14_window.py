"""Issue 14 (the window a person uses every day): one test per item, on real widgets offscreen."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRect, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QTabWidget
from pytestqt.qtbot import QtBot

from app.gui.transcript_view import TranscriptView, TurnBubble
from app.model import Mode, State
from app.transcript import Turn

pytestmark = pytest.mark.gui

EXCHANGES = [
    ("Hi there, what do you see?", "I see a desk with a laptop, a mug and some papers. " * 3),
    ("What colour is the mug?", "Blue, with a white handle."),
    ("And the plant?", "A small succulent in a terracotta pot on the windowsill. " * 4),
    ("Thanks.", "You're welcome."),
    ("Read the note on the left, please.", "It says: buy milk, call the plumber, water. " * 6),
]


def _settle() -> None:
    for _ in range(4):
        QApplication.processEvents()


def _bubble_span(view: TranscriptView, turn_id: str) -> tuple[int, int]:
    b = view.bubble(turn_id)
    assert b is not None
    top = b.mapTo(view.viewport(), b.rect().topLeft()).y()
    return top, top + b.height()


def _stream(view: TranscriptView, seq: int, role: str, text: str, check) -> None:
    words = text.split()
    for k in range(1, len(words) + 1, 4):
        view.update_turn(Turn(seq=seq, role=role, text=" ".join(words[:k]), partial=True))
        _settle()
        check()
    view.update_turn(Turn(seq=seq, role=role, text=text, partial=False))
    _settle()
    check()


# ---------------------------------------------------------------- item 1: the newest reply
def test_newest_bubble_stays_fully_visible_at_the_bottom(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(420, 360)
    view.show()
    qtbot.waitExposed(view)
    seq = 0
    for question, reply in EXCHANGES:
        for role, text in (("user", question), ("assistant", reply)):
            turn_id = f"t{seq}"

            def check(turn_id: str = turn_id) -> None:
                top, bottom = _bubble_span(view, turn_id)
                height = view.viewport().height()
                assert bottom <= height, f"{turn_id} cut at the bottom ({bottom} > {height})"
                # no blank pane under the newest bubble (only the column's margin)
                assert height - bottom <= 12 or view.verticalScrollBar().maximum() == 0
                if bottom - top <= height:
                    assert top >= 0, f"{turn_id} pushed above the top ({top})"

            _stream(view, seq, role, text, check)
            seq += 1


def test_scroll_position_kept_while_reading_above(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(420, 300)
    view.show()
    qtbot.waitExposed(view)
    seq = 0
    for question, reply in EXCHANGES[:3]:
        for role, text in (("user", question), ("assistant", reply)):
            view.update_turn(Turn(seq=seq, role=role, text=text, partial=False))
            seq += 1
    _settle()
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 3)  # the person scrolls up to read
    kept = bar.value()
    for role, text in (("user", EXCHANGES[3][0]), ("assistant", EXCHANGES[4][1])):
        _stream(view, seq, role, text, lambda: None)
        assert bar.value() == kept
        seq += 1
    bar.setValue(bar.maximum())  # back at the bottom: follows the newest again
    _settle()
    _stream(view, seq, "user", "One more question about the note.", lambda: None)
    top, bottom = _bubble_span(view, f"t{seq}")
    assert top >= 0 and bottom <= view.viewport().height()


# ---------------------------------------------------------------- item 2: Space reaches the talk
def _connected(window, fake) -> None:
    fake.emit_state(State.LISTENING)
    assert window.is_connected()


def _key(widget, key, kind, mods=Qt.KeyboardModifier.NoModifier, text=" ") -> None:
    et = QEvent.Type.KeyPress if kind == "press" else QEvent.Type.KeyRelease
    QApplication.sendEvent(widget, QKeyEvent(et, key, mods, text))


def test_clicking_a_mode_button_leaves_the_box_and_space_talks(window, fake, qtbot) -> None:
    _connected(window, fake)
    box = window.ui.text_box
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    qtbot.mouseClick(window.ui.mode_buttons[Mode.PUSH_TO_TALK], Qt.MouseButton.LeftButton)
    assert not box.hasFocus()
    focus = QApplication.focusWidget()
    qtbot.keyPress(focus, Qt.Key.Key_Space)
    assert fake.names()[-1] == "talk_start"
    qtbot.keyRelease(focus, Qt.Key.Key_Space)
    assert fake.names()[-1] == "talk_end"
    assert box.text() == ""


def test_escape_leaves_the_box(window, fake, qtbot) -> None:
    box = window.ui.text_box
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClicks(box, "hello")
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    assert not box.hasFocus()
    assert window.ui.talk_btn.hasFocus()
    assert box.text() == "hello"  # what was typed stays


@pytest.mark.parametrize("mode", [Mode.PUSH_TO_TALK, Mode.TOGGLE])
def test_space_in_the_empty_box_talks_but_types_once_typing(window, fake, qtbot, mode) -> None:
    _connected(window, fake)
    window.set_mode(mode)
    box = window.ui.text_box
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    _key(box, Qt.Key.Key_Space, "press")
    _key(box, Qt.Key.Key_Space, "release")
    assert box.text() == ""
    assert "talk_start" in fake.names() or "talk_end" in fake.names()
    fake.calls.clear()
    qtbot.keyClicks(box, "a b")
    assert box.text() == "a b"
    assert not {"talk_start", "talk_end"} & set(fake.names())


def test_space_in_the_box_types_in_hands_free(window, fake, qtbot) -> None:
    _connected(window, fake)
    box = window.ui.text_box
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClicks(box, " ")
    assert box.text() == " "
    assert "disconnect" not in fake.names()


def test_ctrl_space_holds_to_talk_from_the_box(window, fake, qtbot) -> None:
    _connected(window, fake)
    window.set_mode(Mode.PUSH_TO_TALK)
    box = window.ui.text_box
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClicks(box, "half a sentence")
    ctrl = Qt.KeyboardModifier.ControlModifier
    _key(box, Qt.Key.Key_Space, "press", ctrl)
    QApplication.sendEvent(
        box, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Space, ctrl, " ", True)
    )  # auto-repeat while held
    assert fake.names().count("talk_start") == 1
    _key(box, Qt.Key.Key_Control, "release", Qt.KeyboardModifier.NoModifier, "")
    _key(box, Qt.Key.Key_Space, "release")  # Ctrl let go first: Space still ends it
    assert fake.names()[-1] == "talk_end"
    assert box.text() == "half a sentence"
    assert box.hasFocus()


def test_ctrl_space_never_ends_a_hands_free_conversation(window, fake, qtbot) -> None:
    _connected(window, fake)
    ctrl = Qt.KeyboardModifier.ControlModifier
    _key(window.ui.text_box, Qt.Key.Key_Space, "press", ctrl)
    _key(window.ui.text_box, Qt.Key.Key_Space, "release", ctrl)
    assert "disconnect" not in fake.names()


# ---------------------------------------------------------------- item 4: command-line flags
def _clip(path: Path) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (64, 48))
    for i in range(10):
        writer.write(np.full((48, 64, 3), i * 20, np.uint8))
    writer.release()
    return path


def test_window_flags_reach_the_window_for_that_launch(
    qtbot, fake, qsettings, memory_keyring, tmp_path: Path, config_dir, monkeypatch
) -> None:
    from app import cli
    from app.config import Settings
    from app.gui import main as gui_main_module
    from app.gui.main import build_window, load_settings, save_changes_only

    clip = _clip(tmp_path / "desk.mp4")
    given: dict[str, object] = {}

    def fake_gui_main(argv, overrides=None) -> int:  # the window itself is built below
        given.update(overrides or {})
        return 0

    monkeypatch.setattr(gui_main_module, "main", fake_gui_main)
    # This machine has no sound devices: the names are checked elsewhere (test_cli_polish).
    monkeypatch.setattr("app.devices.device_flags_problem", lambda mic, speaker: "")
    argv = ["--backend", "openai", "--voice", "cedar", "--video", str(clip)]
    argv += ["--input-device", "USB Mic", "--output-device", "Speakers"]
    assert cli.main(argv) == 0  # no more "--video needs --headless"
    assert given["backend"] == "openai" and given["camera"] == str(clip)
    from app.window_flags import launch_note

    note = launch_note(given)  # type: ignore[arg-type]
    assert "not saved" in note and "backend openai" in note and "desk.mp4" in note

    Settings(backend="local", camera="", input_device="").save()
    saved, settings, problem = load_settings(env={}, overrides=given)  # type: ignore[arg-type]
    assert problem == ""
    assert (settings.backend, settings.voice, settings.camera) == ("openai", "cedar", str(clip))
    assert (settings.input_device, settings.output_device) == ("USB Mic", "Speakers")
    w = build_window(fake, qsettings, settings, save_settings=save_changes_only(saved, settings))
    qtbot.addWidget(w)
    assert w.ui.backend_box.currentData() == "openai"
    assert w.ui.voice_box.currentText() == "cedar"
    applied = [c[1][0] for c in fake.calls if c[0] == "apply_settings"][-1]
    assert applied.camera == str(clip) and applied.input_device == "USB Mic"
    w.ui.connect_btn.click()
    assert fake.calls[-1][0] == "connect" and fake.calls[-1][1][0] == "openai"
    w.close()
    on_disk = Settings.load()
    assert (on_disk.backend, on_disk.camera) == ("local", "")  # that launch only


def test_a_bad_window_flag_is_refused_with_a_reason(capsys) -> None:
    from app import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["--video", "/no/such/clip.mp4"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--video" in err and "needs --headless" not in err


# ---------------------------------------------------------------- item 5: no camera set up
def _adapter_without_camera(media_dir: Path, cameras: list[object]):
    from app.camera_presence import camera_is_set_up
    from app.config import Settings
    from app.gui.adapter import AssistantAdapter
    from tests.app.fakes import FakeAudio, FakeSpec

    opened: list[str] = []

    def source(spec: str):
        from video.file import FileSource

        opened.append(spec)
        return FileSource(str(media_dir / "video" / "desk.png"), loop=True, still_fps=5.0)

    adapter = AssistantAdapter(
        Settings(recording=False, camera="", camera_on=True),
        resolve=lambda settings, **kw: FakeSpec(),
        make_audio=lambda s, rate: FakeAudio(),
        make_source=source,
        camera_set_up=lambda spec: camera_is_set_up(spec, lambda: cameras),
    )
    return adapter, opened


@pytest.mark.parametrize("cameras", [[], ["USB camera"]])
def test_first_connect_without_a_camera_leaves_the_camera_off(
    window, fake, qtbot, media_dir: Path, cameras: list[object]
) -> None:
    from app.model import CameraChanged, ModelEvent, NoticeChanged, StateChanged
    from tests.reliability.helpers import wait_until

    adapter, _ = _adapter_without_camera(media_dir, cameras)
    events: list[ModelEvent] = []
    adapter.subscribe(events.append)
    adapter.subscribe(fake.emit)  # the window sees what the real adapter publishes
    try:
        adapter.connect("openai", "gpt-realtime", "marin")
        wait_until(
            lambda: any(isinstance(e, StateChanged) and e.state == State.LISTENING for e in events),
            15,
            "the conversation to start",
        )
        qtbot.waitUntil(lambda: window.conversation_state == State.LISTENING)
        shown_on = any(isinstance(e, CameraChanged) and e.on for e in events)
        assert window.ui.camera_btn.isChecked() == shown_on == bool(cameras)
        notices = [e.message for e in events if isinstance(e, NoticeChanged)]
        if not cameras:
            assert any("Settings → Camera" in m for m in notices)
            qtbot.waitUntil(lambda: "Settings → Camera" in window.ui.status.currentMessage())
    finally:
        adapter.disconnect()
        adapter.close()


# ---------------------------------------------------------------- item 8: small windows
def _in_window(window, widget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def test_at_the_minimum_size_every_control_is_whole(window, fake, qtbot) -> None:
    window.resize(1120, 720)
    _settle()
    big_preview = window.ui.preview.height()
    _connected(window, fake)  # "Disconnect", the longest connect text
    window.resize(640, 420)  # smaller than allowed: the window stops at its minimum
    qtbot.waitUntil(lambda: window.size() == window.minimumSize())
    _settle()
    assert window.minimumWidth() >= 640 and window.minimumHeight() >= 420
    for button in window.findChildren(QAbstractButton):
        if button.isVisible() and button.text():
            need = button.fontMetrics().horizontalAdvance(button.text())
            assert need <= button.width(), f"{button.text()!r} cut: {need} > {button.width()}"
    ui = window.ui
    preview, thumbs = _in_window(window, ui.preview), _in_window(window, ui.thumbs)
    assert preview.bottom() < thumbs.top(), "the frame strip overlaps the preview"
    assert ui.preview.height() < big_preview  # the preview gave way
    bottom_card = ui.talk_btn.parentWidget()
    card = _in_window(window, bottom_card)
    for part in (ui.meters, ui.meters.mic, ui.meters.speaker, ui.meters.echo, ui.talk_btn):
        assert card.contains(_in_window(window, part)), f"{part.accessibleName()} cut"
    for mode_button in ui.mode_buttons.values():
        assert card.contains(_in_window(window, mode_button))
    state = ui.state_label
    assert state.heightForWidth(state.width()) <= state.height(), "state text cut"
    assert window.rect().contains(_in_window(window, ui.status))


def test_the_bottom_bar_reflows_and_comes_back(window, qtbot) -> None:
    window.resize(window.minimumSize())
    _settle()
    assert not window.ui.reflow.is_row()  # meters under the modes
    window.resize(1280, 760)
    _settle()
    assert window.ui.reflow.is_row()


# ---------------------------------------------------------------- item 11: switching backend
def test_switching_backend_keeps_the_conversation_with_a_divider(window, fake, qtbot) -> None:
    from app.model import TranscriptReset

    ui = window.ui
    fake.emit(TranscriptReset())  # the first conversation starts: nothing to divide yet
    fake.emit_turn(Turn(1, "user", "What is on my desk?", partial=False))
    fake.emit_turn(Turn(2, "assistant", "A red mug.", partial=False))
    fake.emit_state(State.IDLE)
    ui.backend_box.setCurrentIndex(ui.backend_box.findData("openai"))
    ui.connect_btn.click()
    assert fake.calls[-1][1][0] == "openai"
    fake.emit_state(State.CONNECTING)
    fake.emit(TranscriptReset())  # the assistant starts its new conversation
    fake.emit_state(State.LISTENING)
    fake.emit_turn(Turn(1, "user", "And now?", partial=False))  # turn ids start again
    _settle()
    texts = [b.body.text() for b in ui.transcript.findChildren(TurnBubble) if b.isVisibleTo(window)]
    assert any("What is on my desk?" in t for t in texts)
    assert any("A red mug." in t for t in texts)
    assert any("And now?" in t for t in texts)
    dividers = ui.transcript.dividers()
    assert len(dividers) == 1 and "OpenAI" in dividers[0]
    assert [t.text for t in ui.transcript.turns()] == ["And now?"]  # the current one
    label = ui.transcript.findChild(QLabel, "conversationDivider")
    assert label is not None and label.isVisibleTo(window)


# ---------------------------------------------------------------- item 6: a file as the camera
def test_browse_chooses_a_video_file_as_the_camera(window, fake, qtbot, tmp_path: Path) -> None:
    from tests.app.gui.test_settings_dialog import open_dialog

    clip = _clip(tmp_path / "desk.mp4")
    dlg = open_dialog(window, qtbot)
    field = dlg.camera_field
    tabs = dlg.findChild(QTabWidget)
    tabs.setCurrentIndex([tabs.tabText(i) for i in range(tabs.count())].index("Camera"))
    assert field.browse_btn.text() == "Browse…" and field.browse_btn.isVisibleTo(dlg)
    qtbot.mouseClick(field.browse_btn, Qt.MouseButton.LeftButton)
    chooser = field.dialog
    assert chooser is not None
    qtbot.waitUntil(chooser.isVisible)
    assert "*.mp4" in chooser.nameFilters()[0] and "*.png" in chooser.nameFilters()[0]
    chooser.selectFile(str(clip))
    chooser.accept()
    assert dlg.camera_edit.text() == str(clip)
    dlg.accept()
    applied = [c[1][0] for c in fake.calls if c[0] == "apply_settings"][-1]
    assert applied.camera == str(clip)


def _drop(widget, path: Path | str) -> tuple[bool, bool]:
    """(drag accepted, drop accepted) for ``path`` dragged onto ``widget``."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) if isinstance(path, Path) else QUrl(path)])
    pos = QPointF(widget.rect().center())
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(widget, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_dropping_an_image_on_the_preview_makes_it_the_camera(
    window, fake, qtbot, media_dir: Path
) -> None:
    image = media_dir / "video" / "desk.png"
    assert _drop(window.ui.preview, "https://example.com/x.png") == (False, False)
    assert not window.ui.camera_btn.isChecked()
    assert _drop(window.ui.preview, image) == (True, True)
    applied = [c[1][0] for c in fake.calls if c[0] == "apply_settings"][-1]
    assert applied.camera == str(image)
    assert window.ui.camera_btn.isChecked() and ("set_camera", (True,)) in fake.calls
    assert "Settings → Camera" in window.ui.status.currentMessage()
    assert window.current_settings().camera == str(image)  # kept like a choice in Settings


def test_hints_name_the_tabs_as_they_are() -> None:
    import video.camera
    import video.screen

    for module in (video.camera, video.screen):
        text = Path(module.__file__ or "").read_text()
        assert "Settings → Video" not in text
        assert "Settings → Camera" in text


# ---------------------------------------------------------------- polish (window side)
def test_a_cancel_race_after_a_barge_in_is_not_surfaced() -> None:
    from app.assistant import Assistant
    from app.modes import ConversationOptions
    from realtime.events import ServerError
    from tests.app.fakes import FakeAudio, FakeSpec
    from tests.app.test_assistant import start, wait_until

    spec = FakeSpec()
    a = Assistant(spec, FakeAudio(), options=ConversationOptions(mode=Mode.HANDS_FREE))
    try:
        start(a)
        race = ServerError(
            "Cancellation failed: no active response found",
            "response_cancel_not_active",
            "invalid_request_error",
            "response.cancel",
        )
        spec.sessions[-1].emit(race)
        wait_until(a, lambda s: s.server_errors, "the cancel error")
        assert a.snapshot().notice == ""  # recorded, not shown
        spec.sessions[-1].emit(ServerError("rate limited", code="rate_limit_exceeded"))
        wait_until(a, lambda s: "rate limited" in s.notice, "a real error shown")
    finally:
        a.close()


def test_look_at_this_flashes_the_preview_and_marks_the_snapshot(window, fake, qtbot) -> None:
    from app.model import FrameSent, SentFrame
    from video.pacing import Reason

    qtbot.mouseClick(window.ui.look_btn, Qt.MouseButton.LeftButton)
    assert fake.names()[-1] == "look_at_this"
    assert window.ui.preview.flashing
    qtbot.waitUntil(lambda: not window.ui.preview.flashing)
    jpg = cv2.imencode(".jpg", np.full((90, 160, 3), 128, np.uint8))[1].tobytes()
    fake.emit_frame_sent(jpg)
    fake.emit(FrameSent(SentFrame(jpg, 1, Reason.SNAPSHOT, 160, 90, snapshot=True)))
    strip = window.ui.thumbs
    qtbot.waitUntil(lambda: strip.count() == 2)
    kinds = [strip.item(i).data(Qt.ItemDataRole.UserRole) for i in range(2)]
    assert kinds == ["frame", "snapshot"]
    assert strip.item(1).toolTip().startswith("Snapshot (Look at this)")


def test_muted_is_shown_in_an_off_colour(window, fake) -> None:
    from app.gui.theme import MUTED_COLOUR, STATE_COLOURS

    _connected(window, fake)
    assert STATE_COLOURS[State.LISTENING] in window.ui.state_label.styleSheet()
    window.toggle_mute()
    assert window.ui.state_label.text() == "Muted"
    assert MUTED_COLOUR in window.ui.state_label.styleSheet()
    assert STATE_COLOURS[State.LISTENING] not in window.ui.state_label.styleSheet()
    assert window.ui.talk_btn._muted
    window.toggle_mute()
    assert not window.ui.talk_btn._muted


def test_latency_parts_are_named_with_units(window, fake) -> None:
    from app.gui.transcript_view import detail_line
    from app.model import TurnLatency

    ms = 1_000_000
    lat = TurnLatency(1, 0, 120 * ms, first_byte_ns=570 * ms, first_audible_ns=820 * ms)
    turn = Turn(2, "assistant", "A red mug.", partial=False, latency=lat)
    line = detail_line(turn)
    assert line.startswith("reply in 820 ms")
    for part in ("turn ended 120 ms", "first byte 450 ms", "to sound 250 ms"):
        assert part in line
    fake.emit_turn(turn)
    tip = window.ui.status.latency.toolTip()
    assert "to sound 250 ms" in tip and "audible" not in tip


def test_replies_are_shown_capitalised_not_rewritten(window, fake) -> None:
    from app.gui.transcript_view import capitalised

    assert capitalised("the main colours") == "The main colours"
    assert capitalised(' "ok" then') == ' "Ok" then'
    assert capitalised("3 mugs") == "3 mugs"
    said = "the main colours I see are red and green."
    fake.emit_turn(Turn(2, "assistant", said, partial=False))
    bubble = window.ui.transcript.bubble("t2")
    assert bubble is not None and "The main colours" in bubble.body.text()
    assert window.ui.transcript.turns()[-1].text == said  # the transcript is unchanged
    fake.emit_turn(Turn(3, "user", "and you?", partial=False))
    assert "and you?" in window.ui.transcript.bubble("t3").body.text()  # the user's own words


def test_the_colours_setting_applies_at_once(window, qtbot) -> None:
    from PySide6.QtGui import QPalette

    from app.config import Settings
    from app.gui.theme import apply_theme
    from tests.app.gui.test_settings_dialog import open_dialog

    app = QApplication.instance()
    try:
        dlg = open_dialog(window, qtbot)
        dlg.theme_box.setCurrentIndex(dlg.theme_box.findData("dark"))
        dlg.accept()
        assert window.settings.theme == "dark"
        assert app.palette().color(QPalette.ColorRole.Window).lightness() < 100
        assert Settings.from_dict({"theme": "light"}, source="test").theme == "light"
    finally:
        apply_theme(app, "light")
