"""The OpenCV Haar cascades: the redactor's fallback face detector.

Used when CenterFace's file (:mod:`video.face_model`) is missing or does not load, or when
``RedactConfig(model=None)`` asks for it. The cascade files ship inside
``opencv-python-headless`` (``cv2.data``) and are verified against the sha256 values below
before use. ``haarcascade_frontalface_alt2`` searched upright and turned by ±20° (the default
``tilts_deg``) blurs 0.76 of the bench's faces (``bench/bench_redact.py --detector haar``) at
~70 ms CPU per 768 px frame (three passes of ~23 ms); every cheaper cascade setting measured
loses recall, upright only misses most tilted heads.

Thread contract: :meth:`FaceDetector.detect` is thread-safe (one lock around the cascades).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from video.errors import VideoError
from video.frame import Image
from video.redact_box import Box
from video.redact_change import gray_copy

if TYPE_CHECKING:
    from video.redact import RedactConfig

__all__ = ["CASCADE_SHA256", "FaceDetector", "RedactionError", "load_cascade"]

#: sha256 of the cascade files as shipped in opencv-python-headless 4.x (unchanged since 2013).
CASCADE_SHA256 = {
    "haarcascade_frontalface_default.xml": (
        "0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0"
    ),
    "haarcascade_frontalface_alt2.xml": (
        "7b0c967d9abbdfbde025eb9c786947d151b6426040d07a8f9562ed8fd90724b4"
    ),
    "haarcascade_profileface.xml": (
        "b39a4a3be45539db146a7fc1d3e761a292c196eb88421185e6a615b3055e612d"
    ),
}


class RedactionError(VideoError):
    """The face detector cannot be loaded (missing or altered cascade file)."""


def load_cascade(name: str) -> cv2.CascadeClassifier:
    """One of OpenCV's packaged cascades, after checking its sha256 (RedactionError if not)."""
    expected = CASCADE_SHA256.get(name)
    if expected is None:
        raise RedactionError(f"unknown cascade {name!r} (known: {', '.join(CASCADE_SHA256)})")
    path = Path(cv2.data.haarcascades) / name  # type: ignore[attr-defined,unused-ignore]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RedactionError(
            f"Face blurring is unavailable: {path} cannot be read ({exc.strerror or exc}). "
            "Reinstall opencv-python-headless (pip install --force-reinstall "
            "'opencv-python-headless<5')."
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise RedactionError(
            f"Face blurring is unavailable: {path} does not match its known checksum "
            f"(sha256 {digest[:12]}…, expected {expected[:12]}…). Reinstall "
            "opencv-python-headless."
        )
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RedactionError(f"Face blurring is unavailable: OpenCV could not parse {path}.")
    return cascade


class FaceDetector:
    """Haar-cascade face finder over a shrunk grey copy; ``detect`` returns frame-pixel boxes."""

    name = "Haar cascades"

    def __init__(self, config: RedactConfig | None = None) -> None:
        if config is None:
            from video.redact import RedactConfig  # the settings live with the redactor

            config = RedactConfig()
        self.config = config
        self._frontal = load_cascade(self.config.cascade)
        self._profile = load_cascade("haarcascade_profileface.xml") if self.config.profile else None
        self._lock = threading.Lock()

    def detect(self, image: Image, area: Box | None = None) -> list[Box]:
        """Faces in ``image`` (BGR or grey uint8), as boxes in its own pixels. ``area`` (frame
        pixels) limits the search to that rectangle with the eager region settings
        (``region_scale_factor``, ``region_min_neighbors``; a face must lie inside it to be
        found); None searches everything."""
        return self.detect_gray(self.shrink(image), image.shape[1], area)

    def shrink(self, image: Image) -> Image:
        """The grey copy searched for faces: ``image`` shrunk to ``detect_width`` px wide."""
        return gray_copy(image, self.config.detect_width)

    def search(self, image: Image, gray: Image, area: Box | None) -> list[Box]:
        """:meth:`detect_gray` of ``gray`` (:meth:`shrink` of ``image``): the cascade reads the
        grey copy the change gate compares."""
        return self.detect_gray(gray, image.shape[1], area)

    def factor(self, frame_width: int) -> float:
        """Search pixels per frame pixel for a frame ``frame_width`` px wide."""
        return min(1.0, self.config.detect_width / frame_width)

    def detect_gray(self, gray: Image, frame_width: int, area: Box | None = None) -> list[Box]:
        """Faces in ``gray`` (from :meth:`shrink` of a frame ``frame_width`` px wide), in frame
        pixels; ``area`` (frame pixels) as in :meth:`detect`."""
        cfg = self.config
        factor = self.factor(frame_width)
        ox = oy = 0
        scale = cfg.scale_factor
        hits = cfg.min_neighbors
        if area is not None:
            scale = cfg.region_scale_factor
            hits = cfg.region_min_neighbors
            part = area.scaled(factor).clipped(gray.shape[1], gray.shape[0])
            if part is None or min(part.w, part.h) < cfg.min_face_px:
                return []
            gray = gray[part.y : part.y + part.h, part.x : part.x + part.w]
            ox, oy = part.x, part.y
        # no histogram equalisation: over a mostly plain frame it flattens the face's own
        # contrast (the astronaut at 90-170 px was found 1/4 times with it, 4/4 without)
        found: list[tuple[int, int, int, int]] = []
        mins = (cfg.min_face_px, cfg.min_face_px)
        with self._lock:
            found += self._run(self._frontal, gray, mins, scale, hits)
            for angle in cfg.tilts_deg:
                found += self._run_turned(gray, angle, mins, scale, hits)
            if self._profile is not None:
                found += self._run(self._profile, gray, mins, scale, hits)
                sw = gray.shape[1]
                mirrored = self._run(
                    self._profile, np.ascontiguousarray(gray[:, ::-1]), mins, scale, hits
                )
                found += [(sw - x - bw, y, bw, bh) for x, y, bw, bh in mirrored]
        back = 1.0 / factor
        return [Box(x + ox, y + oy, bw, bh).scaled(back) for x, y, bw, bh in found]

    def _run_turned(
        self, gray: Image, angle_deg: float, mins: tuple[int, int], scale: float, hits: int
    ) -> list[tuple[int, int, int, int]]:
        """Search ``gray`` turned by ``angle_deg``; boxes are mapped back (the upright box
        around each turned detection)."""
        h, w = gray.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
        turned = np.asarray(
            cv2.warpAffine(gray, m, (w, h), borderMode=cv2.BORDER_REPLICATE), np.uint8
        )
        back = cv2.invertAffineTransform(m)
        out: list[tuple[int, int, int, int]] = []
        for x, y, bw, bh in self._run(self._frontal, turned, mins, scale, hits):
            corners = np.array(
                [[x, y, 1], [x + bw, y, 1], [x, y + bh, 1], [x + bw, y + bh, 1]], np.float64
            )
            pts = corners @ back.T
            x0, y0 = pts.min(axis=0)
            x1, y1 = pts.max(axis=0)
            out.append((int(x0), int(y0), int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0))))
        return out

    def _run(
        self,
        cascade: cv2.CascadeClassifier,
        gray: Image,
        mins: tuple[int, int],
        scale: float,
        hits: int,
    ) -> list[tuple[int, int, int, int]]:
        rects = cascade.detectMultiScale(gray, scaleFactor=scale, minNeighbors=hits, minSize=mins)
        return [(int(x), int(y), int(bw), int(bh)) for x, y, bw, bh in rects]
