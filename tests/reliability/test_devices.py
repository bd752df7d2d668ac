"""Devices failing under a live conversation: a real PulseAudio server (our own, so stopping it
disturbs no other test) and the loopback MJPEG camera, with the real audio engine, camera source
and assistant, against the scripted fake provider.

Microphone missing at start / lost mid-session (the sound server stopped) and the camera
disappearing: a clear notice, the conversation continues (a typed turn is answered), and the device
recovers when it comes back (the notice clears; camera frames are sent again).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from app.state import ConversationState as S
from tests.fixtures.pulse import reinit_portaudio, start_pulse, stop_pulse
from tests.reliability.helpers import FakeThread, wait_until

pytestmark = pytest.mark.pulse
KEY = "sk-test-devices-0123456789"


class Watch:
    def __init__(self) -> None:
        self.states: list[tuple[S, str]] = []
        self.notices: list[str] = []
        self.frames: Any = None

    def __call__(self, event: object) -> None:
        """An ``Assistant.subscribe`` listener: the typed model events it watches."""
        from app.model import NoticeChanged, StateChanged

        if isinstance(event, StateChanged):
            self.on_state(event.state, event.message)
        elif isinstance(event, NoticeChanged):
            self.on_notice(event.message)

    def on_state(self, state: S, message: str) -> None:
        self.states.append((state, message))

    def on_notice(self, message: str) -> None:
        self.notices.append(message)


@contextmanager
def pulse_env(base: Path) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH")}
    os.environ["PULSE_SERVER"] = f"unix:{base / 'native'}"
    os.environ["PULSE_RUNTIME_PATH"] = str(base / "runtime")
    reinit_portaudio()
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        # No PortAudio re-initialisation here: a stream lost with its sound server may still be
        # stuck in the engine's reaper thread, and terminating PortAudio under it hangs. Every
        # scenario runs in its own interpreter (``_in_subprocess``), which exits right after.


@contextmanager
def conversation(camera_url: str | None) -> Iterator[tuple[Any, Watch, FakeThread]]:
    from app.assistant import Assistant
    from app.backends import resolve
    from app.frames import FrameFeed
    from app.modes import ConversationOptions
    from audio.config import AudioConfig
    from audio.engine import AudioEngine
    from video.camera import CameraSource

    fake = FakeThread(KEY, chunk_delay_s=0.03)
    os.environ["VOICECAM_BACKEND_TOKEN"] = KEY
    try:
        spec = resolve(fake.url, reconnect=True)
    finally:
        os.environ.pop("VOICECAM_BACKEND_TOKEN", None)
    engine = AudioEngine(AudioConfig(send_rate_hz=24000))
    frames = FrameFeed(CameraSource(camera_url, retry_s=0.5)) if camera_url else None
    assistant = Assistant(spec, engine, frames, ConversationOptions())
    watch = Watch()
    watch.frames = frames
    assistant.subscribe(watch)
    try:
        assistant.start()
        assert assistant.wait_for(lambda s: s.state == S.LISTENING, 30), watch.states
        yield assistant, watch, fake
        assert assistant.running(), watch.states[-6:]
        assert not any(s == S.ERROR for s, _ in watch.states), watch.states
    finally:
        assistant.close()
        fake.close()


def _turn(assistant: Any, text: str) -> None:
    n = assistant.snapshot().completed_turns
    assistant.send_text(text)
    snap = assistant.wait_for(lambda s: s.completed_turns > n and s.state == S.LISTENING, 30)
    assert snap is not None, f"no reply to {text!r}"


def _notice_about(watch: Watch, *words: str) -> str:
    def found() -> str:
        for n in reversed(watch.notices):
            if any(w in n.lower() for w in words):
                return n
        return ""

    return str(wait_until(found, 20, f"a notice about {words}: {watch.notices[-5:]}"))


def _in_subprocess(scenario: str, tmp_path: Path, timeout: float = 150) -> None:
    """Run ``scenario`` (a function below) in a fresh interpreter: a hung PortAudio call can
    then only fail this test instead of hanging the whole suite."""
    repo = Path(__file__).resolve().parents[2]
    code = f"from tests.reliability.test_devices import {scenario} as f; f({str(tmp_path)!r})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGABRT)  # faulthandler prints every thread's stack
        out, _ = proc.communicate(timeout=30)
        pytest.fail(f"{scenario} hung (stacks below):\n{out[-6000:]}")
    assert proc.returncode == 0, out[-6000:]


def test_microphone_lost_mid_session_then_recovers(tmp_path: Path) -> None:
    _in_subprocess("scenario_mic_lost", tmp_path)


def test_microphone_missing_at_start_then_appears(tmp_path: Path) -> None:
    _in_subprocess("scenario_mic_missing", tmp_path)


def scenario_mic_lost(tmp: str) -> None:
    base = Path(tmp) / "pulse"
    server = start_pulse(base)
    try:
        with pulse_env(base), conversation(None) as (assistant, watch, _fake):
            _turn(assistant, "Hello with a microphone.")
            stop_pulse(server)
            message = _notice_about(watch, "microphone", "audio", "device", "sound")
            assert len(message) > 15  # a sentence, not a code
            _turn(assistant, "Can you still hear my typing?")  # the conversation continues
            n = len(watch.notices)
            server = start_pulse(base)
            wait_until(
                lambda: "" in watch.notices[n:], 30, f"the device to recover: {watch.notices[-4:]}"
            )
            _turn(assistant, "Back with a microphone.")
    finally:
        stop_pulse(server)


def scenario_mic_missing(tmp: str) -> None:
    base = Path(tmp) / "pulse"
    base.mkdir()
    server = None
    try:
        with pulse_env(base), conversation(None) as (assistant, watch, _fake):
            message = _notice_about(watch, "microphone", "audio", "device", "sound")
            assert len(message) > 15
            _turn(assistant, "Typing without a microphone.")
            n = len(watch.notices)
            server = start_pulse(base)
            wait_until(
                lambda: "" in watch.notices[n:], 30, f"the device to appear: {watch.notices[-4:]}"
            )
    finally:
        if server is not None:
            stop_pulse(server)


def test_camera_disappears_then_recovers(pulse_server: Any, mjpeg_camera: Any) -> None:
    with conversation(mjpeg_camera.url) as (assistant, watch, _fake):
        source = watch.frames.source
        wait_until(lambda: source.latest() is not None, 20, "a first camera frame")
        _turn(assistant, "What do you see?")  # a typed question sends a fresh frame first
        assert assistant.snapshot().frames_sent >= 1
        mjpeg_camera.disappear()
        message = _notice_about(watch, "camera", "video", "frames")
        assert len(message) > 15
        _turn(assistant, "And now?")  # the conversation continues without the camera
        assert source.latest() is None  # no stale frame is shown as live
        mjpeg_camera.come_back()
        wait_until(lambda: source.latest() is not None, 30, "camera frames after recovery")
        sent = assistant.snapshot().frames_sent
        _turn(assistant, "Look again.")
        assert assistant.snapshot().frames_sent > sent
