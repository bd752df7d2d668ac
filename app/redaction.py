"""Redaction settings → what the video feed and the screen source do, and who receives frames.

Three settings (``app.config.Settings``; flags ``--blur-faces``, ``--exclude-window``,
``--exclude-region``):

- ``blur_faces``: ``"off"``, ``"cloud"`` (blur faces in camera and screen frames when the backend
  sends them off this computer: OpenAI, Gemini, a non-loopback ``ws://`` URL) or ``"always"``
  (every backend, the offline one too). "Per backend" is this rule: the offline server never
  sends a frame anywhere, so blurring there only costs CPU unless the person asks for it.
- ``exclude_windows``: window titles (comma-separated, case-insensitive parts) filled with grey
  in every screen grab, and ``exclude_region``: one ``X,Y,W,H`` rectangle of the virtual screen
  (a region the person drew). These apply to screen sharing on every backend: they are cheap and
  a window someone hid should not appear in the recording or the preview either.

Everything here is pure except :func:`build_redactor` (loads the face model, CenterFace, or —
when its file is missing, with a logged warning naming the fetch command — the packaged Haar
cascades; a ``RedactionError`` names the reinstall step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from app.privacy_status import Destination, FaceBlur

if TYPE_CHECKING:  # OpenCV is loaded only when a redactor is built (the window opens fast)
    from video.redact import FaceDetection, Redactor

__all__ = [
    "BLUR_CHOICES",
    "blur_active",
    "build_redactor",
    "destination",
    "exclusion_problem",
    "face_blur",
    "parse_exclude_region",
    "parse_exclude_windows",
    "regions_hidden",
    "window_titles",
]

#: ``blur_faces`` values: never, when frames leave this computer, on every backend.
BLUR_CHOICES = ("off", "cloud", "always")
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_LABELS = {"openai": "OpenAI", "gemini": "Gemini"}


def destination(backend: str) -> Destination:
    """Who receives what a conversation on ``backend`` sends (the privacy chip's "→ …")."""
    if backend == "local":
        return Destination("this computer", local=True)
    if backend in _LABELS:
        return Destination(_LABELS[backend])
    host = urlsplit(backend).hostname or backend
    return Destination(host, local=host in _LOOPBACK)


def blur_active(blur_faces: str, backend: str) -> bool:
    """Whether faces are blurred for a conversation on ``backend`` under ``blur_faces``."""
    if blur_faces == "always":
        return True
    return blur_faces == "cloud" and not destination(backend).local


def face_blur(blur_faces: str, backend: str, detection: FaceDetection | None) -> FaceBlur:
    """What the privacy line says of faces: ``detection`` is what the feed's redactor runs
    (``Redactor.detection``; None: the feed has no redactor). Blurring asked for but not
    running (the detector could not load, or is not installed yet) is UNAVAILABLE, never ON."""
    if not blur_active(blur_faces, backend):
        return FaceBlur.OFF
    if detection is None:
        return FaceBlur.UNAVAILABLE
    from video.redact import FaceDetection  # loaded already: the redactor exists

    if detection is FaceDetection.FALLBACK:
        return FaceBlur.FALLBACK
    if detection is FaceDetection.OFF:
        return FaceBlur.UNAVAILABLE
    return FaceBlur.ON


def parse_exclude_windows(text: str) -> tuple[str, ...]:
    """``"Password, Slack"`` → ``("Password", "Slack")`` (empty parts dropped)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_exclude_region(text: str) -> tuple[int, int, int, int] | None:
    """``"X,Y,W,H"`` → a rectangle, ``""`` → None; ValueError with the expected form."""
    if not text.strip():
        return None
    parts = text.split(",")
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"a region is X,Y,W,H in screen pixels (e.g. 0,0,640,480), got {text!r}"
        ) from None
    if w <= 0 or h <= 0:
        raise ValueError(f"a region needs a width and height > 0, got {text!r}")
    return (x, y, w, h)


def exclusion_problem(blur_faces: str, exclude_region: str) -> str | None:
    """A sentence naming the bad setting, or None (``Settings.validate`` and the CLI)."""
    if blur_faces not in BLUR_CHOICES:
        return f"blur_faces = {blur_faces!r}: use one of {', '.join(BLUR_CHOICES)}"
    try:
        parse_exclude_region(exclude_region)
    except ValueError as exc:
        return f"exclude_region: {exc}"
    return None


def regions_hidden(exclude_windows: str, exclude_region: str) -> int:
    """How many windows/rectangles are hidden from screen frames (for the privacy line)."""
    region = 1 if exclude_region.strip() else 0
    return len(parse_exclude_windows(exclude_windows)) + region


def build_redactor(blur_faces: str, backend: str) -> Redactor | None:
    """The face blurrer for a conversation on ``backend``, or None when blurring is off for it.
    Raises ``video.redact.RedactionError`` (an actionable message) if the detector cannot load."""
    if not blur_active(blur_faces, backend):
        return None
    from video.redact import RedactConfig, Redactor

    return Redactor(RedactConfig(faces=True))


def window_titles() -> tuple[str, ...]:
    """Titles of the visible windows on this display, for picking what to hide (may block on
    the X server: call off the GUI thread). Empty when windows cannot be listed (no X11)."""
    from video.errors import CameraError
    from video.x11windows import list_windows

    try:
        found = list_windows()
    except CameraError:
        return ()
    return tuple(sorted({w.title for w in found if w.title.strip()}))
