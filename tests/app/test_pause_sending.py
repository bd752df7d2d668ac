"""Issue 15, item 2: the privacy pause stops all sending — microphone and frames — within one
audio block, and resumes; the headless CLI's privacy line follows. Real Assistant and
Conversation, a real FrameFeed on a real FileSource, the in-process scripted session."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.assistant import Assistant
from app.config import Settings
from app.frames import FrameFeed
from app.modes import ConversationOptions, Mode
from app.privacy_cli import PrivacyLinePrinter
from app.privacy_status import VideoKind
from app.state import ConversationState as S
from realtime.events import AppendAudio, AppendImage
from tests.app.fakes import FakeAudio, FakeSpec
from video.pacing import PacerConfig, Policy

BLOCK_MS = 20
T = 20.0


@dataclass
class Mic:
    """Pushes one ``BLOCK_MS`` block into the fake audio port every ``BLOCK_MS`` ms."""

    audio: FakeAudio
    pushed: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            self.audio.mic(BLOCK_MS)
            self.pushed += 1
            time.sleep(BLOCK_MS / 1000)

    def drained_after(self, blocks: int) -> None:
        """Wait until ``blocks`` more blocks were pushed and the engine has taken them all."""
        target = self.pushed + blocks
        deadline = time.monotonic() + T
        while (self.pushed < target or self.audio.pending) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.pushed >= target and not self.audio.pending


def count(spec: FakeSpec, kind: type) -> int:
    return sum(isinstance(c, kind) for c in list(spec.sent))


def wait_for(pred, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + T
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def rig(media_dir: Path) -> Iterator[tuple[Assistant, FakeSpec, Mic]]:
    from video.file import FileSource

    spec = FakeSpec(name="openai")
    audio = FakeAudio()
    source = FileSource(str(media_dir / "video" / "desk.png"), loop=True, still_fps=10.0)
    frames = FrameFeed(source, PacerConfig(policy=Policy.CONTINUOUS, budget_per_minute=60))
    # the provider's own turn detection: every microphone block is sent while not paused
    options = ConversationOptions(mode=Mode.HANDS_FREE, turn_detection="server")
    a = Assistant(spec, audio, frames, options)
    mic = Mic(audio)
    feeder = threading.Thread(target=mic.run, daemon=True)
    feeder.start()
    yield a, spec, mic
    mic.stop.set()
    feeder.join(2)
    a.close()


def test_pause_stops_all_sending_within_one_block_and_resume_restarts_it(rig) -> None:
    a, spec, mic = rig
    a.start()
    assert a.wait_for(lambda s: s.state == S.LISTENING, T) is not None
    wait_for(lambda: count(spec, AppendAudio) > 5 and count(spec, AppendImage) >= 1, "sending")

    a.pause_sending(True)
    audio_at_pause, frames_at_pause = count(spec, AppendAudio), count(spec, AppendImage)
    # 1.5 s of microphone blocks, all taken by the engine; a frame is due every second
    mic.drained_after(75)
    assert count(spec, AppendAudio) - audio_at_pause <= 1  # at most the block in flight
    assert count(spec, AppendImage) == frames_at_pause
    assert a.snapshot().state == S.LISTENING  # the conversation itself goes on

    a.pause_sending(False)
    wait_for(lambda: count(spec, AppendAudio) > audio_at_pause + 5, "audio after resume")
    wait_for(lambda: count(spec, AppendImage) > frames_at_pause, "a frame after resume")


def test_the_cli_prints_the_privacy_line_when_it_changes(rig) -> None:
    a, _spec, _mic = rig
    out = io.StringIO()
    printer = PrivacyLinePrinter(Settings(backend="openai"), VideoKind.CAMERA, out)
    assert printer.poll(a) == "Not connected: nothing is sent"
    a.start()
    assert a.wait_for(lambda s: s.state == S.LISTENING, T) is not None
    assert printer.poll(a) == "Mic + camera on change → OpenAI"
    assert printer.poll(a) is None  # unchanged: printed once
    a.pause_sending(True)
    assert printer.poll(a) == "Paused: nothing is sent to OpenAI"
    a.pause_sending(False)
    a.set_camera(False)
    a.wait_for(lambda s: not s.camera_on, T)
    assert printer.poll(a) == "Mic → OpenAI, camera paused"
    assert out.getvalue().splitlines() == [
        "privacy: Not connected: nothing is sent",
        "privacy: Mic + camera on change → OpenAI",
        "privacy: Paused: nothing is sent to OpenAI",
        "privacy: Mic → OpenAI, camera paused",
    ]


def test_the_cli_line_says_when_faces_are_blurred_by_the_fallback_detector(
    media_dir: Path, tmp_path: Path
) -> None:
    """Issue 15: the face model is missing, so the feed's redactor blurs with the Haar
    cascades; the headless line says it (it used to reach only the log). Without a redactor,
    blurring asked for is said to be off."""
    from video.face_model import FaceModelConfig
    from video.file import FileSource
    from video.redact import RedactConfig, Redactor

    source = FileSource(str(media_dir / "video" / "desk.png"), loop=True, still_fps=10.0)
    frames = FrameFeed(source, PacerConfig(policy=Policy.CONTINUOUS, budget_per_minute=60))
    missing = FaceModelConfig(path=tmp_path / "absent.onnx")
    frames.set_redactor(Redactor(RedactConfig(model=missing)))
    options = ConversationOptions(mode=Mode.HANDS_FREE, turn_detection="server")
    a = Assistant(FakeSpec(name="openai"), FakeAudio(), frames, options)
    try:
        out = io.StringIO()
        settings = Settings(backend="openai", blur_faces="cloud")
        printer = PrivacyLinePrinter(settings, VideoKind.CAMERA, out, frames=frames)
        a.start()
        assert a.wait_for(lambda s: s.state == S.LISTENING, T) is not None
        assert printer.poll(a) == (
            "Mic + camera on change, faces blurred (fallback detector) → OpenAI"
        )
        frames.set_redactor(None)
        assert printer.poll(a) == "Mic + camera on change, faces NOT blurred → OpenAI"
    finally:
        a.close()


def test_a_turn_in_progress_when_paused_ends_with_what_was_sent(media_dir: Path) -> None:
    """Client voice detection: the user is speaking when the pause comes; the end of speech
    still ends the turn (the audio sent before the pause is committed), nothing more is sent,
    and the conversation is not left waiting in "user speaking"."""
    from realtime.events import ActivityEnd

    spec = FakeSpec(name="openai")
    audio = FakeAudio()
    a = Assistant(spec, audio, None, ConversationOptions(mode=Mode.HANDS_FREE))
    try:
        a.start()
        assert a.wait_for(lambda s: s.state == S.LISTENING, T) is not None
        audio.voice(True)
        for _ in range(20):
            audio.mic(BLOCK_MS)
        assert a.wait_for(lambda s: s.state == S.USER_SPEAKING, T) is not None
        wait_for(lambda: count(spec, AppendAudio) >= 20, "the speech so far")
        a.pause_sending(True)
        sent = count(spec, AppendAudio)
        for _ in range(10):
            audio.mic(BLOCK_MS)
        audio.voice(False)
        wait_for(lambda: count(spec, ActivityEnd) == 1, "the turn ends")
        assert count(spec, AppendAudio) == sent
        assert a.snapshot().state != S.USER_SPEAKING
    finally:
        a.close()
