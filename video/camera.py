"""Cameras through OpenCV: by name where the platform gives names, resolution/fps negotiation.

``CameraSource(device)`` accepts

- a camera *name* (case-insensitive substring, e.g. ``"Logitech"``) — on Linux names come from
  ``/sys/class/video4linux/video*/name``; the name is re-resolved on every (re)open because indices
  shift when hardware changes;
- an index (``0``, ``"1"``) or a device path (``"/dev/video2"``);
- a stream URL (``http(s)://…`` MJPEG read directly, ``rtsp://…`` and others through FFmpeg),
  with open/read timeouts (:mod:`video.mjpeg`).

Capture runs on the source's own thread (see :mod:`video.source`): missing or disappearing cameras
become :class:`~video.errors.CameraError` events and are retried in the background; nothing raises
into the caller. ``negotiated`` tells what the device actually agreed to (requested 1280×720 @ 30
may become 640×480 @ 15).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from video.errors import CameraError, redact_url
from video.frame import Image, to_bgr
from video.mjpeg import UrlReader, decode_jpeg, open_url
from video.source import Clock, ThreadedSource

__all__ = [
    "STREAM_SCHEMES",
    "CameraInfo",
    "CameraSource",
    "Negotiated",
    "is_stream_url",
    "list_cameras",
    "resolve_camera",
]

SYSFS_V4L = Path("/sys/class/video4linux")
STREAM_SCHEMES = ("http://", "https://", "rtsp://", "rtsps://", "rtmp://", "udp://", "tcp://")


@dataclass(frozen=True)
class CameraInfo:
    """A camera the platform lists: OpenCV ``index``, human ``name``, device ``path`` if any."""

    index: int
    name: str
    path: str = ""


@dataclass(frozen=True)
class Negotiated:
    """What the device agreed to (0 where the backend does not say)."""

    width: int
    height: int
    fps: float
    fourcc: str


def is_stream_url(spec: str) -> bool:
    return spec.lower().startswith(STREAM_SCHEMES)


def _backend() -> int:
    if sys.platform.startswith("linux"):
        return int(cv2.CAP_V4L2)
    if sys.platform == "win32":
        return int(cv2.CAP_MSMF)
    if sys.platform == "darwin":
        return int(cv2.CAP_AVFOUNDATION)
    return int(cv2.CAP_ANY)


def list_cameras(sysfs_root: Path | None = None, probe: int = 4) -> list[CameraInfo]:
    """Cameras present now, in index order.

    Linux: read ``<sysfs_root>/video*/name`` (default ``/sys/class/video4linux``) and keep capture
    nodes only (``index`` attribute 0; metadata nodes have 1). Elsewhere OpenCV gives no names:
    probe indices ``0..probe-1`` and name them "Camera N" (opening a camera is slow; call this from
    a settings dialog, not per frame).
    """
    if sysfs_root is not None or sys.platform.startswith("linux"):
        root = sysfs_root if sysfs_root is not None else SYSFS_V4L
        found: list[CameraInfo] = []
        if not root.is_dir():
            return found
        for node in root.iterdir():
            if not node.name.startswith("video") or not node.name[5:].isdigit():
                continue
            idx_file = node / "index"
            try:
                if idx_file.exists() and idx_file.read_text().strip() not in ("", "0"):
                    continue
                name = (node / "name").read_text().strip() or node.name
            except OSError:
                continue
            found.append(CameraInfo(int(node.name[5:]), name, f"/dev/{node.name}"))
        return sorted(found, key=lambda c: c.index)
    cams: list[CameraInfo] = []
    for i in range(probe):
        cap = cv2.VideoCapture(i, _backend())
        try:
            if cap.isOpened():
                cams.append(CameraInfo(i, f"Camera {i}"))
        finally:
            cap.release()
    return cams


def resolve_camera(spec: str | int, cameras: list[CameraInfo]) -> CameraInfo:
    """Find ``spec`` (index, ``/dev/videoN`` or case-insensitive name substring) in ``cameras``.

    Raises CameraError naming the cameras that are present.
    """
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        index = int(spec)
        for cam in cameras:
            if cam.index == index:
                return cam
        # No names from the platform (not Linux, or a container without sysfs): trust the index.
        linux = sys.platform.startswith("linux")
        if not linux or Path(f"/dev/video{index}").exists():
            return CameraInfo(index, f"Camera {index}", f"/dev/video{index}" if linux else "")
    else:
        wanted = spec.strip()
        for cam in cameras:
            if cam.path and cam.path == wanted:
                return cam
        exact = [c for c in cameras if c.name.lower() == wanted.lower()]
        partial = [c for c in cameras if wanted.lower() in c.name.lower()]
        if exact or partial:
            return (exact or partial)[0]
    present = ", ".join(f"{c.name!r} ({c.index})" for c in cameras) or "none"
    raise CameraError(
        f"No camera matching {spec!r} is connected (cameras present: {present}). Plug it in, "
        "close other applications that use it, or choose another camera in Settings → Camera.",
        source=str(spec),
    )


def _fourcc_text(value: float) -> str:
    code = int(value)
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text if text.isprintable() else ""


class CameraSource(ThreadedSource):
    """A live camera (or stream URL) captured on its own thread.

    ``width``/``height``/``fps`` are requests, negotiated with the device on open (MJPG is asked
    for first, which USB cameras need for 720p30). ``capture_factory(target, backend)`` replaces
    ``cv2.VideoCapture`` in tests. Read ``negotiated`` after the first frame.
    """

    def __init__(
        self,
        device: str | int,
        *,
        width: int = 1280,
        height: int = 720,
        fps: float = 30.0,
        retry_s: float = 2.0,
        timeout_s: float = 5.0,
        clock: Clock = time.monotonic_ns,
        sysfs_root: Path | None = None,
        capture_factory: Any = None,
    ) -> None:
        if width <= 0 or height <= 0 or fps <= 0:
            raise ValueError(f"camera size/fps must be positive, got {width}x{height} @ {fps}")
        self._device = device
        self._is_url = isinstance(device, str) and is_stream_url(device)
        label = (
            redact_url(str(device))
            if self._is_url
            else (f"Camera {device!r}" if not str(device).isdigit() else f"Camera {device}")
        )
        super().__init__(label, retry_s=retry_s, clock=clock)
        self._req = (width, height, fps)
        self._timeout_s = timeout_s
        self._sysfs_root = sysfs_root
        self._factory = capture_factory
        self._cap: cv2.VideoCapture | None = None
        self._url_reader: UrlReader | None = None
        self._raw_mjpeg = False
        self._negotiated: Negotiated | None = None
        self._neg_lock = threading.Lock()

    @property
    def negotiated(self) -> Negotiated | None:
        with self._neg_lock:
            return self._negotiated

    # -- capture thread ------------------------------------------------------

    def _open(self) -> None:
        if self._is_url:
            url = str(self._device)
            if self._factory is not None:
                self._url_reader = self._factory(url, self._timeout_s)
            else:
                self._url_reader = open_url(url, self._timeout_s)
            return
        target: int | str
        if isinstance(self._device, str) and self._device.startswith("/dev/"):
            target = self._device
            label = self._device
        else:
            cam = resolve_camera(self._device, list_cameras(self._sysfs_root, probe=0))
            target, label = cam.index, cam.name
            self._name = f"Camera {cam.name!r}"
        factory = self._factory if self._factory is not None else cv2.VideoCapture
        cap = factory(target, _backend())
        if not cap.isOpened():
            cap.release()
            raise CameraError(
                f"Camera {label!r} is present but cannot be opened: another application may be "
                "using it, or this user lacks permission (Linux: join the 'video' group). VoiceCam "
                f"retries every {self._retry_s:g} s.",
                source=label,
            )
        width, height, fps = self._req
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        cap.set(cv2.CAP_PROP_FPS, fps)
        self._cap = cap
        fourcc = _fourcc_text(cap.get(cv2.CAP_PROP_FOURCC))
        # MJPG: take the compressed buffers and decode them with libjpeg-turbo (simplejpeg),
        # ~3x cheaper than OpenCV's own decode; frames that are not JPEG are used as they come.
        self._raw_mjpeg = fourcc == "MJPG" and bool(cap.set(cv2.CAP_PROP_CONVERT_RGB, 0))
        with self._neg_lock:
            self._negotiated = Negotiated(
                int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
                float(cap.get(cv2.CAP_PROP_FPS)),
                fourcc,
            )

    def _read(self) -> Image | None:
        if self._url_reader is not None:
            image = self._url_reader.read()
            if image is not None and self.negotiated is None:
                with self._neg_lock:
                    self._negotiated = Negotiated(image.shape[1], image.shape[0], 0.0, "")
            return image
        cap = self._cap
        if cap is None:
            return None
        for _ in range(5):  # skip the odd corrupt MJPEG frame instead of dropping the camera
            ok, raw = cap.read()
            if not ok or raw is None or raw.size == 0:
                return None
            if self._raw_mjpeg and (raw.ndim == 1 or raw.shape[0] == 1):
                data = raw.tobytes()
                if data[:2] == b"\xff\xd8":
                    decoded = decode_jpeg(data)
                    if decoded is None:
                        continue
                    return decoded
            return to_bgr(raw)
        return None

    def _close(self) -> None:
        reader, self._url_reader = self._url_reader, None
        if reader is not None:
            reader.close()
        cap, self._cap = self._cap, None
        if cap is not None:
            with contextlib.suppress(Exception):  # release must never take the thread down
                cap.release()
