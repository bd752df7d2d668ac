"""Camera/screen frames to the model: a source, the pacer's decisions, JPEG encoding.

``FrameFeed`` runs on the assistant's engine thread (``poll()`` every ~50 ms); the source captures
on its own thread and ``preview()`` may be called from any thread (it only reads the source's
one-slot mailbox). Which frame goes out, and why, is ``video.pacing.Pacer``'s decision; each sent
frame is returned as a ``SentFrame`` (JPEG bytes, capture time, reason) for the session, the
recorder and the GUI's thumbnail strip.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from app.ports import FrameSourcePort
from video.encode import MAX_SIDE, QUALITY, SNAPSHOT_MAX_SIDE, SNAPSHOT_QUALITY, encode_frame
from video.pacing import Pacer, PacerConfig, Reason


@dataclass(frozen=True)
class SentFrame:
    jpeg: bytes
    t_ns: int  # capture time of the frame (monotonic ns)
    sent_ns: int
    seq: int
    reason: str
    width: int
    height: int


class FrameFeed:
    """Source → pacer → JPEG. ``enabled`` is the camera on/off switch."""

    def __init__(
        self,
        source: FrameSourcePort,
        pacer: PacerConfig | None = None,
        max_side: int = MAX_SIDE,
        quality: int = QUALITY,
        keep: int = 12,
    ) -> None:
        self.source = source
        self.pacer = Pacer(pacer)
        self.max_side = max_side
        self.quality = quality
        self.enabled = True
        self.last_decision: str = ""
        self._sent: deque[SentFrame] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._started = False

    # ------------------------------------------------------------------ lifecycle (any thread)
    def start(self) -> None:
        if self.enabled and not self._started:
            self.source.start()
            self._started = True

    def stop(self) -> None:
        if self._started:
            self.source.stop()
            self._started = False

    def set_enabled(self, on: bool) -> None:
        """Camera on/off. Off stops the source so no old frame can be sent or shown."""
        self.enabled = on
        self.pacer.scene_reset()
        if on:
            self.start()
        else:
            self.stop()

    def preview(self) -> Any:
        """The newest captured frame (``video.frame.Frame``) or None. Any thread."""
        return self.source.latest() if self.enabled else None

    def sent_frames(self) -> tuple[SentFrame, ...]:
        with self._lock:
            return tuple(self._sent)

    # ------------------------------------------------------------------ engine thread
    def speech_started(self, t_ns: int) -> None:
        self.pacer.speech_started(t_ns)

    def speech_stopped(self, t_ns: int) -> None:
        self.pacer.speech_stopped(t_ns)

    def request_snapshot(self, t_ns: int) -> None:
        self.pacer.request_snapshot(t_ns)

    def errors(self) -> list[str]:
        return [str(getattr(e, "message", e)) for e in self.source.errors()]

    def poll(self, now_ns: int) -> SentFrame | None:
        """Offer the newest frame to the pacer; encode and return it if it should go out."""
        if not self.enabled:
            self.last_decision = self.pacer.no_frame(now_ns, Reason.CAMERA_OFF).text
            return None
        frame = self.source.latest()
        if frame is None:
            self.last_decision = self.pacer.no_frame(now_ns).text
            return None
        fingerprint = None
        if self.pacer.config.policy == "on-change":
            from video.perceptual import dhash

            fingerprint = dhash(frame.image)
        decision = self.pacer.offer(now_ns, frame.seq, frame.t_ns, fingerprint)
        self.last_decision = decision.text
        if not decision.send:
            return None
        side, quality = (
            (SNAPSHOT_MAX_SIDE, SNAPSHOT_QUALITY)
            if decision.snapshot
            else (self.max_side, self.quality)
        )
        enc = encode_frame(frame.image, side, quality)
        sent = SentFrame(
            jpeg=enc.jpeg,
            t_ns=frame.t_ns,
            sent_ns=now_ns,
            seq=frame.seq,
            reason=str(decision.reason),
            width=enc.width,
            height=enc.height,
        )
        with self._lock:
            self._sent.append(sent)
        return sent
