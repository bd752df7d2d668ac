"""Seeing without a vision model: what packaged, offline tools can tell about one camera frame.

``analyse(image_bgr, ocr)`` runs OCR (rapidocr), QR codes (``cv2.QRCodeDetectorAruco``),
barcodes (``cv2.barcode``), frontal faces (Haar cascade, opencv < 5), dominant colours by name
(k-means), brightness and blur, and returns frozen ``SceneFacts`` with a one-line ``summary()``.

Thread: any (pure function of its inputs; the OCR engine is used under a lock by the caller's
``Models``). Images come from the client as in-memory bytes only (``decode_image``); this module
never opens a path supplied by a client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

#: Longest side the frame is scaled to before analysis (OCR time and memory grow with it).
MAX_SIDE = 800

# Named colours in HSV terms: (name, hue ranges in OpenCV's 0-179 scale).
_HUES: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("red", ((0, 8), (170, 180))),
    ("orange", ((8, 20),)),
    ("yellow", ((20, 34),)),
    ("green", ((34, 85),)),
    ("cyan", ((85, 100),)),
    ("blue", ((100, 130),)),
    ("purple", ((130, 150),)),
    ("pink", ((150, 170),)),
)


class ImageDecodeError(ValueError):
    """The bytes are not an image OpenCV can decode (JPEG/PNG/WebP...)."""


@dataclass(frozen=True)
class SceneFacts:
    """What the tools found in one frame. Units: brightness 0-255 (mean luma), blur = variance
    of the Laplacian (higher is sharper), colours = (name, share 0..1) largest first."""

    width: int
    height: int
    texts: tuple[str, ...] = ()
    qr_codes: tuple[str, ...] = ()
    barcodes: tuple[str, ...] = ()
    faces: int = 0
    colours: tuple[tuple[str, float], ...] = ()
    brightness: float = 0.0
    sharpness: float = 0.0

    @property
    def light_level(self) -> str:
        """'very dark', 'dim', 'fairly bright' or 'bright'."""
        if self.brightness < 40:
            return "very dark"
        if self.brightness < 90:
            return "dim"
        if self.brightness < 150:
            return "fairly bright"
        return "bright"

    @property
    def is_blurry(self) -> bool:
        return self.sharpness < 60.0

    def colour_names(self, limit: int = 3) -> list[str]:
        return [name for name, _ in self.colours[:limit]]

    def summary(self) -> str:
        """A short, factual description of the frame for the language model's context."""
        parts: list[str] = []
        if self.texts:
            parts.append("text reading " + "; ".join(f'"{t}"' for t in self.texts[:6]))
        if self.qr_codes:
            parts.append("a QR code saying " + "; ".join(f'"{q}"' for q in self.qr_codes))
        if self.barcodes:
            parts.append("a barcode with " + "; ".join(self.barcodes))
        if self.faces:
            parts.append(f"{self.faces} face{'s' if self.faces != 1 else ''}")
        if self.colours:
            parts.append("mostly " + ", ".join(self.colour_names()) + " colours")
        parts.append(f"the light is {self.light_level}")
        if self.is_blurry:
            parts.append("the picture is blurry")
        return "The camera shows " + ", ".join(parts) + "."


def decode_image(data: bytes) -> np.ndarray:
    """Decode JPEG/PNG bytes held in memory to a BGR array. Raises ``ImageDecodeError``."""
    if not data:
        raise ImageDecodeError("empty image")
    arr = np.frombuffer(data, dtype=np.uint8)
    image = cv2.imdecode(arr, cv2.IMREAD_COLOR)
    if image is None:
        raise ImageDecodeError("not a decodable image (expected JPEG or PNG bytes)")
    return image


_face_lock = threading.Lock()
_face_cascade: cv2.CascadeClassifier | None = None


def _faces(gray: np.ndarray) -> int:
    global _face_cascade
    with _face_lock:
        if _face_cascade is None:
            path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
            _face_cascade = cv2.CascadeClassifier(path)
        found = _face_cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, minSize=(40, 40)
        )
    return len(found)


def _qr(image: np.ndarray) -> tuple[tuple[str, ...], list[np.ndarray]]:
    """QR payloads and the corner quads of every code found."""
    try:
        ok, texts, pts, _ = cv2.QRCodeDetectorAruco().detectAndDecodeMulti(image)
    except cv2.error:
        return (), []
    if not ok or pts is None:
        return (), []
    quads = [np.asarray(q, dtype=np.int32).reshape(-1, 2) for q in pts]
    return tuple(dict.fromkeys(t for t in texts if t)), quads


def _plausible_text(text: str) -> bool:
    """OCR lines worth saying: mostly letters/digits (drops squiggles read off patterns)."""
    alnum = sum(c.isascii() and c.isalnum() for c in text)
    return alnum >= 2 and alnum >= 0.6 * len(text.replace(" ", ""))


def _barcodes(image: np.ndarray) -> tuple[str, ...]:
    try:
        result = cv2.barcode.BarcodeDetector().detectAndDecodeMulti(image)
    except cv2.error:
        return ()
    ok, texts = result[0], result[1]
    if not ok:
        return ()
    return tuple(dict.fromkeys(t for t in texts if t))


def _colour_name(h: float, s: float, v: float) -> str:
    if v < 50:
        return "black"
    if s < 40:
        return "white" if v > 190 else "grey"
    for name, ranges in _HUES:
        if any(lo <= h < hi for lo, hi in ranges):
            if name == "orange" and v < 130:
                return "brown"
            return name
    return "red"


def _colours(image: np.ndarray, k: int = 6) -> tuple[tuple[str, float], ...]:
    small = cv2.resize(image, (64, 36), interpolation=cv2.INTER_AREA)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    # Cluster in BGR (hue wraps around, BGR does not); name the cluster centres in HSV.
    bgr = small.reshape(-1, 3).astype(np.float32)
    cv2.setRNGSeed(7)
    _c, labels, centres = cv2.kmeans(
        bgr,
        k,
        None,
        criteria,
        2,
        cv2.KMEANS_PP_CENTERS,  # type: ignore[call-overload]
    )
    shares: dict[str, float] = {}
    total = float(len(labels))
    for idx, centre in enumerate(centres):
        pix = np.clip(centre, 0, 255).astype(np.uint8).reshape(1, 1, 3)
        h, s, v = cv2.cvtColor(pix, cv2.COLOR_BGR2HSV)[0, 0]
        name = _colour_name(float(h), float(s), float(v))
        shares[name] = shares.get(name, 0.0) + float(np.sum(labels == idx)) / total
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    return tuple((n, round(sh, 3)) for n, sh in ranked if sh >= 0.02)


OcrFn = Callable[[np.ndarray], list[str]]


def analyse(image: np.ndarray, ocr: OcrFn | None) -> SceneFacts:
    """Run every detector on a BGR frame. ``ocr`` maps an image to text lines (None: skip)."""
    h, w = image.shape[:2]
    # Codes are found at full resolution (cheap, and small codes need the pixels).
    qr, quads = _qr(image)
    barcodes = _barcodes(image)
    scale = MAX_SIDE / max(h, w)
    if scale < 1.0:
        image = cv2.resize(
            image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
        )
        quads = [np.round(q * scale).astype(np.int32) for q in quads]
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    texts: tuple[str, ...] = ()
    if ocr is not None:
        # OCR reads the modules of a QR code as squiggles: paint the codes out first.
        masked = image.copy() if quads else image
        for quad in quads:
            cv2.fillConvexPoly(masked, cv2.convexHull(quad), (255, 255, 255))
        lines = (t.strip() for t in ocr(masked))
        texts = tuple(dict.fromkeys(t for t in lines if t and _plausible_text(t)))
    return SceneFacts(
        width=w,
        height=h,
        texts=texts,
        qr_codes=qr,
        barcodes=barcodes,
        faces=_faces(gray),
        colours=_colours(image),
        brightness=round(float(gray.mean()), 1),
        sharpness=round(float(cv2.Laplacian(gray, cv2.CV_64F).var()), 1),
    )
