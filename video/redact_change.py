"""Search for faces only where the frame changed since the detector last looked there.

Why: a whole-frame search costs ~16 ms with CenterFace and tens of ms with the Haar cascades
(:mod:`video.redact`), while a camera or screen frame mostly repeats the previous one. A
detector's answer for a place depends only on the pixels around it (a cascade's window, the
network's receptive field), so where the pixels are what the detector already searched,
searching again gives the same faces. The gate compares a grey copy (:func:`gray_copy`); the
detector is handed the colour frame and the area to search (CenterFace reads colour; the
cascades read the same grey copy).

Safety rule (a face that appears must never be sent unblurred):

- The reference is the grey search image *as the detector last saw it*, pixel for pixel, and is
  only updated where a search ran. Every frame is compared with it; a cell (``cell_px`` square
  of search pixels) whose mean absolute difference reaches ``threshold`` grey levels is changed.
  Slow drift accumulates against the reference until it counts.
- A face that appears, moves or turns changes the cells it covers. Each group of touching
  changed cells is grown by ``margin`` of its own size on every side (one face's width when the
  group is a face that appeared) plus ``margin_px``, together with every known face it touches
  (grown by a quarter); areas that overlap are merged, so a window that lies across two changes
  is searched whole. The detector searches each area more eagerly than a whole-frame search
  (finer scale step, fewer neighbours needed: :class:`video.redact.RedactConfig`), so it finds
  at least what the whole-frame search finds there despite the shifted sampling grid.
- Known faces are tracked, not forgotten: a face found by an earlier search stays known until a
  search finds it again (then its new box replaces it) or a whole-frame search no longer finds
  it. A region search that misses a face it found before never releases it.
- A whole-frame search runs for the first frame, after a size change or :meth:`ChangeGate.reset`,
  when the areas to search cover more than ``full_share`` of the frame, and at least every
  ``full_every_s`` seconds. Faces outside the searched areas are carried over unchanged.

``tests/video/test_redact_change.py`` and ``bench/bench_redact.py --clips`` compare the gate with
a whole-frame search of the same frames (synthetic faces appearing in the packaged scenes and in
``/work/shared/media``'s desk clip): the gate must blur every face the whole search blurs.

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

__all__ = ["ChangeConfig", "ChangeGate", "Searched", "areas_to_search", "gray_copy"]


def gray_copy(image: Image, width: int) -> Image:
    """The gate's comparison image: ``image`` (BGR or grey uint8) in grey, shrunk to ``width``
    px wide (never enlarged). Grey first, then one channel is shrunk: 0.6 ms instead of 1.4 ms
    for 768×432 (the result differs by at most one grey level)."""
    h, w = image.shape[:2]
    factor = min(1.0, width / w)
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if factor < 1.0:
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return np.asarray(gray, np.uint8)


@dataclass(frozen=True)
class ChangeConfig:
    """When a region counts as changed and how far around it to search (see the module
    docstring); pixel sizes are in search pixels (the ``detect_width`` grey copy),
    ``threshold`` in grey levels (0–255), ``margin`` a fraction of each change's own size."""

    cell_px: int = 8
    threshold: float = 3.0
    margin: float = 0.5
    margin_px: int = 20
    full_share: float = 0.5
    full_every_s: float = 5.0

    def __post_init__(self) -> None:
        if self.cell_px < 2:
            raise ValueError(f"cell_px must be >= 2, got {self.cell_px}")
        if self.threshold <= 0:
            raise ValueError(f"threshold must be > 0 grey levels, got {self.threshold}")
        if self.margin < 0 or self.margin_px < 0:
            raise ValueError(f"margin and margin_px must be >= 0, got {self.margin}")
        if not 0.0 < self.full_share <= 1.0:
            raise ValueError(f"full_share must be in (0, 1], got {self.full_share}")
        if self.full_every_s < 0:
            raise ValueError(f"full_every_s must be >= 0 seconds, got {self.full_every_s}")


@dataclass(frozen=True)
class Searched:
    """Faces known in this frame (found now, carried over or tracked, frame pixels) and the
    share of the frame searched (0: nothing changed, 1: whole frame)."""

    faces: tuple[Box, ...]
    share: float


def areas_to_search(
    changed: np.ndarray,
    cell: tuple[float, float],
    size: tuple[int, int],
    config: ChangeConfig,
    known: list[Box],
) -> list[Box]:
    """Disjoint areas (search pixels) to search, from the grid ``changed`` of changed cells
    (``cell`` = cell width, height in search px) of a ``size`` = (w, h) search image and the
    ``known`` faces (search pixels): each group of touching changed cells grown by ``margin`` of
    its size and ``margin_px``, with every known face it touches, overlapping areas merged."""
    w, h = size
    count, _, stats, _ = cv2.connectedComponentsWithStats(changed.astype(np.uint8), connectivity=8)
    boxes: list[Box] = []
    for i in range(1, count):
        cx, cy, cw, ch = (int(v) for v in stats[i, :4])
        x0, y0 = math.floor(cx * cell[0]), math.floor(cy * cell[1])
        x1, y1 = math.ceil((cx + cw) * cell[0]), math.ceil((cy + ch) * cell[1])
        gx = math.ceil((x1 - x0) * config.margin) + config.margin_px
        gy = math.ceil((y1 - y0) * config.margin) + config.margin_px
        boxes.append(Box(x0 - gx, y0 - gy, x1 - x0 + 2 * gx, y1 - y0 + 2 * gy))
    faces = [f.padded(0.25, 0.25) for f in known]
    merged = True
    while merged:  # merge overlapping areas (and the known faces they touch) until disjoint
        merged = False
        out: list[Box] = []
        for box in boxes:
            for i, other in enumerate(out):
                if _touch(box, other):
                    out[i] = _union(box, other)
                    merged = True
                    break
            else:
                out.append(box)
        for i, box in enumerate(out):
            for face in faces:
                if _touch(box, face) and _union(box, face) != box:
                    out[i] = box = _union(box, face)
                    merged = True
        boxes = out
    return [c for b in boxes if (c := b.clipped(w, h)) is not None]


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
        changed = np.asarray(diff >= cfg.threshold)
        if not changed.any():
            return Searched(tuple(self._known), 0.0)
        known = [f.scaled(factor) for f in self._known]
        areas = areas_to_search(changed, (w / cells[0], h / cells[1]), (w, h), cfg, known)
        share = sum(a.w * a.h for a in areas) / (w * h)
        if share > cfg.full_share:
            return self._search_all(gray, t_ns, detect)
        found: list[Box] = []
        for area in areas:
            found += detect(area.scaled(1.0 / factor))
            ref[area.y : area.y + area.h, area.x : area.x + area.w] = gray[
                area.y : area.y + area.h, area.x : area.x + area.w
            ]
        # a known face is replaced by a new box that overlaps it; one not found again is kept
        # (only a whole-frame search may release it: see the module docstring)
        kept = [f for f in self._known if not any(f.overlap(g) > 0.3 for g in found)]
        self._known = kept + found
        return Searched(tuple(self._known), share)

    def _search_all(
        self, gray: Image, t_ns: int, detect: Callable[[Box | None], list[Box]]
    ) -> Searched:
        self._known = detect(None)
        self._ref = gray.copy()
        self._full_ns = t_ns
        return Searched(tuple(self._known), 1.0)


def _touch(a: Box, b: Box) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def _union(a: Box, b: Box) -> Box:
    x0, y0 = min(a.x, b.x), min(a.y, b.y)
    x1, y1 = max(a.x + a.w, b.x + b.w), max(a.y + a.h, b.y + b.h)
    return Box(x0, y0, x1 - x0, y1 - y0)
