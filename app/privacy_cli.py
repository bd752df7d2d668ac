"""The headless CLI's privacy line: ``privacy: Mic + camera 1 fps → OpenAI`` on stderr each time
what leaves the machine changes (connect, camera paused, sending paused, disconnect).

:class:`PrivacyLinePrinter` is polled by the CLI's wait loops (every 50–100 ms) on the main
thread; it reads the assistant's snapshot and pause flag (thread-safe) and prints through
``app.privacy_status.PrivacyLineTracker``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

from app.config import Settings
from app.privacy_status import PrivacyLineTracker, VideoKind
from app.sending import sending_state

if TYPE_CHECKING:
    from app.assistant import Assistant
    from app.frames import FrameFeed

__all__ = ["PrivacyLinePrinter", "video_kind"]


def video_kind(camera: str | None, has_file: bool) -> VideoKind:
    """The source kind the CLI's flags chose: ``--camera screen…`` / ``region:`` / ``window:`` →
    screen; another ``--camera``, ``--image`` or ``--video`` → camera; nothing → none."""
    if camera is not None and camera.lower().startswith(("screen", "region:", "window:")):
        return VideoKind.SCREEN
    return VideoKind.CAMERA if camera is not None or has_file else VideoKind.NONE


class PrivacyLinePrinter:
    """Prints the privacy line when it changes (see module docstring). ``frames``: the feed
    whose redactor's face search the line reports (None: no video)."""

    def __init__(
        self,
        settings: Settings,
        video: VideoKind,
        out: TextIO | None = None,
        *,
        frames: FrameFeed | None = None,
    ) -> None:
        self._settings = settings
        self._video = video
        self._frames = frames
        self._out = out
        self._tracker = PrivacyLineTracker()
        #: True once a line has been printed (the closing line is only said after an opening one).
        self.printed = False

    def poll(self, assistant: Assistant) -> str | None:
        """Print and return the line if it changed since the last call, else None."""
        snap = assistant.snapshot()
        state = sending_state(
            self._settings,
            state=snap.state,
            paused=assistant.sending_paused,
            mode=snap.mode,
            video=self._video,
            video_on=snap.camera_on,
            detection=None if self._frames is None else self._frames.face_detection(),
        )
        status = self._tracker.update(state)
        if status is None:
            return None
        print(f"privacy: {status.line}", file=self._out or sys.stderr, flush=True)
        self.printed = True
        return status.line
