"""The video feed: FrameSource + Pacer + encoder → the frames that actually leave the machine.

The app calls :meth:`VideoFeed.poll` on one thread (its engine loop, every ~100 ms) and sends
exactly the :class:`SentFrame` values it returns — so every frame that leaves the machine is one
the feed reported (the GUI shows them as a thumbnail strip, the recorder stores them).

Camera off is hard: :meth:`VideoFeed.camera_off` stops the source (the device is released and its
last frame forgotten) and, once it returns, ``poll`` returns nothing until :meth:`camera_on`; after
that, only frames *captured after* ``camera_on`` can be sent — a stale frame is never reused.

Redaction: with a :class:`~video.redact.Redactor` (``redactor=`` or :meth:`set_redactor`), a frame
chosen for sending is shrunk to the encode size, redacted (faces blurred, excluded rectangles
filled), and only then encoded — so the JPEG that is sent, recorded and shown in the strip is the
redacted one. :meth:`redact_preview` gives the GUI/recorder the same treatment for preview frames.

Thread contract: every method may be called from any thread; one internal lock serialises them
(``poll`` holds it while encoding, ~1 ms, plus redaction when on).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal

from video.encode import (
    MAX_SIDE,
    QUALITY,
    SNAPSHOT_MAX_SIDE,
    SNAPSHOT_QUALITY,
    Backend,
    encode_frame,
    resize_max_side,
)
from video.errors import CameraError
from video.frame import Image
from video.pacing import Decision, Pacer, Reason
from video.perceptual import dhash
from video.redact import Redactor
from video.source import Clock, FrameSource

__all__ = ["SentFrame", "VideoFeed"]


@dataclass(frozen=True)
class SentFrame:
    """A JPEG that goes to the model now, and why.

    ``t_ns``: when the frame was captured (monotonic ns); ``sent_ns``: when the feed released it;
    ``width``/``height``: pixels of the JPEG; ``snapshot``: a high-detail "look at this" frame.
    """

    jpeg: bytes
    t_ns: int
    reason: Reason
    width: int
    height: int
    snapshot: bool
    seq: int = 0
    sent_ns: int = 0
    source: str = ""
    #: True when the frame went through the redactor; ``faces_blurred`` boxes were blurred.
    redacted: bool = False
    faces_blurred: int = 0

    @property
    def detail(self) -> Literal["auto", "high"]:
        """OpenAI's image detail hint: "high" for a snapshot, else "auto"."""
        return "high" if self.snapshot else "auto"


class VideoFeed:
    """Decides, encodes and reports the frames sent to the model (see module docstring)."""

    def __init__(
        self,
        source: FrameSource | None,
        pacer: Pacer | None = None,
        *,
        max_side: int = MAX_SIDE,
        quality: int = QUALITY,
        snapshot_max_side: int = SNAPSHOT_MAX_SIDE,
        snapshot_quality: int = SNAPSHOT_QUALITY,
        backend: Backend | None = None,
        clock: Clock = time.monotonic_ns,
        enabled: bool = True,
        redactor: Redactor | None = None,
    ) -> None:
        self._source = source
        self.pacer = pacer or Pacer()
        self._enc = (max_side, quality, snapshot_max_side, snapshot_quality)
        self._backend = backend
        self._clock = clock
        self._lock = threading.RLock()
        self._redactor = redactor
        self._enabled = enabled
        self._on_ns = clock() if enabled else 0
        self._hash: tuple[int, int] | None = None  # (seq, dhash) cache
        self.last_decision: Decision | None = None
        self.sent_count = 0
        if enabled and source is not None:
            source.start()

    # -- state ---------------------------------------------------------------

    @property
    def source(self) -> FrameSource | None:
        return self._source

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def redactor(self) -> Redactor | None:
        return self._redactor

    def set_redactor(self, redactor: Redactor | None) -> None:
        """Redact every frame sent from now on (None: stop redacting). Takes effect at the next
        ``poll``; a frame already returned is not touched."""
        with self._lock:
            self._redactor = redactor

    def redact_preview(self, image: Image, t_ns: int, max_side: int = MAX_SIDE) -> Image:
        """``image`` shrunk to ``max_side`` and redacted like a sent frame (unchanged but shrunk
        when no redactor is set). For preview frames that are recorded or shown as sent."""
        with self._lock:
            small = resize_max_side(image, max_side)
            if self._redactor is None:
                return small
            return self._redactor.apply(small, t_ns).image

    def set_source(self, source: FrameSource | None) -> None:
        """Switch sources: the old one is stopped; the new one starts if the camera is on."""
        with self._lock:
            old, self._source = self._source, source
            if old is not None and old is not source:
                old.stop()
            self.pacer.scene_reset()
            self._hash = None
            if self._redactor is not None:
                self._redactor.reset()
            self._on_ns = self._clock()
            if self._enabled and source is not None:
                source.start()

    def camera_off(self) -> None:
        """Hard off: stop the source, forget its frames, send nothing more about the scene."""
        with self._lock:
            self._enabled = False
            if self._source is not None:
                self._source.stop()
            self.pacer.scene_reset()
            self.pacer.cancel_snapshot()
            self._hash = None

    def camera_on(self) -> None:
        """Turn the source on again; only frames captured from now on can be sent."""
        with self._lock:
            if self._enabled:
                return
            self._enabled = True
            self._on_ns = self._clock()
            if self._source is not None:
                self._source.start()

    def errors(self) -> list[CameraError]:
        src = self._source
        return src.errors() if src is not None else []

    # -- events --------------------------------------------------------------

    def speech_started(self, t_ns: int | None = None) -> None:
        with self._lock:
            self.pacer.speech_started(self._clock() if t_ns is None else t_ns)

    def speech_stopped(self, t_ns: int | None = None) -> None:
        with self._lock:
            self.pacer.speech_stopped(self._clock() if t_ns is None else t_ns)

    def request_snapshot(self, t_ns: int | None = None) -> None:
        with self._lock:
            self.pacer.request_snapshot(self._clock() if t_ns is None else t_ns)

    # -- the decision --------------------------------------------------------

    def poll(self, now_ns: int | None = None) -> SentFrame | None:
        """The frame to send now, or None (see ``last_decision`` for why)."""
        with self._lock:
            now = self._clock() if now_ns is None else now_ns
            src = self._source
            if not self._enabled:
                self.last_decision = self.pacer.no_frame(now, Reason.CAMERA_OFF)
                return None
            frame = src.latest() if src is not None else None
            if frame is None:
                self.last_decision = self.pacer.no_frame(now, Reason.NO_FRAME)
                return None
            if frame.t_ns <= self._on_ns:  # captured before the camera was (re)enabled
                self.last_decision = Decision(False, Reason.STALE, now, frame.seq)
                return None
            fingerprint: int | None = None
            if self.pacer.config.policy.needs_fingerprint:
                if self._hash is None or self._hash[0] != frame.seq:
                    self._hash = (frame.seq, dhash(frame.image))
                fingerprint = self._hash[1]
            decision = self.pacer.offer(now, frame.seq, frame.t_ns, fingerprint)
            self.last_decision = decision
            if not decision.send:
                return None
            max_side, quality, snap_side, snap_quality = self._enc
            if decision.snapshot:
                max_side, quality = snap_side, snap_quality
            image, faces = frame.image, 0
            if self._redactor is not None:
                redacted = self._redactor.apply(resize_max_side(image, max_side), frame.t_ns)
                image, faces = redacted.image, len(redacted.faces)
            enc = encode_frame(image, max_side, quality, self._backend)
            self.sent_count += 1
            return SentFrame(
                jpeg=enc.jpeg,
                t_ns=frame.t_ns,
                reason=decision.reason,
                width=enc.width,
                height=enc.height,
                snapshot=decision.snapshot,
                seq=frame.seq,
                sent_ns=now,
                source=src.name if src is not None else "",
                redacted=self._redactor is not None,
                faces_blurred=faces,
            )

    def close(self) -> None:
        """Stop the source (end of session)."""
        with self._lock:
            self._enabled = False
            if self._source is not None:
                self._source.stop()
