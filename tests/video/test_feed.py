"""VideoFeed: every frame that leaves is reported; camera-off never re-sends an old frame."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from tests.fixtures.mjpeg import MjpegCamera
from video.camera import CameraSource
from video.errors import CameraError
from video.feed import SentFrame, VideoFeed
from video.file import FileSource
from video.frame import Frame, Mailbox
from video.pacing import Pacer, PacerConfig, Policy, Reason
from video.source import FrameSource, SourceState

S = 1_000_000_000
MS = 1_000_000


class ManualSource:
    """A FrameSource whose frames the test pushes by hand (simulated clock).

    ``clear_on_stop=False`` makes it misbehave like a driver that keeps serving its last buffer
    after being stopped — the feed must still never send that frame again.
    """

    name = "manual"
    measured_fps = 0.0

    def __init__(self, clear_on_stop: bool = True) -> None:
        self.box = Mailbox()
        self.clear_on_stop = clear_on_stop
        self.starts = 0
        self.stops = 0
        self.state = SourceState.STOPPED

    def start(self) -> None:
        self.starts += 1
        self.state = SourceState.LIVE

    def stop(self) -> None:
        self.stops += 1
        self.state = SourceState.STOPPED
        if self.clear_on_stop:
            self.box.clear()

    def latest(self) -> Frame | None:
        return self.box.latest()

    def errors(self) -> list[CameraError]:
        return []

    def push(
        self, t_ns: int, value: int = 100, size: tuple[int, int] = (1280, 720), x: int = 50
    ) -> Frame:
        image = np.full((size[1], size[0], 3), value, np.uint8)
        cv2.putText(image, f"{value}", (x, size[1] // 2), 0, 8, (255, 255, 255), 12)
        return self.box.put(image, t_ns)


class Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


def decode(jpeg: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def make(policy: Policy = Policy.ON_SPEECH, clear_on_stop: bool = True, **cfg):
    clock = Clock()
    clock.now = 1 * S
    src = ManualSource(clear_on_stop)
    assert isinstance(src, FrameSource)
    feed = VideoFeed(src, Pacer(PacerConfig(policy=policy, **cfg)), clock=clock)
    return feed, src, clock


def test_speech_start_sends_a_reported_encoded_frame_once():
    feed, src, clock = make()
    assert src.starts == 1
    clock.now = 2 * S
    frame = src.push(clock.now - 10 * MS)
    assert feed.poll() is None and feed.last_decision.reason is Reason.SILENT
    feed.speech_started()
    clock.now += 50 * MS
    sent = feed.poll()
    assert isinstance(sent, SentFrame)
    assert (sent.reason, sent.seq, sent.t_ns, sent.snapshot) == (
        Reason.SPEECH_START,
        frame.seq,
        frame.t_ns,
        False,
    )
    assert (sent.width, sent.height) == (768, 432) and sent.source == "manual"
    assert decode(sent.jpeg).shape == (432, 768, 3)
    clock.now += 5 * S
    assert feed.poll() is None and feed.last_decision.reason is Reason.ALREADY_SENT
    assert feed.sent_count == 1


def test_camera_off_never_resends_the_old_frame_even_from_a_misbehaving_source():
    feed, src, clock = make(Policy.CONTINUOUS, clear_on_stop=False)
    sent: list[SentFrame] = []
    clock.now += 10 * MS
    old = src.push(clock.now)
    sent.append(feed.poll())
    assert sent[0].seq == old.seq

    clock.now += 2 * S
    feed.camera_off()
    assert src.stops == 1 and not feed.enabled
    for _ in range(30):  # the old frame is still in the source's box: it must not go out
        clock.now += 500 * MS
        assert feed.poll() is None
        assert feed.last_decision.reason is Reason.CAMERA_OFF
    src.push(clock.now - 100 * MS, value=150)  # a frame the driver delivered late
    assert feed.poll() is None

    clock.now += 1 * S
    feed.camera_on()
    on_at = clock.now
    for _ in range(5):  # on again, but nothing captured since: no frame may go
        clock.now += 100 * MS
        assert feed.poll() is None
        assert feed.last_decision.reason is Reason.STALE
    fresh = src.push(clock.now, value=200)
    clock.now += 10 * MS
    out = feed.poll()
    assert out is not None and out.seq == fresh.seq and out.t_ns > on_at
    assert decode(out.jpeg).mean() > decode(sent[0].jpeg).mean() + 50


def test_snapshot_frame_is_larger_and_better():
    feed, src, clock = make(Policy.SNAPSHOT)
    clock.now += 10 * MS
    src.push(clock.now, size=(1920, 1080))
    feed.request_snapshot()
    assert feed.poll() is None
    assert feed.last_decision.reason is Reason.WAITING_FOR_QUESTION
    feed.speech_started()
    clock.now += 100 * MS
    src.push(clock.now, size=(1920, 1080))
    snap = feed.poll()
    assert snap is not None and snap.snapshot and snap.reason is Reason.SNAPSHOT
    assert (snap.width, snap.height) == (1536, 864) and snap.detail == "high"
    assert "with your next question" in Reason.WAITING_FOR_QUESTION.text


def test_on_change_feed_skips_an_unchanged_scene():
    feed, src, clock = make(Policy.ON_CHANGE, change_max_interval_s=10.0)
    reasons = []
    for i in range(40):  # 20 s of the same scene, a frame every 0.5 s
        clock.now += 500 * MS
        src.push(clock.now, value=100)
        out = feed.poll()
        reasons.append(out.reason if out else None)
        if i == 30:
            clock.now += 500 * MS
            src.push(clock.now, value=30, x=600)  # something else entirely
            out = feed.poll()
            assert out is not None and out.reason is Reason.CHANGED, feed.last_decision
    sent = [r for r in reasons if r]
    assert sent[0] is Reason.CHANGED and Reason.HEARTBEAT in sent and len(sent) <= 4


def test_file_feed_end_to_end_with_camera_off_and_on(media_dir: Path):
    src = FileSource(media_dir / "video" / "desk.mp4", loop=True)
    feed = VideoFeed(src, Pacer(PacerConfig(policy=Policy.CONTINUOUS)))
    sent: list[SentFrame] = []

    def run(seconds: float) -> list[SentFrame]:
        out = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            s = feed.poll()
            if s is not None:
                out.append(s)
            time.sleep(0.05)
        return out

    try:
        assert src.wait_frame(0, 10) is not None
        sent += run(2.5)
        assert 1 <= len(sent) <= 3  # ≤ 1 fps
        for s in sent:
            assert cv2.QRCodeDetectorAruco().detectAndDecode(decode(s.jpeg))[0] in (
                "VOICECAM-TEST-42",
                "",  # a few clip frames do not decode at 768 px (see test_encode)
            )
        off_at = time.monotonic_ns()
        feed.camera_off()
        assert src.latest() is None and src.state is SourceState.STOPPED
        assert run(1.5) == []
        assert feed.last_decision.reason is Reason.CAMERA_OFF
        feed.camera_on()
        on_at = time.monotonic_ns()
        again = run(2.0)
        assert again and all(s.t_ns > on_at > off_at for s in again)
        seqs = [s.seq for s in sent + again]
        assert len(seqs) == len(set(seqs))  # nothing sent twice
    finally:
        feed.close()


def test_feed_stops_sending_while_the_camera_is_gone(mjpeg_camera: MjpegCamera):
    src = CameraSource(mjpeg_camera.url, retry_s=0.2, timeout_s=3)
    feed = VideoFeed(src, Pacer(PacerConfig(policy=Policy.CONTINUOUS)))
    try:
        assert src.wait_frame(0, 15) is not None
        assert feed.poll() is not None
        mjpeg_camera.disappear()
        deadline = time.monotonic() + 15
        while src.state is not SourceState.LOST and time.monotonic() < deadline:
            time.sleep(0.02)
        errors = feed.errors()
        assert errors and "Retrying" in str(errors[0])
        for _ in range(15):
            time.sleep(0.1)
            assert feed.poll() is None
        assert feed.last_decision.reason is Reason.NO_FRAME
        mjpeg_camera.come_back()
        assert src.wait_frame(0, 20) is not None
        deadline = time.monotonic() + 5
        out = None
        while out is None and time.monotonic() < deadline:
            out = feed.poll()
            time.sleep(0.05)
        assert out is not None
    finally:
        feed.close()
