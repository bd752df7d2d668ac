"""A direct MJPEG-over-HTTP reader, and JPEG decoding with libjpeg-turbo (simplejpeg).

Why not just ``cv2.VideoCapture(url)``: FFmpeg's MJPEG decoder costs ~2.2 ms CPU per 1280×720
frame here, simplejpeg (libjpeg-turbo, fast DCT/upsampling) ~0.8 ms — at 30 fps that is ~7 % of a
core against ~2.5 % (``bench/bench_video.py``). :func:`open_url` uses this reader when an
``http(s)://`` URL answers ``multipart/x-mixed-replace`` (IP cameras, phone camera apps, the test
fixture) and falls back to FFmpeg for everything else (RTSP, HLS, a plain video file over HTTP).

Runs on the source's capture thread; blocking reads are bounded by ``timeout_s``.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import urllib.parse
from typing import Protocol

import cv2
import numpy as np
import simplejpeg

from video.errors import CameraError, redact_url
from video.frame import Image, to_bgr

__all__ = ["FfmpegReader", "MjpegReader", "NotMjpeg", "UrlReader", "decode_jpeg", "open_url"]

_MAX_PART = 16 * 1024 * 1024  # no camera sends a 16 MiB JPEG: a broken stream, not a frame
_MAX_HEADER_LINES = 32


class UrlReader(Protocol):
    def read(self) -> Image | None:
        """The next frame, or None when the stream ended/broke. May raise CameraError."""
        ...

    def close(self) -> None: ...


class NotMjpeg(Exception):
    """The URL answered, but not with an MJPEG multipart stream (use FFmpeg instead)."""


def decode_jpeg(data: bytes) -> Image | None:
    """Decode a JPEG to BGR with libjpeg-turbo (fast DCT + upsampling); None if corrupt."""
    try:
        return np.asarray(
            simplejpeg.decode_jpeg(data, colorspace="BGR", fastdct=True, fastupsample=True),
            dtype=np.uint8,
        )
    except (ValueError, RuntimeError):
        return None


class MjpegReader:
    """Reads ``multipart/x-mixed-replace`` JPEG parts from an HTTP(S) response."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NotMjpeg(url)
        conn_cls = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self._conn = conn_cls(parts.hostname, parts.port, timeout=timeout_s)
        headers = {"Accept": "multipart/x-mixed-replace, image/jpeg", "User-Agent": "VoiceCam"}
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            cred = f"{user}:{urllib.parse.unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(cred.encode()).decode()
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        shown = redact_url(url)
        try:
            self._conn.request("GET", path, headers=headers)
            self._resp = self._conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            self._conn.close()
            raise CameraError(
                f"Cannot reach the camera at {shown} ({exc}). Check that it is on, on this "
                "network, and that the URL is right.",
                source=shown,
            ) from exc
        if self._resp.status in (401, 403):
            self.close()
            raise CameraError(
                f"The camera at {shown} refused access (HTTP {self._resp.status}): put the right "
                "user name and password in the URL (http://user:password@host/...).",
                source=shown,
            )
        if self._resp.status != 200:
            self.close()
            raise CameraError(
                f"The camera at {shown} answered HTTP {self._resp.status} {self._resp.reason}: "
                "check the URL's path.",
                source=shown,
            )
        ctype = self._resp.getheader("Content-Type", "") or ""
        if not ctype.lower().startswith("multipart/"):
            self.close()
            raise NotMjpeg(ctype)
        boundary = ""
        for param in ctype.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "boundary":
                boundary = value.strip().strip('"')
        self._boundary = ("--" + boundary.removeprefix("--")).encode() if boundary else b"--"
        self._boundary_consumed = False

    def _read_part(self) -> bytes | None:
        resp = self._resp
        length = -1
        lines = 0
        # Skip to the boundary line (unless the last part already consumed it), then read the
        # part headers up to the blank line.
        skip_search, self._boundary_consumed = self._boundary_consumed, False
        while not skip_search:
            line = resp.readline(1024)
            if not line:
                return None
            if line.startswith(self._boundary):
                break
            lines += 1
            if lines > _MAX_HEADER_LINES:
                raise CameraError("The MJPEG stream is malformed (no part boundary found).")
        for _ in range(_MAX_HEADER_LINES):
            line = resp.readline(1024)
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                break
            key, _, value = line.decode("latin-1").partition(":")
            if key.strip().lower() == "content-length":
                with contextlib.suppress(ValueError):
                    length = int(value.strip())
        if 0 <= length <= _MAX_PART:
            data = resp.read(length)
            return data if len(data) == length else None
        # No Content-Length: read lines up to the next boundary.
        chunks: list[bytes] = []
        size = 0
        while True:
            line = resp.readline(65536)
            if not line:
                return None
            if line.startswith(self._boundary):
                break
            chunks.append(line)
            size += len(line)
            if size > _MAX_PART:
                raise CameraError("The MJPEG stream is malformed (a part is over 16 MiB).")
        self._boundary_consumed = True
        return b"".join(chunks).rstrip(b"\r\n")

    def read(self) -> Image | None:
        for _ in range(5):  # a corrupt frame now and then is skipped, not fatal
            try:
                data = self._read_part()
            except (OSError, http.client.HTTPException):
                return None
            if data is None:
                return None
            image = decode_jpeg(data)
            if image is not None:
                return image
        return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._resp.close()
        with contextlib.suppress(Exception):
            self._conn.close()


class FfmpegReader:
    """Any other stream through OpenCV's FFmpeg backend, with open/read timeouts."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        ms = int(timeout_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        self._cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        if not self._cap.isOpened():
            self._cap.release()
            raise CameraError(
                f"Cannot open the video stream {redact_url(url)}: nothing answers there or it is "
                "not a video stream. Check that the camera/server is on and the URL is right.",
                source=redact_url(url),
            )

    def read(self) -> Image | None:
        ok, image = self._cap.read()
        if not ok or image is None or image.size == 0:
            return None
        return to_bgr(image)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._cap.release()


def open_url(url: str, timeout_s: float = 5.0) -> UrlReader:
    """An MJPEG reader for http(s) multipart streams, else FFmpeg. Raises CameraError."""
    if url.lower().startswith(("http://", "https://")):
        try:
            return MjpegReader(url, timeout_s)
        except NotMjpeg:
            pass
    return FfmpegReader(url, timeout_s)
