"""Frames and the one-slot latest-frame mailbox.

A capture thread ``put``s every frame it reads; consumers (GUI preview, the feed to the model) call
``latest()`` whenever they like. Only the newest frame is kept: old frames are dropped, never
queued, so a slow consumer can never build up lag.

Thread-safety: :class:`Mailbox` may be used from any number of threads. A :class:`Frame` is
immutable: its ``image`` array is marked read-only before it is published.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Frame", "Image", "Mailbox", "to_bgr"]

Image = npt.NDArray[np.uint8]
"""A BGR image, shape ``(height, width, 3)``, dtype uint8 (OpenCV's layout)."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One captured frame.

    ``image``: BGR uint8 ``(h, w, 3)``, read-only. ``t_ns``: ``time.monotonic_ns()`` when the frame
    was captured (read from the device). ``seq``: 1, 2, 3, … per mailbox, strictly increasing, never
    reused — not even across a stop/start of the source.
    """

    image: Image
    t_ns: int
    seq: int

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


class Mailbox:
    """A one-slot, thread-safe "latest frame" box."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = 0

    def put(self, image: Image, t_ns: int) -> Frame:
        """Publish ``image`` (taken over, made read-only) as the newest frame; returns the Frame."""
        image.flags.writeable = False
        with self._cond:
            self._seq += 1
            frame = Frame(image=image, t_ns=t_ns, seq=self._seq)
            self._frame = frame
            self._cond.notify_all()
        return frame

    def latest(self) -> Frame | None:
        """The newest frame, or None if there is none (never started, or cleared)."""
        with self._cond:
            return self._frame

    def clear(self) -> None:
        """Forget the current frame: ``latest()`` returns None until the next ``put``."""
        with self._cond:
            self._frame = None
            self._cond.notify_all()

    def wait_newer(self, seq: int, timeout_s: float) -> Frame | None:
        """Block until a frame with ``seq`` greater than ``seq`` exists (or timeout); return it."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._frame is not None and self._frame.seq > seq, timeout=timeout_s
            )
            frame = self._frame
            return frame if frame is not None and frame.seq > seq else None


def to_bgr(image: npt.NDArray[Any]) -> Image:
    """Normalise what OpenCV/mss hand back to contiguous BGR uint8 ``(h, w, 3)``.

    Accepts gray ``(h, w)``/``(h, w, 1)``, BGR and BGRA (alpha dropped); ValueError otherwise.
    """
    import cv2  # local: keeps ``video.frame`` importable without initialising OpenCV

    if image.dtype != np.uint8:
        raise ValueError(f"expected an 8-bit image, got dtype {image.dtype}")
    if image.size == 0:
        raise ValueError("empty image")
    src: Image = image
    if src.ndim == 2 or (src.ndim == 3 and src.shape[2] == 1):
        out: Image = np.asarray(cv2.cvtColor(src, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    elif src.ndim == 3 and src.shape[2] == 4:
        out = np.asarray(cv2.cvtColor(src, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    elif src.ndim == 3 and src.shape[2] == 3:
        out = src
    else:
        raise ValueError(f"expected a gray, BGR or BGRA image, got shape {image.shape}")
    return np.ascontiguousarray(out, dtype=np.uint8)
