"""Sessions browser and replay view against real session files written by SessionRecorder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.gui.replay_view import ReplayView, load_replay
from app.gui.sessions_browser import SessionsBrowser
from realtime.events import Usage
from realtime.recording.writer import SessionRecorder

pytestmark = pytest.mark.gui

MS = 1_000_000


def make_session(
    folder: Path, question: str, backend: str = "openai", images: list[np.ndarray] | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rec = SessionRecorder(
        directory=folder, metadata={"backend": backend, "model": "gpt-realtime", "voice": "marin"}
    )
    t0 = rec.start_mono_ns
    tone = (np.sin(np.arange(24000) * 2 * np.pi * 440 / 24000) * 8000).astype(np.int16)
    rec.record_mic(tone.tobytes(), 24000, t0 + 100 * MS)
    if images is None:
        images = []
        for colour in ((0, 0, 200), (0, 200, 0)):
            img = np.zeros((120, 160, 3), np.uint8)
            img[:] = colour
            images.append(img)
    for i, img in enumerate(images):
        rec.record_frame(cv2.imencode(".jpg", img)[1].tobytes(), t0 + (200 + 1000 * i) * MS, True)
    rec.record_turn("user", question, t0 + 1100 * MS, "u1", t_start_ns=t0 + 100 * MS)
    rec.record_playback("a1", tone.tobytes(), 24000, 0, t0 + 1500 * MS)
    rec.record_turn("assistant", "A red mug.", t0 + 2500 * MS, "a1", t_start_ns=t0 + 1500 * MS)
    rec.record_usage(Usage(input_tokens=100, output_tokens=50), t0 + 2500 * MS)
    rec.close()
    assert rec.path is not None
    return rec.path


def test_load_replay_reads_everything(tmp_path: Path) -> None:
    path = make_session(tmp_path, "What is on my desk?")
    data = load_replay(path)
    assert [t.role for t in data.turns] == ["user", "assistant"]
    assert len(data.frames) == 2
    assert data.duration_ms >= 2500
    assert np.abs(data.audio).max() > 1000


def test_browser_lists_replays_and_deletes(window, qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    p1 = make_session(folder, "What is on my desk?")
    window.actions_by_name["sessions"].trigger()
    browser = window.sessions_window
    assert isinstance(browser, SessionsBrowser)
    qtbot.waitUntil(lambda: browser.table.rowCount() == 1)
    row = [browser.table.item(0, c).text() for c in range(1, 6)]
    assert row[1] == "0:02"
    assert row[2] == "openai / gpt-realtime"
    assert row[3] == "What is on my desk?"
    assert row[4].startswith("$")
    assert not browser.table.item(0, 0).icon().isNull()  # thumbnail

    browser.open_selected()
    replay = browser.replay
    qtbot.waitUntil(lambda: replay.data is not None)
    assert replay.turn_list.count() == 2
    replay.jump_to_turn(1)
    assert replay.position_ms() == pytest.approx(1500, abs=1)
    assert replay.current_turn() == 1
    assert replay._shown_frame == 1  # the frame sent before 1.5 s
    qtbot.waitUntil(lambda: replay.frame_view.frames_shown >= 1)  # decoded on its worker
    assert replay.frame_view.has_image()
    replay.seek(0)
    assert replay.current_turn() == -1 and replay._shown_frame == 0
    replay.seek(150)
    assert replay.current_turn() == 0
    replay.set_speed(2)
    replay.play()
    qtbot.waitUntil(lambda: replay.position_ms() > 300)
    replay.stop()
    stopped_at = replay.position_ms()
    qtbot.wait(100)
    assert replay.position_ms() == stopped_at
    browser.show_list()

    with qtbot.waitSignal(browser.listed):
        browser.confirm_calls = []
        browser._confirm = lambda _w, name: True
        browser.delete_selected()
    assert not p1.exists()
    assert browser.table.rowCount() == 0
    assert "No recorded sessions" in browser.status.text()


def test_unreadable_file_listed_with_error(window, qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    (folder / "broken.voicecam").write_bytes(b"this is not sqlite")
    window.show_sessions()
    browser = window.sessions_window
    qtbot.waitUntil(lambda: browser.table.rowCount() == 1)
    assert browser.table.item(0, 3).text() == "unreadable"
    assert not browser.open_btn.isEnabled()
    assert browser.delete_btn.isEnabled()


def test_replay_of_corrupt_file_says_so(qtbot, tmp_path: Path) -> None:
    bad = tmp_path / "bad.voicecam"
    bad.write_bytes(b"\0" * 100)
    view = ReplayView(audio=False)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.failed):
        view.open(bad)
    assert "cannot be replayed" in view.title.text()
    assert view.note.text()
    view.shutdown()


@pytest.mark.pulse
def test_replay_audio_heard_through_pulseaudio(qtbot, tmp_path: Path, pulse_server) -> None:
    """The replay view's audio reaches a real (virtual) speaker, in time with the clock."""
    from dsp.pcm import read_wav

    path = make_session(tmp_path, "What is on my desk?")
    view = ReplayView(audio=True)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=20000):
        view.open(path)
    assert view.note.text() == ""
    rec = pulse_server.record(tmp_path / "heard.wav")
    qtbot.wait(300)
    view.play()
    qtbot.waitUntil(lambda: view.player is not None, timeout=5000)  # one stream per Play
    qtbot.waitUntil(lambda: not view._playing, timeout=20000)  # stops at the end
    qtbot.wait(300)
    rec.stop()
    view.shutdown()
    pcm, rate = read_wav(tmp_path / "heard.wav")
    x = np.frombuffer(pcm, np.int16).astype(np.float64)
    win = rate // 20
    loud = [np.sqrt(np.mean(x[i : i + win] ** 2)) > 1000 for i in range(0, len(x) - win, win)]
    # two 1 s tones (mic at 0.1 s, reply at 1.5 s): about 2 s of loud audio in 50 ms windows
    assert 30 <= sum(loud) <= 50, sum(loud)
