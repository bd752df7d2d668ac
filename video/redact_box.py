"""A rectangle in image pixels, for redaction (faces to blur, regions to fill)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Box"]


@dataclass(frozen=True)
class Box:
    """A rectangle in image pixels: left ``x``, top ``y``, ``w`` × ``h``."""

    x: int
    y: int
    w: int
    h: int

    def padded(self, frac_x: float, frac_y: float) -> Box:
        dx, dy = round(self.w * frac_x), round(self.h * frac_y)
        return Box(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def clipped(self, width: int, height: int) -> Box | None:
        """This box cut to a ``width`` × ``height`` image, or None if nothing is left."""
        x0, y0 = max(0, self.x), max(0, self.y)
        x1, y1 = min(width, self.x + self.w), min(height, self.y + self.h)
        if x1 <= x0 or y1 <= y0:
            return None
        return Box(x0, y0, x1 - x0, y1 - y0)

    def overlap(self, other: Box) -> float:
        """Intersection over the smaller box's area (0..1)."""
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        smaller = min(self.w * self.h, other.w * other.h)
        return (ix * iy) / smaller if smaller > 0 else 0.0

    def scaled(self, factor: float) -> Box:
        return Box(
            int(self.x * factor),
            int(self.y * factor),
            int(np.ceil(self.w * factor)),
            int(np.ceil(self.h * factor)),
        )
