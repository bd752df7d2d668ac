"""CameraSource: a loopback MJPEG camera behaves like a live device, disappears and comes back;
names from sysfs; negotiation; missing cameras become error events, never exceptions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest

from tests.fixtures.mjpeg import MjpegCamera
from video.camera import CameraInfo, CameraSource, list_cameras, resolve_camera
from video.errors import CameraError
from video.file import FileSource
from video.source import FrameSource, SourceState


def wait_state(src, state: SourceState, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while src.state is not state and time.monotonic() < deadline:
        time.sleep(0.02)
    assert src.state is state, f"{src.name}: {src.state} (wanted {state})"


def same_scene(frame: np.ndarray, reference: np.ndarray | list[np.ndarray]) -> bool:
    """``frame`` shows (one of) the reference image(s): compared at 160×90, PSNR > 28 dB."""
    refs = reference if isinstance(reference, list) else [reference]
    small = cv2.resize(frame, (160, 90), interpolation=cv2.INTER_AREA)
    return (
        max(cv2.PSNR(small, cv2.resize(r, (160, 90), interpolation=cv2.INTER_AREA)) for r in refs)
        > 28
    )


@pytest.fixture(scope="module")
def clip_small(mjpeg_frames: list[bytes]) -> list[np.ndarray]:
    """Every clip frame at 160×90 (what the loopback camera may be showing)."""
    return [
        cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_REDUCED_COLOR_8) for j in mjpeg_frames
    ]


@pytest.mark.parametrize("kind", ["camera", "url"])
def test_mjpeg_camera_is_live_disappears_and_comes_back(
    mjpeg_camera: MjpegCamera, clip_small: list[np.ndarray], kind: str
):
    desk = clip_small
    src = (
        CameraSource(mjpeg_camera.url, retry_s=0.2, timeout_s=3)
        if kind == "camera"
        else FileSource(mjpeg_camera.url, retry_s=0.2, timeout_s=3)
    )
    assert isinstance(src, FrameSource)
    src.start()
    try:
        first = src.wait_frame(0, 15)
        assert first is not None and first.image.shape == (720, 1280, 3)
        assert same_scene(first.image, desk)
        later = src.wait_frame(first.seq + 20, 10)  # frames keep coming, live
        assert later is not None and later.t_ns > first.t_ns
        time.sleep(0.5)
        assert src.measured_fps > 5  # live (exact rate is the bench's business)
        assert src.errors() == []

        mjpeg_camera.disappear()  # unplugged
        wait_state(src, SourceState.LOST)
        errors = src.errors()
        assert len(errors) == 1 and isinstance(errors[0], CameraError)
        assert "Retrying" in str(errors[0]) and "without video" in str(errors[0])
        assert src.latest() is None  # no stale frame while it is gone
        lost_seq = later.seq
        time.sleep(1.0)  # several retries against a closed port
        assert src.latest() is None and src.errors() == []  # one event per outage

        mjpeg_camera.come_back()
        back = src.wait_frame(lost_seq, 20)
        assert back is not None and back.seq > lost_seq and same_scene(back.image, desk)
        assert src.state is SourceState.LIVE
        assert mjpeg_camera.connections >= 2
    finally:
        src.stop()
    assert src.latest() is None and src.state is SourceState.STOPPED


def test_camera_missing_at_start_is_reported_and_found_when_it_appears(mjpeg_frames):
    cam = MjpegCamera(mjpeg_frames).start()
    url = cam.url
    cam.disappear()  # nothing listens on that port now
    src = CameraSource(url, retry_s=0.2, timeout_s=2)
    src.start()
    try:
        wait_state(src, SourceState.LOST)
        (err,) = src.errors()
        assert "Cannot reach the camera" in str(err) and "refused" in str(err)
        cam.come_back()
        assert src.wait_frame(0, 20) is not None
    finally:
        src.stop()
        cam.close()


def test_credentials_in_urls_never_reach_names_or_messages():
    src = CameraSource("http://admin:hunter2@127.0.0.1:9/cam.mjpg", retry_s=0.1, timeout_s=1)
    assert "hunter2" not in src.name
    src.start()
    try:
        wait_state(src, SourceState.LOST)
        (err,) = src.errors()
        assert "hunter2" not in str(err) and "***@127.0.0.1" in str(err)
    finally:
        src.stop()


def fake_sysfs(root: Path, nodes: dict[str, tuple[str, str]]) -> Path:
    for node, (name, index) in nodes.items():
        (root / node).mkdir(parents=True)
        (root / node / "name").write_text(name + "\n")
        (root / node / "index").write_text(index + "\n")
    return root


def test_cameras_are_listed_by_name_from_sysfs(tmp_path: Path):
    root = fake_sysfs(
        tmp_path,
        {
            "video0": ("Integrated Camera: Integrated C", "0"),
            "video1": ("Integrated Camera: Integrated C", "1"),  # metadata node
            "video2": ("HD Pro Webcam C920", "0"),
        },
    )
    (tmp_path / "vbi0").mkdir()
    cams = list_cameras(root)
    assert cams == [
        CameraInfo(0, "Integrated Camera: Integrated C", "/dev/video0"),
        CameraInfo(2, "HD Pro Webcam C920", "/dev/video2"),
    ]
    assert resolve_camera("c920", cams).index == 2
    assert resolve_camera("HD Pro Webcam C920", cams).index == 2
    assert resolve_camera(0, cams).name.startswith("Integrated")
    assert resolve_camera("/dev/video2", cams).index == 2
    with pytest.raises(CameraError) as exc:
        resolve_camera("Logitech Brio", cams)
    msg = str(exc.value)
    assert "'HD Pro Webcam C920' (2)" in msg and "Settings" in msg
    assert list_cameras(tmp_path / "absent") == []


class FakeCapture:
    """Stands in for cv2.VideoCapture on a machine without cameras: a device that agrees to
    640x480 @ 15 whatever is asked, and fails after ``frames`` reads (unplugged)."""

    opened: ClassVar[list[object]] = []

    def __init__(self, target: object, backend: int, frames: int = 5) -> None:
        FakeCapture.opened.append(target)
        self.props: dict[int, float] = {}
        self.left = frames
        self.released = False

    def isOpened(self) -> bool:  # the cv2 API's name
        return True

    def set(self, prop: int, value: float) -> bool:
        self.props[prop] = value
        return True

    def get(self, prop: int) -> float:
        return {
            cv2.CAP_PROP_FRAME_WIDTH: 640.0,
            cv2.CAP_PROP_FRAME_HEIGHT: 480.0,
            cv2.CAP_PROP_FPS: 15.0,
        }.get(prop, self.props.get(prop, 0.0))

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(1 / 15)
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.full((480, 640, 3), 50, np.uint8)

    def release(self) -> None:
        self.released = True


def test_camera_by_name_negotiates_and_is_re_resolved_on_reopen(tmp_path: Path):
    root = fake_sysfs(tmp_path, {"video0": ("Integrated Camera", "0"), "video3": ("C920", "0")})
    FakeCapture.opened = []
    src = CameraSource("c920", sysfs_root=root, retry_s=0.1, capture_factory=FakeCapture)
    src.start()
    try:
        assert src.wait_frame(0, 5) is not None
        neg = src.negotiated
        assert neg is not None and (neg.width, neg.height, neg.fps) == (640, 480, 15.0)
        assert neg.fourcc == "MJPG"
        assert src.name == "Camera 'C920'"
        # unplugged after 5 frames → error event; replugged at another index → found by name
        (root / "video3").rename(root / "video5")
        wait_state(src, SourceState.LOST, 5)
        assert "C920" in str(src.errors()[0])
        deadline = time.monotonic() + 5
        while 5 not in FakeCapture.opened and time.monotonic() < deadline:
            time.sleep(0.02)
        assert FakeCapture.opened[:2] == [3, 5]
    finally:
        src.stop()


def test_missing_named_camera_is_an_event_and_the_caller_never_sees_an_exception(tmp_path: Path):
    src = CameraSource("Logitech", sysfs_root=tmp_path, retry_s=0.1)
    src.start()  # must not raise
    try:
        wait_state(src, SourceState.LOST, 5)
        (err,) = src.errors()
        assert "No camera matching 'Logitech'" in str(err) and "cameras present: none" in str(err)
        assert src.latest() is None and src.measured_fps == 0.0
    finally:
        src.stop()


def test_mjpeg_parts_without_content_length_are_read_frame_by_frame(mjpeg_frames, clip_small):
    cam = MjpegCamera(mjpeg_frames, content_length=False).start()
    src = CameraSource(cam.url, retry_s=0.2, timeout_s=3)
    src.start()
    try:
        first = src.wait_frame(0, 15)
        assert first is not None and first.image.shape == (720, 1280, 3)
        later = src.wait_frame(first.seq + 30, 10)
        assert later is not None and src.errors() == []
        assert same_scene(later.image, clip_small)
        assert not same_scene(later.image, np.zeros_like(later.image))
    finally:
        src.stop()
        cam.close()


def test_camera_password_goes_in_the_url_and_a_wrong_one_says_so(mjpeg_frames):
    cam = MjpegCamera(mjpeg_frames, auth=("viewer", "s3cret")).start()
    good = CameraSource(cam.url.replace("http://", "http://viewer:s3cret@"), timeout_s=3)
    bad = CameraSource(cam.url.replace("http://", "http://viewer:wrong@"), retry_s=5, timeout_s=3)
    good.start()
    bad.start()
    try:
        assert good.wait_frame(0, 15) is not None
        wait_state(bad, SourceState.LOST)
        (err,) = bad.errors()
        assert "refused access (HTTP 401)" in str(err) and "password" in str(err)
        assert "wrong" not in str(err) and "s3cret" not in good.name
    finally:
        good.stop()
        bad.stop()
        cam.close()


def test_non_mjpeg_urls_fall_back_to_ffmpeg(media_dir: Path, tmp_path: Path):
    """An MPEG-TS stream over HTTP is not multipart MJPEG: FFmpeg reads it."""
    import functools
    import http.server
    import subprocess
    import threading

    ts = tmp_path / "desk.ts"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            str(media_dir / "video" / "desk.mp4"),
            "-c",
            "copy",
            "-f",
            "mpegts",
            str(ts),
        ],
        check=True,
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    src = FileSource(f"http://127.0.0.1:{server.server_address[1]}/desk.ts", timeout_s=5)
    src.start()
    try:
        frame = src.wait_frame(0, 15)
        assert frame is not None and frame.image.shape == (720, 1280, 3)
    finally:
        src.stop()
        server.shutdown()
        server.server_close()


def test_raw_mjpeg_buffers_from_a_usb_camera_are_decoded_with_libjpeg_turbo(
    tmp_path: Path, media_dir: Path
):
    desk = cv2.imread(str(media_dir / "video" / "desk.png"))
    jpeg = cv2.imencode(".jpg", desk, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].reshape(1, -1)

    class RawMjpegCapture(FakeCapture):
        """A V4L2 MJPG camera: with CONVERT_RGB off, read() returns the compressed buffer."""

        def get(self, prop: int) -> float:
            if prop == cv2.CAP_PROP_FOURCC:
                return float(cv2.VideoWriter.fourcc(*"MJPG"))
            return super().get(prop)

        def read(self):
            time.sleep(1 / 30)
            if self.props.get(cv2.CAP_PROP_CONVERT_RGB, 1) == 0:
                return True, jpeg.copy()
            return True, desk.copy()

    root = fake_sysfs(tmp_path, {"video0": ("USB Cam", "0")})
    src = CameraSource("USB Cam", sysfs_root=root, capture_factory=RawMjpegCapture)
    src.start()
    try:
        frame = src.wait_frame(0, 5)
        assert frame is not None and frame.image.shape == desk.shape
        assert same_scene(frame.image, desk)
    finally:
        src.stop()


def test_rapid_off_on_cycles_never_mix_up_devices(mjpeg_camera: MjpegCamera):
    src = CameraSource(mjpeg_camera.url, retry_s=0.2, timeout_s=3)
    try:
        for _ in range(5):
            src.start()
            time.sleep(0.05)
            src.stop(timeout_s=0)  # don't wait: the next start() must cope with a live thread
            assert src.latest() is None
        src.start()
        first = src.wait_frame(0, 15)
        assert first is not None
        assert src.wait_frame(first.seq + 10, 10) is not None
        assert src.errors() == []
    finally:
        src.stop()
    deadline = time.monotonic() + 10
    while mjpeg_camera._conns and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not mjpeg_camera._conns  # every connection was closed: no leaked reader
