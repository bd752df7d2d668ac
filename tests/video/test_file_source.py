"""FileSource: desk.mp4 at its real rate, looping, still images, missing files."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from video.file import FileSource
from video.frame import Frame
from video.source import FrameSource, SourceState


def collect(src: FileSource, seconds: float) -> list[Frame]:
    """Every distinct frame published during ``seconds`` (polled faster than it produces)."""
    frames: list[Frame] = []
    end = time.monotonic() + seconds
    last = 0
    while time.monotonic() < end:
        f = src.wait_frame(last, timeout_s=0.5)
        if f is not None:
            frames.append(f)
            last = f.seq
    return frames


def test_video_file_is_paced_at_its_own_rate(media_dir: Path):
    src = FileSource(media_dir / "video" / "desk.mp4")
    assert isinstance(src, FrameSource)
    src.start()
    try:
        first = src.wait_frame(0, 10)
        assert first is not None and first.image.shape == (720, 1280, 3)
        frames = collect(src, 3.0)
        fps_measured = src.measured_fps
    finally:
        src.stop()
    assert src.file_fps == pytest.approx(30.0)
    # Rate from the published frames' own capture times and sequence numbers (seq counts every
    # frame published, so frames this polling loop missed are still counted).
    span_s = (frames[-1].t_ns - frames[0].t_ns) / 1e9
    rate = (frames[-1].seq - frames[0].seq) / span_s
    assert rate == pytest.approx(30.0, rel=0.10), (rate, src.frames_skipped)
    assert fps_measured == pytest.approx(30.0, rel=0.10)
    # An unpaced reader would have raced through the 8 s clip: 3 s should be ~90 frames, not 240.
    assert frames[-1].seq <= 0.5 * 240
    assert src.latest() is None and src.state is SourceState.STOPPED


def test_non_looping_file_ends_and_looping_file_restarts(media_dir: Path):
    clip = media_dir / "video" / "desk.mp4"
    once = FileSource(clip, fps=240.0)  # play the 8 s clip in 1 s
    once.start()
    deadline = time.monotonic() + 20
    while once.state is not SourceState.ENDED and time.monotonic() < deadline:
        time.sleep(0.05)
    assert once.state is SourceState.ENDED
    last = once.latest()
    assert last is not None and last.seq + once.frames_skipped == 240
    once.start()  # an ended file can be played again
    again = once.wait_frame(last.seq, 10)
    assert again is not None and once.state is SourceState.LIVE
    once.stop()

    looping = FileSource(clip, fps=240.0, loop=True)
    looping.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            frame = looping.latest()
            if frame is not None and frame.seq >= 300:
                break
            time.sleep(0.05)
        assert looping.latest().seq >= 300  # past the end: it looped
        assert looping.state is SourceState.LIVE and not looping.errors()
    finally:
        looping.stop()


def test_still_image_repeats_like_a_camera_on_a_still_scene(media_dir: Path):
    src = FileSource(media_dir / "video" / "desk.png", still_fps=10)
    src.start()
    try:
        a = src.wait_frame(0, 5)
        b = src.wait_frame(a.seq, 5)
    finally:
        src.stop()
    assert a is not None and b is not None and b.seq > a.seq and b.t_ns > a.t_ns
    expected = cv2.imread(str(media_dir / "video" / "desk.png"))
    assert np.array_equal(b.image, expected)
    assert not b.image.flags.writeable  # frames are immutable once published


def test_missing_file_is_an_actionable_error_event_not_an_exception(tmp_path: Path):
    src = FileSource(tmp_path / "nope.mp4", retry_s=0.1)
    src.start()
    try:
        deadline = time.monotonic() + 5
        errors = []
        while not errors and time.monotonic() < deadline:
            errors = src.errors()
            time.sleep(0.02)
        assert len(errors) == 1
        assert "does not exist" in str(errors[0]) and "--video" in str(errors[0])
        assert errors[0].retrying
        time.sleep(0.5)  # retried several times meanwhile: still one event per outage
        assert src.errors() == [] and src.state is SourceState.LOST and src.latest() is None
        (tmp_path / "nope.mp4").write_bytes(b"this is not a video")
        time.sleep(0.3)
        assert src.latest() is None
    finally:
        src.stop()


def test_unreadable_video_is_reported(tmp_path: Path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 1000)
    src = FileSource(bad, retry_s=5)
    src.start()
    try:
        deadline = time.monotonic() + 5
        while src.state is not SourceState.LOST and time.monotonic() < deadline:
            time.sleep(0.02)
        (err,) = src.errors()
        assert "bad.mp4" in str(err) and "ffmpeg" in str(err)
    finally:
        src.stop()
