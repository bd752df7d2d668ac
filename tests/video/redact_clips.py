"""Short camera-like clips for the redaction change gate (bench and tests).

Each clip is one face of the synthetic set (:mod:`tests.fixtures.faces`) over one of its scene
photos, one frame a second, with camera noise (Gaussian, σ 2 grey levels) on every frame:
the empty scene, the face appearing, then moving a few pixels, holding still and moving again.
Deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from tests.fixtures.faces import FRAME_H, FRAME_W, _backgrounds, face_crops, paste
from video.redact import Box

S = 1_000_000_000

#: (dx, dy) of the face in each clip frame after the empty one, relative to where it appeared.
MOVES = ((0, 0), (3, 2), (3, 2), (7, 4), (7, 4))


@dataclass(frozen=True)
class ClipFrame:
    image: np.ndarray  # BGR uint8 (432, 768, 3)
    t_ns: int
    face: Box | None  # None: the empty scene
    first: bool  # the face appears in this frame
    face_id: str
    size_px: int
    angle_deg: float


def noisy(image: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    noise = rng.normal(0.0, sigma, image.shape)
    return np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def face_clips(
    sizes: tuple[int, ...] = (48, 72, 110, 170, 260),
    angles: tuple[float, ...] = (-20.0, 0.0, 20.0),
    step: int = 1,
) -> Iterator[list[ClipFrame]]:
    """One clip (list of frames) per ``step``-th face × size × angle."""
    bgs = _backgrounds()
    crops = face_crops()[::step]
    rng = np.random.default_rng(15)
    for k, (face_id, crop) in enumerate(crops):
        bg = bgs[k % len(bgs)]
        for size in sizes:
            for angle in angles:
                h = round(size * crop.shape[0] / crop.shape[1])
                x = int(rng.integers(0, FRAME_W - size - 8))
                y = int(rng.integers(0, FRAME_H - h - 5))
                clip = [ClipFrame(noisy(bg, rng), 0, None, False, face_id, size, angle)]
                for i, (dx, dy) in enumerate(MOVES, start=1):
                    img, box = paste(bg, crop, size, angle, x + dx, y + dy)
                    clip.append(
                        ClipFrame(noisy(img, rng), i * S, box, i == 1, face_id, size, angle)
                    )
                yield clip
