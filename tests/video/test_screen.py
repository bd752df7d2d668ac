"""ScreenSource under Xvfb: monitor, region and window-by-title capture; a closed window and a
16-bit display become CameraError events."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from video.errors import CameraError
from video.screen import ScreenSource, list_monitors
from video.source import FrameSource, SourceState
from video.x11windows import find_window, x11_screen

QR_TEXT = "VOICECAM-TEST-42"


def start_xvfb(depth: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start Xvfb on a random high display number and make sure it is *ours* that answers.

    Not ``-displayfd``: on this shared machine low numbers collide with other people's X servers
    (stale sockets, shared abstract socket names), so pick 200..899 and verify the screen size.
    """
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed (Debian: xvfb; `make test-deps`)")
    rng = random.Random()
    for _ in range(8):
        display = f":{rng.randint(200, 899)}"
        if Path(f"/tmp/.X11-unix/X{display[1:]}").exists():
            continue
        proc = subprocess.Popen(
            ["Xvfb", display, "-screen", "0", f"1024x768x{depth}", "-nolisten", "tcp", "-noreset"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            if x11_screen(display) == (1024, 768, depth):
                return proc, display
            time.sleep(0.1)
        stop(proc)
    pytest.fail("could not start a private Xvfb")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture(scope="module")
def x24() -> Iterator[str]:
    """Our own 24-bit Xvfb (independent of pytest-xvfb's settings), stopped by PID."""
    proc, display = start_xvfb(24)
    yield display
    stop(proc)


class Window:
    """An ImageMagick ``display`` window with a known title showing ``image`` at (x, y)."""

    def __init__(self, display: str, image: Path, title: str, x: int, y: int) -> None:
        if shutil.which("display") is None:
            pytest.fail("ImageMagick's `display` is not installed (Debian: imagemagick)")
        env = dict(os.environ, DISPLAY=display)
        self.proc = subprocess.Popen(
            ["display", "-title", title, "-geometry", f"+{x}+{y}", str(image)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                find_window(title, display)
                return
            except CameraError:
                if time.monotonic() > deadline:
                    self.close()
                    pytest.fail(f"window {title!r} did not appear")
                time.sleep(0.1)

    def close(self) -> None:
        stop(self.proc)


@pytest.fixture
def qr_window(x24: str, media_dir: Path) -> Iterator[Window]:
    win = Window(x24, media_dir / "video" / "qr.png", "VoiceCam QR target", 200, 150)
    yield win
    win.close()


def first_frame(src: ScreenSource) -> np.ndarray:
    src.start()
    try:
        frame = src.wait_frame(0, 10)
        assert frame is not None, src.errors()
        return frame.image
    finally:
        src.stop()


def qr(image: np.ndarray) -> str:
    return cv2.QRCodeDetectorAruco().detectAndDecode(image)[0]


def test_monitor_capture_sees_what_is_on_screen(x24: str, qr_window: Window):
    assert list_monitors(x24)[1] == {"left": 0, "top": 0, "width": 1024, "height": 768}
    src = ScreenSource(monitor=1, display=x24, fps=10)
    assert isinstance(src, FrameSource)
    image = first_frame(src)
    assert image.shape == (768, 1024, 3)
    assert qr(image) == QR_TEXT


def test_window_by_title_captures_exactly_that_window(x24: str, qr_window: Window, media_dir):
    expected = cv2.imread(str(media_dir / "video" / "qr.png"))
    win = find_window("qr target", x24)  # case-insensitive substring
    assert (win.width, win.height) == (300, 300)
    image = first_frame(ScreenSource(window="VoiceCam QR target", display=x24))
    assert image.shape == expected.shape
    assert cv2.PSNR(image, expected) > 40
    assert qr(image) == QR_TEXT


def test_region_capture_is_clipped_to_the_screen(x24: str, qr_window: Window):
    win = find_window("VoiceCam QR target", x24)
    image = first_frame(ScreenSource(region=(win.left - 10, win.top - 10, 320, 320), display=x24))
    assert image.shape == (320, 320, 3) and qr(image) == QR_TEXT
    edge = first_frame(ScreenSource(region=(900, 700, 400, 400), display=x24))
    assert edge.shape == (68, 124, 3)


def test_closed_window_is_an_error_event_and_found_again_when_reopened(x24: str, media_dir):
    title = "VoiceCam closing window"
    win = Window(x24, media_dir / "video" / "qr.png", title, 50, 50)
    src = ScreenSource(window=title, display=x24, fps=10, relocate_s=0.1, retry_s=0.2)
    src.start()
    try:
        first = src.wait_frame(0, 10)
        assert first is not None
        win.close()
        deadline = time.monotonic() + 10
        while src.state is not SourceState.LOST and time.monotonic() < deadline:
            time.sleep(0.02)
        assert src.state is SourceState.LOST and src.latest() is None
        (err,) = src.errors()
        assert f"No visible window titled {title!r}" in str(err) and "keeps looking" in str(err)
        win = Window(x24, media_dir / "video" / "qr.png", title, 300, 300)
        again = src.wait_frame(first.seq, 10)
        assert again is not None and qr(again.image) == QR_TEXT
    finally:
        src.stop()
        win.close()


def test_missing_monitor_and_16_bit_display_are_actionable_errors(x24: str):
    src = ScreenSource(monitor=3, display=x24, retry_s=5)
    src.start()
    try:
        deadline = time.monotonic() + 10
        while src.state is not SourceState.LOST and time.monotonic() < deadline:
            time.sleep(0.02)
        (err,) = src.errors()
        assert "There is no monitor 3" in str(err) and "1..1" in str(err)
    finally:
        src.stop()
    proc, x16 = start_xvfb(16)
    try:
        src = ScreenSource(display=x16, retry_s=5)
        src.start()
        deadline = time.monotonic() + 10
        while src.state is not SourceState.LOST and time.monotonic() < deadline:
            time.sleep(0.02)
        (err,) = src.errors()
        assert "24- or 32-bit" in str(err)
        src.stop()
    finally:
        stop(proc)


def test_works_on_the_pytest_xvfb_display(xvfb):
    if xvfb is None:
        pytest.skip("pytest-xvfb disabled (--no-xvfb)")
    image = first_frame(ScreenSource(monitor=1, fps=10))  # DISPLAY set by pytest-xvfb
    assert image.shape == (xvfb.height, xvfb.width, 3)
