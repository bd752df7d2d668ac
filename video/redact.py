"""Redaction before encoding: blur faces, black out excluded rectangles.

:class:`Redactor.apply` takes a BGR frame (already at the size that will be encoded, e.g. 768 px)
and returns a *new* image in which every detected face is pixelated and blurred beyond
recognition and every excluded rectangle is filled with solid grey. :class:`video.feed.VideoFeed`
calls it between choosing a frame and encoding it, so the frame that is sent, recorded and shown
in the sent-frames strip is the redacted one.

Detector (``RedactConfig.model``): CenterFace, a small CNN run by onnxruntime
(:mod:`video.face_model`), on a colour copy 416 px wide; it finds more faces than the Haar
cascades for a fifth of the CPU (measured table in :mod:`video.face_model`). Its file is fetched
by ``scripts/fetch_face_model.py`` (``make run`` / ``make test`` run it). When the file is
missing or does not load, the redactor logs one warning naming that command
(:attr:`Redactor.fallback`) and blurs with the OpenCV Haar cascades shipped inside
``opencv-python-headless`` (:mod:`video.face_haar`, sha256-checked):
``haarcascade_frontalface_alt2`` searched upright and turned by ±20° (``tilts_deg``), 0.76
recall at ~70 ms CPU per 768 px frame.
``RedactConfig(model=None)`` asks for the cascades.

The Haar search runs on a grey copy shrunk to ``detect_width`` px wide (cost grows with the
area), so faces narrower than ``min_face_px * frame_width / detect_width`` px are not searched
for. A face seen recently stays blurred for ``hold_s`` seconds where it was last seen (a face
the detector misses for a frame or two — turned head, motion blur — is still covered).

Whole-frame searches are rarer: :mod:`video.redact_change` searches only around what changed
since the last search (more eagerly than a whole search, so it blurs every face a whole search
would: tested against it), and keeps tracked faces until a whole search releases them.

Thread contract: one :class:`Redactor` is used from one thread at a time (the feed's lock);
:func:`blur_boxes` and :func:`fill_boxes` are pure and thread-safe.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Protocol

import cv2

from video.face_haar import CASCADE_SHA256, FaceDetector, RedactionError, load_cascade
from video.face_model import FaceModelConfig, FaceModelMissing, ModelFaceDetector
from video.frame import Image
from video.redact_box import Box
from video.redact_change import ChangeConfig, ChangeGate

__all__ = [
    "CASCADE_SHA256",
    "Box",
    "FaceDetection",
    "FaceDetector",
    "FaceFinder",
    "FaceModelConfig",
    "RedactConfig",
    "Redacted",
    "RedactionError",
    "Redactor",
    "blur_boxes",
    "fill_boxes",
    "load_cascade",
    "load_detector",
]

#: Cells across a blurred face (see :func:`blur_boxes`).
BLUR_CELLS = 3
#: Grey used for excluded rectangles (not black: a black window looks like a capture failure).
FILL_BGR = (64, 64, 64)

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RedactConfig:
    """What to redact and how hard to look.

    ``cascade``: the frontal cascade file (one of :data:`CASCADE_SHA256`);
    ``detect_width``: px width of the grey copy searched for faces (cost ~ its area);
    ``min_face_px``: smallest face searched for, in ``detect_width`` pixels;
    ``scale_factor``: step between searched face sizes for a whole frame, and
    ``region_scale_factor`` for a changed region; ``min_neighbors`` and
    ``region_min_neighbors``: overlapping hits needed to report a face (whole frame, region).
    A region is searched more eagerly (finer steps, fewer hits) because its sampling grid is
    shifted against the whole frame's: the eager search finds at least what the whole-frame
    search would there (``tests/video/test_redact_change.py`` checks it);
    ``profile``: also look for faces in profile (about doubles the cost);
    ``tilts_deg``: also search the image turned by these angles, for tilted heads (each angle
    costs about one more search; ``(-20.0, 20.0)`` finds most heads tilted up to ~30°);
    ``hold_s``: how long a face stays blurred where it was last seen;
    ``pad_x`` / ``pad_y``: margin added to each side of a detected face before blurring, as a
    fraction of its width / height (0.25 across left the core of a tilted 48 px face 2 px short
    of the blur in ``bench/bench_redact.py --clips``' gated search: 0.3);
    ``exclude``: rectangles of the frame (frame pixels) that are always filled with grey;
    ``change``: search only where the frame changed since the last search
    (:mod:`video.redact_change`); None searches every frame whole;
    ``model``: the CenterFace detector's settings (:mod:`video.face_model`); None, or a missing
    model file, uses the Haar cascades (``cascade`` … ``tilts_deg``).
    """

    faces: bool = True
    cascade: str = "haarcascade_frontalface_alt2.xml"
    detect_width: int = 320
    min_face_px: int = 18
    scale_factor: float = 1.15
    region_scale_factor: float = 1.12
    min_neighbors: int = 3
    region_min_neighbors: int = 1
    profile: bool = False
    tilts_deg: tuple[float, ...] = (-20.0, 20.0)
    hold_s: float = 2.0
    pad_x: float = 0.3
    pad_y: float = 0.4
    exclude: tuple[Box, ...] = ()
    change: ChangeConfig | None = field(default_factory=ChangeConfig)
    model: FaceModelConfig | None = field(default_factory=FaceModelConfig)

    def __post_init__(self) -> None:
        if self.detect_width < 64:
            raise ValueError(f"detect_width must be >= 64 px, got {self.detect_width}")
        if self.min_face_px < 12:
            raise ValueError(f"min_face_px must be >= 12, got {self.min_face_px}")
        if not self.scale_factor > 1.0 or not self.region_scale_factor > 1.0:
            raise ValueError(
                f"scale factors must be > 1, got {self.scale_factor}, {self.region_scale_factor}"
            )
        if not 1 <= self.region_min_neighbors <= self.min_neighbors:
            raise ValueError(
                f"region_min_neighbors must be in 1..min_neighbors ({self.min_neighbors}), "
                f"got {self.region_min_neighbors}"
            )
        if self.hold_s < 0:
            raise ValueError(f"hold_s must be >= 0 seconds, got {self.hold_s}")


class FaceDetection(enum.StrEnum):
    """Which face search a :class:`Redactor` runs (for the privacy chip and the CLI's line)."""

    #: CenterFace, as configured.
    MODEL = "model"
    #: The Haar cascades because the configured model did not load (:attr:`Redactor.fallback`
    #: says why): slower, and they miss more faces.
    FALLBACK = "fallback"
    #: The Haar cascades, asked for (``RedactConfig(model=None)``).
    CASCADES = "cascades"
    #: No face search (``RedactConfig(faces=False)``: only excluded rectangles are filled).
    OFF = "off"


class FaceFinder(Protocol):
    """What the redactor needs of a face detector (:class:`FaceDetector`,
    :class:`video.face_model.ModelFaceDetector`). Boxes are in frame pixels."""

    name: str

    def detect(self, image: Image, area: Box | None = None) -> list[Box]:
        """Faces in ``image`` (BGR or grey uint8); ``area`` limits the search (eagerly)."""
        ...

    def shrink(self, image: Image) -> Image:
        """The change gate's grey comparison copy of ``image``."""
        ...

    def factor(self, frame_width: int) -> float:
        """:meth:`shrink` pixels per frame pixel."""
        ...

    def search(self, image: Image, gray: Image, area: Box | None) -> list[Box]:
        """:meth:`detect` for the change gate, given ``gray`` = :meth:`shrink` of ``image``."""
        ...


def blur_boxes(image: Image, boxes: list[Box] | tuple[Box, ...]) -> Image:
    """A copy of ``image`` with each box pixelated to 3 cells across and then blurred.

    Three cells across a face keep its position and skin tone and nothing that identifies it —
    eyes, mouth and outline merge, and not even a face-shaped pattern is left for a detector:
    with four cells an eager Haar search (``bench/bench_redact.py``'s "still detectable") found
    "a face" in 1 of the 322 blurred faces of the bench set, with three in none (six cells let
    even the default cascade find one); the Gaussian pass removes the cell edges."""
    out = image.copy()
    h, w = out.shape[:2]
    for box in boxes:
        b = box.clipped(w, h)
        if b is None or b.w < 2 or b.h < 2:
            continue
        roi = out[b.y : b.y + b.h, b.x : b.x + b.w]
        cells_x = max(2, min(BLUR_CELLS, b.w // 4))
        cells_y = max(2, round(cells_x * b.h / b.w))
        tiny = cv2.resize(roi, (cells_x, cells_y), interpolation=cv2.INTER_AREA)
        # soften the cell edges at a small size (a Gaussian at full size costs ~40 ms for a
        # 300 px face), then scale up: same look, well under a millisecond
        mw = min(b.w, 32)
        mh = max(2, round(mw * b.h / b.w))
        mid = cv2.resize(tiny, (mw, mh), interpolation=cv2.INTER_LINEAR)
        k = max(3, (min(mw, mh) // 3) | 1)
        mid = cv2.GaussianBlur(mid, (k, k), 0)
        roi[:] = cv2.resize(mid, (b.w, b.h), interpolation=cv2.INTER_LINEAR)
    return out


def fill_boxes(image: Image, boxes: list[Box] | tuple[Box, ...]) -> Image:
    """A copy of ``image`` with each box filled with solid grey (nothing of it survives)."""
    out = image.copy()
    h, w = out.shape[:2]
    for box in boxes:
        b = box.clipped(w, h)
        if b is not None:
            out[b.y : b.y + b.h, b.x : b.x + b.w] = FILL_BGR
    return out


def load_detector(config: RedactConfig) -> tuple[FaceFinder, str | None]:
    """The face detector ``config`` asks for, and None; or, when its model cannot be loaded,
    the Haar cascades and a one-line reason naming the command that fetches the model. Raises
    :class:`RedactionError` if the cascades cannot be loaded either."""
    if config.model is not None:
        try:
            return ModelFaceDetector.load(config.model, detect_width=config.detect_width), None
        except FaceModelMissing as exc:
            reason = f"{exc} Blurring faces with the slower Haar cascades meanwhile."
            return FaceDetector(config), reason
    return FaceDetector(config), None


@dataclass(frozen=True)
class Redacted:
    """The redacted image and what was done: ``faces`` blurred (incl. held ones), ``detected``
    in this very frame (found by this frame's search or carried over from an unchanged part),
    ``excluded`` rectangles filled, ``searched`` share of the frame searched for faces (0..1)."""

    image: Image
    faces: tuple[Box, ...]
    detected: int
    excluded: tuple[Box, ...]
    searched: float = 1.0


class Redactor:
    """Blurs faces (with a short hold) and fills excluded rectangles; see module docstring."""

    def __init__(self, config: RedactConfig | None = None) -> None:
        self.config = config or RedactConfig()
        #: Why the configured model is not used (the warning logged), or None.
        self.fallback: str | None = None
        self._detector = self._load() if self.config.faces else None
        change = self.config.change
        self._gate = ChangeGate(change) if change is not None and self._detector else None
        self._held: list[tuple[int, Box, tuple[int, int]]] = []  # (seen t_ns, box, frame size)

    def _load(self) -> FaceFinder:
        detector, self.fallback = load_detector(self.config)
        if self.fallback is not None:
            _log.warning("%s", self.fallback)
        return detector

    @property
    def detection(self) -> FaceDetection:
        """Which face search runs; fixed when the redactor is built."""
        if self._detector is None:
            return FaceDetection.OFF
        if self.fallback is not None:
            return FaceDetection.FALLBACK
        return FaceDetection.MODEL if self.config.model is not None else FaceDetection.CASCADES

    @property
    def detector(self) -> str:
        """Which face detector runs (``"CenterFace"``, ``"Haar cascades"``), or ``""``."""
        return self._detector.name if self._detector is not None else ""

    def reset(self) -> None:
        """Forget held faces (new source or scene)."""
        self._held = []
        if self._gate is not None:
            self._gate.reset()

    def apply(self, image: Image, t_ns: int, exclude: tuple[Box, ...] = ()) -> Redacted:
        """Redact ``image`` captured at ``t_ns`` (monotonic ns). ``exclude`` adds rectangles
        (frame pixels) to the configured ones for this frame only. Never modifies ``image``."""
        out = image
        excluded = (*self.config.exclude, *exclude)
        if excluded:
            out = fill_boxes(out, excluded)
        faces: list[Box] = []
        detected = 0
        searched = 0.0
        if self._detector is not None:
            found, searched = self._find(self._detector, out, t_ns)
            detected = len(found)
            size = (int(out.shape[1]), int(out.shape[0]))
            hold_ns = int(self.config.hold_s * 1e9)
            # a held face seen again is replaced by its new box (no pile-up of copies)
            self._held = [
                (t, b, s)
                for t, b, s in self._held
                if 0 <= t_ns - t <= hold_ns
                and s == size
                and not any(b.overlap(f) > 0.5 for f in found)
            ] + [(t_ns, b, size) for b in found]
            cfg = self.config
            faces = [b.padded(cfg.pad_x, cfg.pad_y) for _, b, _ in self._held]
            if faces:
                out = blur_boxes(out, faces)
        if out is image:
            out = image.copy()
        return Redacted(out, tuple(faces), detected, tuple(excluded), searched)

    def _find(self, detector: FaceFinder, image: Image, t_ns: int) -> tuple[list[Box], float]:
        """Faces in ``image`` and the share of it searched (the change gate skips unchanged
        parts)."""
        if self._gate is None:
            return detector.detect(image), 1.0
        gray = detector.shrink(image)
        width = int(image.shape[1])
        done = self._gate.search(
            gray,
            detector.factor(width),
            t_ns,
            lambda area: detector.search(image, gray, area),
        )
        return list(done.faces), done.share
