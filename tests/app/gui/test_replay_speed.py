"""Replay at 0.5×–2× keeps the pitch (issue 15, item 4): a 440 Hz tone replayed at 2× through
the replay view's audio path is still 440 Hz (within 2 %) and takes half the time; seeking works
at any speed. Real session files (SessionRecorder), WSOLA, and — with the ``pulse`` marker — a
real PulseAudio speaker recorded from its monitor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.gui.replay_view import ReplayView
from app.replay_audio import SPEEDS, StretchedTrack
from app.sessions import REPLAY_RATE_HZ, load_replay
from tests.app.gui.test_sessions import make_session

pytestmark = pytest.mark.gui

TONE_HZ = 440.0


def dominant_hz(x: np.ndarray, rate: int) -> float:
    x = x.astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=8 * len(x)))
    return float(np.argmax(spectrum) * rate / (8 * len(x)))


def test_2x_keeps_the_pitch_and_halves_the_time_through_the_callback_path(tmp_path: Path) -> None:
    data = load_replay(make_session(tmp_path, "What is on my desk?"))
    track = StretchedTrack(data.audio, REPLAY_RATE_HZ)
    track.seek(100.0)  # the microphone tone: 0.1 s – 1.1 s
    track.set_speed(2.0)
    out = np.zeros((480, 1), np.int16)  # one callback block, as PortAudio hands it over
    blocks = []
    for _ in range(20):  # 0.4 s of output = 0.8 s of the session
        track.fill(out)
        blocks.append(out[:, 0].copy())
    heard = np.concatenate(blocks)
    assert dominant_hz(heard, REPLAY_RATE_HZ) == pytest.approx(TONE_HZ, rel=0.02)
    assert track.position_ms == pytest.approx(100.0 + 2 * 400.0, abs=20)
    # the old way (every other sample) doubled the pitch: the check tells them apart
    naive = data.audio[2400 : 2400 + 2 * len(heard) : 2]
    assert dominant_hz(naive, REPLAY_RATE_HZ) == pytest.approx(2 * TONE_HZ, rel=0.02)

    track.set_speed(0.5)
    track.seek(1600.0)  # the reply's tone, at half speed
    slow = track.read(4800)
    assert dominant_hz(slow, REPLAY_RATE_HZ) == pytest.approx(TONE_HZ, rel=0.02)
    assert track.position_ms == pytest.approx(1600.0 + 100.0, abs=20)


def test_the_view_offers_half_to_double_speed_with_seeking(qtbot, tmp_path: Path) -> None:
    path = make_session(tmp_path, "What is on my desk?")
    view = ReplayView(audio=False)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=20000):
        view.open(path)
    items = [view.speed_box.itemData(i) for i in range(view.speed_box.count())]
    assert items == list(SPEEDS) and view.speed_box.currentData() == 1.0
    view.speed_box.setCurrentIndex(SPEEDS.index(0.5))
    assert view._speed == 0.5
    view.seek(1500.0)
    assert view.position_ms() == pytest.approx(1500.0)
    assert view.current_turn() == 1
    view.shutdown()


@pytest.mark.pulse
def test_2x_through_pulseaudio_keeps_the_pitch(qtbot, tmp_path: Path, pulse_server) -> None:
    from dsp.pcm import read_wav

    path = make_session(tmp_path, "What is on my desk?")
    view = ReplayView(audio=True)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=20000):
        view.open(path)
    view.speed_box.setCurrentIndex(SPEEDS.index(2.0))
    rec = pulse_server.record(tmp_path / "heard.wav")
    qtbot.wait(300)
    view.play()  # each Play opens its own output stream (app.gui.replay_audio)
    qtbot.waitUntil(lambda: view.player is not None, timeout=10000)
    qtbot.waitUntil(lambda: not view._playing, timeout=20000)
    qtbot.wait(300)
    rec.stop()
    view.shutdown()
    pcm, rate = read_wav(tmp_path / "heard.wav")
    x = np.frombuffer(pcm, np.int16).astype(np.float64)
    win = rate // 20
    loud = [i for i in range(0, len(x) - win, win) if np.sqrt(np.mean(x[i : i + win] ** 2)) > 1000]
    # two 1 s tones at 2×: about 1 s of loud audio in 50 ms windows (1× gives ~40)
    assert 14 <= len(loud) <= 26, len(loud)
    middle = x[loud[2] : loud[2] + 4 * win]  # inside the first tone
    assert dominant_hz(middle, rate) == pytest.approx(TONE_HZ, rel=0.02)
