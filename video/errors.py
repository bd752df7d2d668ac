"""Errors raised and reported by ``video/``.

Error tree::

    VideoError                  anything this package raises on purpose
     ├── CameraError            a frame source (camera, file, URL, screen, window) is missing,
     │                          disappeared or cannot be opened; reported as an *event* through
     │                          ``FrameSource.errors()`` while the source retries in the background
     └── EncodeError            an image could not be encoded to JPEG

Every message is written for a person: what happened, and what to do about it. Messages never
contain secrets (URLs with credentials are redacted by :func:`redact_url`).
"""

from __future__ import annotations

import re

__all__ = ["CameraError", "EncodeError", "VideoError", "redact_url"]


class VideoError(Exception):
    """Base of every error ``video/`` raises on purpose."""


class CameraError(VideoError):
    """A frame source is missing, disappeared, or cannot be opened.

    ``source`` names the source as the person chose it (camera name, file, redacted URL, screen);
    ``retrying`` says whether the source keeps retrying in the background (the conversation carries
    on without video meanwhile).
    """

    def __init__(self, message: str, *, source: str = "", retrying: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.retrying = retrying

    def __repr__(self) -> str:
        return f"CameraError({self.message!r}, source={self.source!r}, retrying={self.retrying})"


class EncodeError(VideoError):
    """An image could not be encoded (empty, wrong dtype or channel count)."""


_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@")


def redact_url(url: str) -> str:
    """Return ``url`` with any ``user:password@`` part replaced by ``***@`` (for messages/logs)."""
    return _USERINFO.sub(r"\1***@", url)
