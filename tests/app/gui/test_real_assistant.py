"""The window on the REAL app.assistant.Assistant through AssistantAdapter: a scripted in-process
session (tests.app.fakes), a real FileSource camera (desk.png), a real SessionRecorder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.config import Settings
from app.gui.adapter import AssistantAdapter
from app.gui.main import build_window
from app.gui.model import Mode, State
from realtime.events import (
    ActivityEnd,
    ActivityStart,
    AudioDelta,
    InputTranscript,
    ResponseDone,
    ResponseStarted,
    SendText,
    TranscriptDelta,
    TranscriptDone,
    Usage,
)
from tests.app.fakes import FakeAudio, FakeSpec

pytestmark = pytest.mark.gui

ONE_SECOND_24K = b"\x00\x01" * 24000


@pytest.fixture
def rig(qtbot, qsettings, memory_keyring, config_dir, tmp_path: Path, media_dir: Path):
    spec = FakeSpec(name="openai", model="gpt-realtime")
    audio = FakeAudio()
    resolved: list[tuple] = []

    def resolve(name, model, voice, **kw):
        resolved.append((name, model, voice))
        return spec

    def source(spec_text: str):
        from video.file import FileSource

        return FileSource(str(media_dir / "video" / "desk.png"), loop=True, still_fps=5.0)

    settings = Settings(recordings_dir=str(tmp_path / "rec"), camera="desk")
    adapter = AssistantAdapter(
        settings, resolve=resolve, make_audio=lambda s, rate: audio, make_source=source
    )
    w = build_window(adapter, qsettings, settings, save_settings=None)
    qtbot.addWidget(w)
    w.show()
    yield w, adapter, spec, audio, resolved, tmp_path / "rec"
    w.close()
    adapter.close()


def test_conversation_through_the_window(rig, qtbot) -> None:
    w, adapter, spec, audio, resolved, rec_dir = rig
    w.backend_box.setCurrentIndex(w.backend_box.findData("openai"))
    qtbot.mouseClick(w.camera_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.preview.frames_shown > 0, timeout=10000)  # preview while idle

    qtbot.mouseClick(w.connect_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.state_label.text() == "Ready — say something", timeout=10000)
    assert resolved == [("openai", "gpt-realtime", "marin")]
    assert w.status.rec_dot.text() == "● REC"

    qtbot.keyClicks(w.text_box, "what is on my desk?")
    qtbot.keyClick(w.text_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: SendText("what is on my desk?", respond=True) in spec.sent)
    qtbot.waitUntil(lambda: w.thumbs.count() >= 1, timeout=10000)  # a frame went with it
    s = spec.sessions[-1]
    s.emit(ResponseStarted("r1"), AudioDelta("a1", ONE_SECOND_24K, 24000))
    s.emit(TranscriptDelta("a1", "A red mug"))
    qtbot.waitUntil(lambda: w.state_label.text() == "Speaking")
    qtbot.waitUntil(lambda: any(t.partial and t.role == "assistant" for t in w.transcript.turns()))
    s.emit(
        TranscriptDone("a1", "A red mug and an exit sign."),
        ResponseDone("r1", "completed", Usage(input_tokens=1000, output_tokens=200)),
    )
    audio.finish_playback()
    qtbot.waitUntil(lambda: w.state_label.text() == "Ready — say something", timeout=10000)
    turns = w.transcript.turns()
    assert [t.role for t in turns] == ["user", "assistant"]
    assert turns[1].text == "A red mug and an exit sign." and not turns[1].partial
    assert w.status.cost.text().startswith("Cost: $")
    assert "—" not in w.status.latency.text()

    # push-to-talk through the real conversation
    qtbot.mouseClick(w.mode_buttons[Mode.PUSH_TO_TALK], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: adapter.assistant.snapshot().mode.value == "push_to_talk")
    qtbot.mousePress(w.talk_btn, Qt.MouseButton.LeftButton)
    audio.mic(200)
    qtbot.waitUntil(lambda: any(isinstance(c, ActivityStart) for c in spec.sent))
    qtbot.mouseRelease(w.talk_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(c, ActivityEnd) for c in spec.sent))
    s.emit(InputTranscript("and now?", True, "u2"))
    qtbot.waitUntil(lambda: w.transcript.turns()[-1].text == "and now?")

    qtbot.mouseClick(w.connect_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.state_label.text() == "Not connected", timeout=10000)
    qtbot.waitUntil(lambda: any(rec_dir.glob("*.voicecam")), timeout=10000)
    from realtime.recording.listing import list_sessions

    qtbot.waitUntil(lambda: not adapter._recorder, timeout=10000)
    adapter.close()
    [summary] = list_sessions(rec_dir)
    assert summary.error is None
    assert summary.backend == "openai"


def test_connect_error_is_shown(qtbot, qsettings, memory_keyring, config_dir, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    adapter = AssistantAdapter(
        Settings(recording=False, backend="openai"),
        make_audio=lambda s, rate: FakeAudio(),
    )
    w = build_window(adapter, qsettings, adapter.settings, save_settings=None)
    qtbot.addWidget(w)
    w.toggle_connection()
    qtbot.waitUntil(lambda: w._info.state == State.ERROR, timeout=15000)
    assert "OPENAI_API_KEY" in w.hint_label.text()
    assert w.connect_btn.text() == "Connect"
    w.close()
    adapter.close()


def test_offline_loading_progress_maps_to_loading_state(config_dir) -> None:
    seen: list[object] = []

    class Listener:
        def on_state(self, info) -> None:  # type: ignore[no-untyped-def]
            seen.append(info.state)

        def on_loading(self, loading) -> None:  # type: ignore[no-untyped-def]
            seen.append((round(loading.fraction, 2), loading.label, loading.done))

    adapter = AssistantAdapter(Settings(recording=False))
    adapter.add_listener(Listener())
    try:
        relay = adapter._relay
        relay.on_state(type("S", (), {"value": "connecting"})(), "")
        relay.on_loading(1, 4, "speech recognition")
        relay.on_loading(2, 4, "language model")
        relay.on_loading(1, 1, "ready")
        relay.on_state(type("S", (), {"value": "listening"})(), "")
        assert seen == [
            State.CONNECTING,
            (0.25, "speech recognition", False),
            State.LOADING,
            (0.5, "language model", False),
            (1.0, "", True),
            State.CONNECTING,
            State.LISTENING,
        ]
    finally:
        adapter.close()


def _join_workers(adapter: AssistantAdapter) -> None:
    for t in list(adapter._workers):
        t.join(20)


def test_camera_and_screen_share_swap_the_source(media_dir: Path, config_dir) -> None:
    from video.file import FileSource

    specs: list[str] = []

    def source(spec: str):  # type: ignore[no-untyped-def]
        specs.append(spec)
        return FileSource(str(media_dir / "video" / "desk.png"), loop=True, still_fps=5.0)

    adapter = AssistantAdapter(Settings(camera="cam:desk", recording=False), make_source=source)
    try:
        adapter.set_camera(True)
        _join_workers(adapter)
        assert specs == ["cam:desk"] and adapter._feed.enabled
        first = adapter._feed.source
        adapter.set_screen(True)
        _join_workers(adapter)
        assert specs == ["cam:desk", "screen:1"]
        assert adapter._feed.source is not first and adapter._feed.enabled
        adapter.set_screen(False)
        _join_workers(adapter)
        assert not adapter._feed.enabled
        assert adapter.preview_frame() is None  # off: no old frame shown
    finally:
        adapter.close()


def test_real_screen_share_preview_under_xvfb(config_dir) -> None:
    import os
    import time

    if not os.environ.get("DISPLAY"):
        pytest.skip("no X display (pytest-xvfb provides one)")
    adapter = AssistantAdapter(Settings(recording=False))
    try:
        adapter.set_screen(True)
        deadline = time.monotonic() + 20
        frame = None
        while frame is None and time.monotonic() < deadline:
            frame = adapter.preview_frame()
            time.sleep(0.1)
        assert frame is not None and frame.image.ndim == 3
    finally:
        adapter.close()
