"""Short camera-like clips for the redaction change gate (bench and tests).

Each clip is one face of the synthetic set (:mod:`tests.fixtures.faces`) over one of its scene
photos, one frame a second, with camera noise (Gaussian, σ 2 grey levels) on every frame:
the empty scene, the face appearing, then moving a few pixels, holding still and moving again.
Deterministic. :func:`desk_clips` walks the same faces into the shared desk video instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tests.fixtures.faces import (
    FRAME_H,
    FRAME_W,
    FaceFrame,
    _backgrounds,
    face_crops,
    face_frames,
    paste,
)
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


#: The desk clip beside the repository (``/work/shared/media/video/desk.mp4``: 8 s at 30 fps,
#: 1280×720, lights dimming from 6 s to 8 s).
DESK = Path(__file__).resolve().parents[2].parent / "shared" / "media" / "video" / "desk.mp4"


def desk_frames(path: Path = DESK, every: int = 15) -> list[np.ndarray]:
    """Every ``every``-th frame of the desk clip, shrunk to 768×432 BGR (what the feed sends)."""
    cap = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    try:
        k = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if k % every == 0:
                frames.append(cv2.resize(frame, (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA))
            k += 1
    finally:
        cap.release()
    if not frames:
        raise FileNotFoundError(f"no frames could be read from {path}")
    return frames


def desk_clips(
    sizes: tuple[int, ...] = (72, 110, 170),
    angles: tuple[float, ...] = (-20.0, 0.0, 20.0),
    step: int = 25,
    every: int = 15,
) -> Iterator[list[ClipFrame]]:
    """The desk clip (2 frames/s: the scene, camera noise and the lights dimming) with one
    ``step``-th face of the set walking in: absent for the first two frames, then appearing
    and drifting 5 px right and 2 px down per frame. Frame times follow the clip's."""
    frames = desk_frames(every=every)
    period_ns = every * S // 30
    rng = np.random.default_rng(7)
    for face_id, crop in face_crops()[::step]:
        for size in sizes:
            for angle in angles:
                h = round(size * crop.shape[0] / crop.shape[1])
                x = int(rng.integers(0, FRAME_W - size - 5 * len(frames)))
                y = int(rng.integers(0, FRAME_H - h - 2 * len(frames)))
                clip = []
                for i, bg in enumerate(frames):
                    t_ns = i * period_ns
                    if i < 2:
                        clip.append(ClipFrame(bg, t_ns, None, False, face_id, size, angle))
                        continue
                    d = i - 2
                    img, box = paste(bg, crop, size, angle, x + 5 * d, y + 2 * d)
                    clip.append(ClipFrame(img, t_ns, box, i == 2, face_id, size, angle))
                yield clip


def appearing(
    sizes: tuple[int, ...] = (48, 72, 110, 170, 260),
    angles: tuple[float, ...] = (-20.0, 0.0, 20.0),
    step: int = 1,
) -> Iterator[tuple[np.ndarray, FaceFrame]]:
    """The synthetic set (:func:`tests.fixtures.faces.face_frames`) as (empty scene, the same
    scene with the face) pairs: every face of the bench appearing in a still scene."""
    bgs = _backgrounds()
    per_face = len(sizes) * len(angles)
    for i, frame in enumerate(face_frames(sizes, angles, step)):
        yield bgs[(i // per_face) % len(bgs)], frame


#: scikit-image's packaged sample images without a human face (``astronaut`` and ``camera``
#: have one; ``chelsea`` is a cat: an animal face must not count as a person's either).
FACE_FREE_SAMPLES = (
    "binary_blobs", "brick", "cell", "checkerboard", "chelsea", "clock", "coffee", "coins",
    "colorwheel", "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry",
    "logo", "microaneurysms", "moon", "page", "retina", "rocket", "shepp_logan_phantom",
    "stereo_motorcycle", "text",
)  # fmt: skip


def face_free_frames(every: int = 5) -> list[tuple[str, np.ndarray]]:
    """(name, 768×432 BGR frame) of scenes without a face, for false positives: every
    ``every``-th frame of the desk video, its still and the QR screen image from the shared media,
    and scikit-image's face-free samples (:data:`FACE_FREE_SAMPLES`), each stretched to the frame
    and also as a crop of its middle at full size (a close-up)."""
    from skimage import data

    out = [(f"desk#{i}", f) for i, f in enumerate(desk_frames(every=every))]
    for name in ("desk.png", "qr.png"):
        still = cv2.imread(str(DESK.parent / name), cv2.IMREAD_COLOR)
        if still is None:
            raise FileNotFoundError(f"cannot read {DESK.parent / name}")
        out.append((name, cv2.resize(still, (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA)))
    for name in FACE_FREE_SAMPLES:
        sample = getattr(data, name)()
        img = np.asarray(sample[0] if isinstance(sample, tuple) else sample)  # stereo: left
        if img.dtype != np.uint8:
            img = (np.clip(img.astype(np.float64), 0.0, 1.0) * 255).astype(np.uint8)
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        elif img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_RGBA2BGR)
        else:
            img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
        out.append((name, cv2.resize(img, (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA)))
        h, w = img.shape[:2]
        ch, cw = min(h, FRAME_H), min(w, FRAME_W)
        y, x = (h - ch) // 2, (w - cw) // 2
        close = np.full((FRAME_H, FRAME_W, 3), 128, np.uint8)
        close[:ch, :cw] = img[y : y + ch, x : x + cw]
        out.append((f"{name} close-up", close))
    return out
