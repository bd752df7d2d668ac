"""Search for faces only where the frame changed since the detector last looked there.

Why: the Haar search is ~25 ms per pass over a 320 px grey copy (three passes for upright and
±20° tilted heads: ~75 ms per 768 px frame), while a camera or screen frame mostly repeats the
previous one. The cascade's answer for a window depends only on that window's pixels, so where
the pixels are what the detector already searched, searching again gives the same faces.

Safety rule (a face that appears must never be sent unblurred): the reference is the grey search
image *as the detector last saw it*, pixel for pixel, and is only updated where a search ran.
Every frame is compared with it; a cell (``cell_px`` square of search pixels) whose mean absolute
difference reaches ``threshold`` grey levels is changed. A face that appears, moves or turns
changes the cells it covers, so the searched area — the bounding box of the changed cells, grown
by ``margin`` of its size and ``margin_px``, plus every known face it touches — contains it, at
the same scale as a whole-frame search. Slow drift accumulates against the reference until it
counts. Faces outside the searched area are carried over unchanged. A whole-frame search runs for
the first frame, after a size change or :meth:`ChangeGate.reset`, when more than ``full_share``
of the frame changed, and at least every ``full_every_s`` seconds.

Pure and single-threaded: one :class:`ChangeGate` per :class:`video.redact.Redactor` (the
feed's lock serialises calls). Times are monotonic ns from the caller.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from video.frame import Image
from video.redact_box import Box

__all__ = ["ChangeConfig", "ChangeGate", "Searched"]


@dataclass(frozen=True)
class ChangeConfig:
    """When a region counts as changed (see the module docstring); pixel sizes are in search
    pixels (the ``detect_width`` grey copy), ``threshold`` in grey levels (0–255)."""

    cell_px: int = 8
    threshold: float = 3.0
    margin: float = 0.25
    margin_px: int = 12
    full_share: float = 0.6
    full_every_s: float = 5.0

    def __post_init__(self) -> None:
        if self.cell_px < 2:
            raise ValueError(f"cell_px must be >= 2, got {self.cell_px}")
        if self.threshold <= 0:
            raise ValueError(f"threshold must be > 0 grey levels, got {self.threshold}")
        if not 0.0 < self.full_share <= 1.0:
            raise ValueError(f"full_share must be in (0, 1], got {self.full_share}")
        if self.full_every_s < 0:
            raise ValueError(f"full_every_s must be >= 0 seconds, got {self.full_every_s}")


@dataclass(frozen=True)
class Searched:
    """Faces known in this frame (found now or carried over, frame pixels) and the share of
    the frame searched (0: nothing changed, 1: whole frame)."""

    faces: tuple[Box, ...]
    share: float


class ChangeGate:
    """Decides where to search each frame and remembers what earlier searches found."""

    def __init__(self, config: ChangeConfig | None = None) -> None:
        self.config = config or ChangeConfig()
        self._ref: Image | None = None
        self._known: list[Box] = []
        self._full_ns = 0

    def reset(self) -> None:
        """Forget the reference: the next frame is searched whole (new source or scene)."""
        self._ref = None
        self._known = []

    def search(
        self,
        gray: Image,
        factor: float,
        t_ns: int,
        detect: Callable[[Box | None], list[Box]],
    ) -> Searched:
        """Faces in the frame whose search copy is ``gray`` (``factor`` search px per frame
        px), calling ``detect(area)`` (frame pixels; None = whole frame) where it changed."""
        cfg = self.config
        ref = self._ref
        stale = t_ns - self._full_ns >= cfg.full_every_s * 1e9 or t_ns < self._full_ns
        if ref is None or ref.shape != gray.shape or stale:
            return self._search_all(gray, t_ns, detect)
        h, w = gray.shape[:2]
        cells = (math.ceil(w / cfg.cell_px), math.ceil(h / cfg.cell_px))
        diff = cv2.resize(cv2.absdiff(gray, ref), cells, interpolation=cv2.INTER_AREA)
        rows, cols = np.nonzero(diff >= cfg.threshold)
        if rows.size == 0:
            return Searched(tuple(self._known), 0.0)
        cw, ch = w / cells[0], h / cells[1]
        x0, y0 = int(cols.min() * cw), int(rows.min() * ch)
        x1, y1 = math.ceil((cols.max() + 1) * cw), math.ceil((rows.max() + 1) * ch)
        gx = round((x1 - x0) * cfg.margin) + cfg.margin_px
        gy = round((y1 - y0) * cfg.margin) + cfg.margin_px
        area = Box(x0 - gx, y0 - gy, x1 - x0 + 2 * gx, y1 - y0 + 2 * gy).clipped(w, h)
        assert area is not None  # the changed cells lie inside the image
        for face in self._known:  # a known face the area touches is searched whole
            s = face.scaled(factor).padded(0.1, 0.1)
            if s.overlap(area) > 0:
                area = _union(area, s).clipped(w, h) or area
        share = area.w * area.h / (w * h)
        if share > cfg.full_share:
            return self._search_all(gray, t_ns, detect)
        frame_area = area.scaled(1.0 / factor)
        found = detect(frame_area)
        carried = [f for f in self._known if f.scaled(factor).overlap(area) == 0]
        self._known = carried + found
        ref[area.y : area.y + area.h, area.x : area.x + area.w] = gray[
            area.y : area.y + area.h, area.x : area.x + area.w
        ]
        return Searched(tuple(self._known), share)

    def _search_all(
        self, gray: Image, t_ns: int, detect: Callable[[Box | None], list[Box]]
    ) -> Searched:
        self._known = detect(None)
        self._ref = gray.copy()
        self._full_ns = t_ns
        return Searched(tuple(self._known), 1.0)


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a.x, b.x), min(a.y, b.y)
    x1, y1 = max(a.x + a.w, b.x + b.w), max(a.y + a.h, b.y + b.h)
    return Box(x0, y0, x1 - x0, y1 - y0)
