"""Camera/screen frames to the model, as the assistant uses them.

``FrameFeed`` is ``video.feed.VideoFeed`` (source → pacer → JPEG, hard camera-off that never
re-sends a frame captured before the camera was switched on) plus what the app needs on top:

- a camera switch (``enabled``) that is separate from the conversation's lifecycle
  (``start()`` / ``stop()``): the switch may be flipped while idle and is honoured at ``start()``;
- the most recent frames sent, for the GUI's thumbnail strip (``sent_frames()``);
- ``preview()``: the newest captured frame while the camera is on.

Threads: ``poll()`` runs on the assistant's engine thread (every ~50 ms); the source captures on
its own thread; every other method may be called from any thread (``VideoFeed`` serialises them).
"""

from __future__ import annotations

import threading
from collections import deque

from video.encode import MAX_SIDE, QUALITY
from video.feed import SentFrame, VideoFeed
from video.frame import Frame
from video.opencv import limit_threads
from video.pacing import Pacer, PacerConfig
from video.redact import FaceDetection, Redactor
from video.source import FrameSource

__all__ = ["FrameFeed", "FrameSource", "SentFrame"]


class FrameFeed(VideoFeed):
    """The app's video feed: a ``VideoFeed`` with a camera switch and a thumbnail history."""

    def __init__(
        self,
        source: FrameSource,
        pacer: PacerConfig | None = None,
        max_side: int = MAX_SIDE,
        quality: int = QUALITY,
        keep: int = 12,
        redactor: Redactor | None = None,
    ) -> None:
        # One OpenCV worker thread: on 2 cores its spinning pool costs more than it saves
        # (bench/bench_video.py: camera + preview + 1 fps to the model, 9.1 % → 5.4 % of a core).
        limit_threads(1)
        super().__init__(
            source,
            Pacer(pacer),
            max_side=max_side,
            quality=quality,
            enabled=False,
            redactor=redactor,
        )
        self._switch_on = True
        self._started = False
        self._sent: deque[SentFrame] = deque(maxlen=keep)
        self._sent_lock = threading.Lock()

    # ------------------------------------------------------------------ the camera switch
    @property
    def enabled(self) -> bool:
        """The user's camera switch (not whether the source is running)."""
        return self._switch_on

    @enabled.setter
    def enabled(self, on: bool) -> None:
        self._switch_on = on
        if not self._started:
            return
        if on:
            self.camera_on()
        else:
            self.camera_off()

    def set_enabled(self, on: bool) -> None:
        """Camera on/off now. Off stops the source: no old frame is sent or shown again."""
        self._switch_on = on
        if on:
            self.start()
        else:
            self.camera_off()

    # ------------------------------------------------------------------ conversation lifecycle
    def start(self) -> None:
        """The conversation starts: run the source if the switch is on."""
        self._started = True
        if self._switch_on:
            self.camera_on()

    def stop(self) -> None:
        """The conversation ends: release the source (the switch keeps its position)."""
        self._started = False
        self.camera_off()

    # ------------------------------------------------------------------ observation (any thread)
    def preview(self) -> Frame | None:
        """The newest captured frame (``video.frame.Frame``) while the camera runs, else None."""
        source = self.source
        return source.latest() if super().enabled and source is not None else None

    def sent_frames(self) -> tuple[SentFrame, ...]:
        with self._sent_lock:
            return tuple(self._sent)

    def face_detection(self) -> FaceDetection | None:
        """The face search the current redactor runs, None without one (the privacy line)."""
        redactor = self.redactor
        return None if redactor is None else redactor.detection

    def error_messages(self) -> list[str]:
        """Camera/screen problems since the last call, as sentences for the user."""
        return [str(getattr(e, "message", e)) for e in self.errors()]

    # ------------------------------------------------------------------ engine thread
    def poll(self, now_ns: int | None = None) -> SentFrame | None:
        sent = super().poll(now_ns)
        if sent is not None:
            with self._sent_lock:
                self._sent.append(sent)
        return sent
