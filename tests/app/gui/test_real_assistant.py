"""The window on the REAL app.assistant.Assistant through AssistantAdapter: a scripted in-process
session (tests.app.fakes), a real FileSource camera (desk.png), a real SessionRecorder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.backends import OPENAI_MODELS
from app.config import Settings
from app.gui.adapter import AssistantAdapter
from app.gui.main import build_window
from app.model import Loading, LoadingChanged, Mode, State, StateChanged
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

    def resolve(settings, **kw):
        resolved.append((settings.backend, settings.model, settings.voice))
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
    w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData("openai"))
    qtbot.mouseClick(w.ui.camera_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.ui.preview.frames_shown > 0, timeout=10000)  # preview while idle

    qtbot.mouseClick(w.ui.connect_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.ui.state_label.text() == "Ready — say something", timeout=10000)
    assert resolved == [("openai", OPENAI_MODELS[0], "marin")]  # the first listed is the default
    assert w.ui.status.rec_dot.text() == "● REC"

    qtbot.keyClicks(w.ui.text_box, "what is on my desk?")
    qtbot.keyClick(w.ui.text_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: SendText("what is on my desk?", respond=True) in spec.sent)
    qtbot.waitUntil(lambda: w.ui.thumbs.count() >= 1, timeout=10000)  # a frame went with it
    s = spec.sessions[-1]
    s.emit(ResponseStarted("r1"), AudioDelta("a1", ONE_SECOND_24K, 24000))
    s.emit(TranscriptDelta("a1", "A red mug"))
    qtbot.waitUntil(lambda: w.ui.state_label.text() == "Speaking")
    qtbot.waitUntil(
        lambda: any(t.partial and t.role == "assistant" for t in w.ui.transcript.turns())
    )
    s.emit(
        TranscriptDone("a1", "A red mug and an exit sign."),
        ResponseDone("r1", "completed", Usage(input_tokens=1000, output_tokens=200)),
    )
    audio.finish_playback()
    qtbot.waitUntil(lambda: w.ui.state_label.text() == "Ready — say something", timeout=10000)
    turns = w.ui.transcript.turns()
    assert [t.role for t in turns] == ["user", "assistant"]
    assert turns[1].text == "A red mug and an exit sign." and not turns[1].partial
    assert w.ui.status.cost.text().startswith("Cost: $")
    assert "—" not in w.ui.status.latency.text()

    # push-to-talk through the real conversation
    qtbot.mouseClick(w.ui.mode_buttons[Mode.PUSH_TO_TALK], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: adapter.assistant.snapshot().mode.value == "push_to_talk")
    qtbot.mousePress(w.ui.talk_btn, Qt.MouseButton.LeftButton)
    audio.mic(200)
    qtbot.waitUntil(lambda: any(isinstance(c, ActivityStart) for c in spec.sent))
    qtbot.mouseRelease(w.ui.talk_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(isinstance(c, ActivityEnd) for c in spec.sent))
    s.emit(InputTranscript("and now?", True, "u2"))
    qtbot.waitUntil(lambda: w.ui.transcript.turns()[-1].text == "and now?")

    qtbot.mouseClick(w.ui.connect_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.ui.state_label.text() == "Not connected", timeout=10000)
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
    qtbot.waitUntil(lambda: w.conversation_state == State.ERROR, timeout=15000)
    assert "OPENAI_API_KEY" in w.ui.hint_label.text()
    assert w.ui.connect_btn.text() == "Connect"
    w.close()
    adapter.close()


def test_offline_loading_reaches_the_window_unchanged(qtbot, qsettings, config_dir) -> None:
    """The core reports LOADING and the progress; the adapter adds no state machine of its own:
    the window shows exactly the core's events (the step's name and percentage)."""
    adapter = AssistantAdapter(Settings(recording=False))
    w = build_window(adapter, qsettings, adapter.settings, save_settings=None)
    qtbot.addWidget(w)
    seen: list[object] = []
    adapter.subscribe(seen.append)
    try:
        for event in (
            StateChanged(State.CONNECTING),
            StateChanged(State.LOADING),
            LoadingChanged(Loading(1, 4, "speech recognition")),
        ):
            adapter._forward(event)  # as the assistant's engine thread delivers them
        qtbot.waitUntil(lambda: w.ui.state_label.text() == "Loading models… 25%")
        assert w.ui.hint_label.text() == "speech recognition"
        assert w.ui.progress.isVisibleTo(w) and w.ui.progress.value() == 250
        adapter._forward(LoadingChanged(Loading(4, 4, "ready")))
        adapter._forward(StateChanged(State.CONNECTING))
        adapter._forward(StateChanged(State.LISTENING))
        qtbot.waitUntil(lambda: w.ui.state_label.text() == "Ready — say something")
        assert not w.ui.progress.isVisibleTo(w)
        assert [type(e).__name__ for e in seen] == [
            "StateChanged",
            "StateChanged",
            "LoadingChanged",
            "LoadingChanged",
            "StateChanged",
            "StateChanged",
        ]
    finally:
        w.close()
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


def test_camera_switch_and_connect_racing_build_one_feed(media_dir: Path, config_dir) -> None:
    """A camera click and a connect run on two workers at once: one feed, one source."""
    import threading

    from video.file import FileSource

    made: list[str] = []
    gate = threading.Barrier(2)

    def source(spec: str):  # type: ignore[no-untyped-def]
        made.append(spec)
        return FileSource(str(media_dir / "video" / "desk.png"), loop=True, still_fps=5.0)

    adapter = AssistantAdapter(Settings(camera="cam:desk", recording=False), make_source=source)
    settings = adapter.settings
    feeds: list[object] = []

    def build() -> None:
        gate.wait()
        feeds.append(adapter._ensure_feed(settings))

    try:
        workers = [threading.Thread(target=build) for _ in range(2)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(20)
        assert made == ["cam:desk"]
        assert feeds[0] is feeds[1]
    finally:
        adapter.close()
