"""File and URL sources: a video file paced at its own frame rate, a still image, a stream URL.

OpenCV does not pace files (``read()`` returns frames as fast as it can decode), so
:class:`FileSource` schedules frame *k* at ``start + k / fps`` on its capture thread, like a live
camera would deliver it. If it falls more than ``max_lag_s`` behind (a loaded machine) it skips
frames to get back to real time rather than building up lag. ``loop=True`` restarts at the end;
otherwise the source goes to ``SourceState.ENDED`` and keeps its last frame.

A still image is re-published at ``still_fps`` (default 1) so it looks like a camera pointed at a
still scene. A URL (``http(s)://`` MJPEG, ``rtsp://``, …) is read live and unpaced, with the same
retry behaviour as a camera.
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path

import cv2

from video.camera import is_stream_url
from video.errors import CameraError, redact_url
from video.frame import Image, to_bgr
from video.mjpeg import UrlReader, open_url
from video.source import Clock, EndOfStream, ThreadedSource

__all__ = ["IMAGE_SUFFIXES", "FileSource"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm"})


class FileSource(ThreadedSource):
    """A video file, still image or stream URL behind the ``FrameSource`` interface.

    ``fps`` overrides the file's own rate (use it when the container's rate is missing or wrong).
    """

    def __init__(
        self,
        path_or_url: str | Path,
        *,
        loop: bool = False,
        fps: float | None = None,
        still_fps: float = 1.0,
        max_lag_s: float = 0.25,
        retry_s: float = 2.0,
        timeout_s: float = 5.0,
        clock: Clock = time.monotonic_ns,
    ) -> None:
        spec = str(path_or_url)
        if fps is not None and not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps}")
        if not still_fps > 0:
            raise ValueError(f"still_fps must be > 0, got {still_fps}")
        self._is_url = is_stream_url(spec)
        self._path = Path(spec).expanduser() if not self._is_url else None
        self._is_image = self._path is not None and self._path.suffix.lower() in IMAGE_SUFFIXES
        name = redact_url(spec) if self._is_url else Path(spec).name
        super().__init__(name, retry_s=retry_s, clock=clock)
        self._spec = spec
        self._loop = loop
        self._fps_override = fps
        self._still_fps = still_fps
        self._max_lag_ns = int(max_lag_s * 1e9)
        self._timeout_s = timeout_s
        self._cap: cv2.VideoCapture | None = None
        self._url_reader: UrlReader | None = None
        self._still: Image | None = None
        self._fps = 0.0
        self._t0 = 0
        self._k = 0
        self.frames_skipped = 0
        """Frames dropped to catch up with real time (video files only)."""

    @property
    def file_fps(self) -> float:
        """The rate the file is paced at (its own rate, or the override); 0 before opening."""
        return self._fps

    # -- capture thread ------------------------------------------------------

    def _open(self) -> None:
        if self._is_url:
            self._url_reader = open_url(self._spec, self._timeout_s)
            return
        assert self._path is not None
        if not self._path.is_file():
            raise CameraError(
                f"Video file {str(self._path)!r} does not exist or is not a file. Check the path "
                "given to --video (a video file, an image, or an http/rtsp URL).",
                source=self.name,
            )
        if self._is_image:
            image = cv2.imread(str(self._path), cv2.IMREAD_COLOR)
            if image is None:
                raise CameraError(
                    f"{self._path.name} is not an image OpenCV can read (PNG, JPEG, BMP, WebP, "
                    "TIFF are supported).",
                    source=self.name,
                )
            self._still = to_bgr(image)
            self._fps = self._still_fps
            self._t0, self._k = self._clock(), 0
            return
        cap = cv2.VideoCapture(str(self._path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            raise CameraError(
                f"{self._path.name} is not a video OpenCV/FFmpeg can decode. Convert it, e.g. "
                "`ffmpeg -i in.mov -c:v libx264 out.mp4`.",
                source=self.name,
            )
        rate = float(cap.get(cv2.CAP_PROP_FPS))
        self._fps = self._fps_override or (rate if math.isfinite(rate) and rate > 0 else 30.0)
        self._cap = cap
        self._t0, self._k = self._clock(), 0

    def _pace(self) -> bool:
        """Sleep until frame ``k`` is due; True if stopping."""
        due = self._t0 + int(self._k * 1e9 / self._fps)
        return self._wait((due - self._clock()) / 1e9)

    def _read(self) -> Image | None:
        if self._is_url:
            return self._read_stream()
        if self._still is not None:
            if self._k > 0 and self._pace():
                return None
            self._k += 1
            return self._still
        cap = self._cap
        if cap is None or self._pace():
            return None
        # Behind real time by more than max_lag: skip frames instead of building up lag.
        while self._clock() - (self._t0 + int(self._k * 1e9 / self._fps)) > self._max_lag_ns:
            if not cap.grab():
                break
            self._k += 1
            self.frames_skipped += 1
        ok, image = cap.read()
        if not ok or image is None:
            if not self._loop:
                raise EndOfStream
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = cap.read()
            if not ok or image is None:
                raise CameraError(f"{self.name} cannot be read again from the start.")
        self._k += 1
        return to_bgr(image)

    def _read_stream(self) -> Image | None:
        reader = self._url_reader
        return reader.read() if reader is not None else None

    def _close(self) -> None:
        reader, self._url_reader = self._url_reader, None
        if reader is not None:
            reader.close()
        cap, self._cap = self._cap, None
        self._still = None
        if cap is not None:
            with contextlib.suppress(Exception):  # release must never take the thread down
                cap.release()


def probe_video_file(path: Path) -> None:
    """Check that ``path`` is a video file with at least one decodable frame.

    For validating a command-line argument before a session starts. Raises ``CameraError``
    with a sentence a person can act on.
    """
    if not path.is_file():
        raise CameraError(f"{path}: no such video file", source=str(path))
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        ok = cap.isOpened() and cap.read()[0]
    finally:
        cap.release()
    if not ok:
        raise CameraError(
            f"{path.name} is not a video OpenCV/FFmpeg can decode. Convert it, e.g. "
            "`ffmpeg -i in.mov -c:v libx264 out.mp4`.",
            source=str(path),
        )
