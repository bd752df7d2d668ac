"""Seeing without a vision model: what packaged, offline tools can tell about one camera frame.

``analyse(image_bgr, ocr)`` runs OCR (rapidocr), QR codes (``cv2.QRCodeDetectorAruco``),
barcodes (``cv2.barcode``), frontal faces (Haar cascade, opencv < 5), dominant colours by name
(k-means), brightness and blur, and the main things as coloured regions with a place
(``regions.find_regions``: salient-region segmentation), and returns frozen ``SceneFacts`` with a
compact ``summary()`` for a language model and a spoken ``describe()`` for the user.

Thread: any (pure function of its inputs; the OCR engine is used under a lock by the caller's
``Models``). Images come from the client as in-memory bytes only (``decode_image``); this module
never opens a path supplied by a client.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from realtime.local.regions import Box, Region, colour_name, find_regions

#: Longest side the frame is scaled to before analysis (OCR time and memory grow with it).
MAX_SIDE = 800


class ImageDecodeError(ValueError):
    """The bytes are not an image OpenCV can decode (JPEG/PNG/WebP...)."""


@dataclass(frozen=True)
class TextLine:
    """One line read by OCR; ``box`` is where (fractions of the frame), None if unknown."""

    text: str
    box: Box | None = None


@dataclass(frozen=True)
class SceneFacts:
    """What the tools found in one frame. Units: brightness 0-255 (mean luma), blur = variance
    of the Laplacian (higher is sharper), colours = (name, share 0..1) largest first, regions =
    the main things, most salient first (``regions.Region``)."""

    width: int
    height: int
    texts: tuple[str, ...] = ()
    qr_codes: tuple[str, ...] = ()
    barcodes: tuple[str, ...] = ()
    faces: int = 0
    colours: tuple[tuple[str, float], ...] = ()
    brightness: float = 0.0
    sharpness: float = 0.0
    regions: tuple[Region, ...] = ()

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

    @property
    def objects(self) -> tuple[Region, ...]:
        """Regions that are neither a sign nor a code."""
        return tuple(r for r in self.regions if r.kind == "object")

    def _loose_texts(self) -> list[str]:
        """OCR lines not already told as a sign's text."""
        on_signs = " ".join(r.text for r in self.regions if r.kind == "sign")
        return [t for t in self.texts if t not in on_signs]

    def _codes_told(self) -> set[str]:
        return {r.text for r in self.regions if r.kind == "code"}

    def summary(self) -> str:
        """A compact, factual description of the frame for a language model's context."""
        parts: list[str] = []
        for r in self.regions:
            where = r.place.split(" ", 1)[1].removeprefix("the ")
            if r.kind == "sign":
                parts.append(f'{r.colour} sign reading "{r.text}" ({where})')
            elif r.kind == "code":
                kind = "QR code" if r.text in self.qr_codes else "barcode"
                parts.append(f'{kind} saying "{r.text}" ({where})')
            else:
                parts.append(f"{r.colour} object ({where}, {r.size})")
        loose = self._loose_texts()
        if loose:
            parts.append("text " + "; ".join(f'"{t}"' for t in loose[:6]))
        told = self._codes_told()
        for code in self.qr_codes + self.barcodes:
            if code not in told:
                kind = "QR code" if code in self.qr_codes else "barcode"
                parts.append(f'{kind} saying "{code}"')
        if self.faces:
            parts.append(f"{self.faces} face{'s' if self.faces != 1 else ''}")
        parts.append(f"light {self.light_level}")
        if self.is_blurry:
            parts.append("blurry")
        return "Camera: " + "; ".join(parts) + "."

    def describe(self) -> str:
        """What the camera shows, said to the user: text, codes, faces, the main objects as
        coloured regions with a place, then the light. Never names what it can't tell."""
        things: list[str] = []
        told = self._codes_told()
        for r in self.regions:
            if r.kind == "sign":
                things.append(r.phrase())
        loose = self._loose_texts()
        if loose:
            things.append("text reading " + ", ".join(f'"{t}"' for t in loose[:4]))
        for r in self.regions:
            if r.kind == "code":
                kind = "a QR code" if r.text in self.qr_codes else "a barcode"
                things.append(f'{kind} {r.place} that says "{r.text}"')
        for code in self.qr_codes + self.barcodes:
            if code not in told:
                kind = "a QR code" if code in self.qr_codes else "a barcode"
                things.append(f'{kind} that says "{code}"')
        if self.faces:
            things.append(f"{self.faces} face{'s' if self.faces != 1 else ''}")
        things += [r.phrase() for r in self.objects[:3]]
        light = f"The light is {self.light_level}"
        light += ", and the picture is blurry." if self.is_blurry else "."
        if not things:
            return f"I don't see anything that stands out. {light}"
        listed = things[0] if len(things) == 1 else ", ".join(things[:-1]) + " and " + things[-1]
        return f"I see {listed}. {light}"


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


def _qr(image: np.ndarray) -> tuple[tuple[str, ...], list[np.ndarray], list[tuple[str, Box]]]:
    """QR payloads, the corner quads of every code found, and (payload, box) pairs."""
    try:
        ok, texts, pts, _ = cv2.QRCodeDetectorAruco().detectAndDecodeMulti(image)
    except cv2.error:
        return (), [], []
    if not ok or pts is None:
        return (), [], []
    quads = [np.asarray(q, dtype=np.int32).reshape(-1, 2) for q in pts]
    h, w = image.shape[:2]
    boxes = [(t, _box_of(q, w, h)) for t, q in zip(texts, quads) if t]
    return tuple(dict.fromkeys(t for t in texts if t)), quads, boxes


def _box_of(points: np.ndarray, width: int, height: int) -> Box:
    """The bounding box of pixel points as fractions of a width×height frame."""
    xs, ys = points[:, 0], points[:, 1]
    return (
        float(xs.min()) / width,
        float(ys.min()) / height,
        float(xs.max()) / width,
        float(ys.max()) / height,
    )


def _plausible_text(text: str) -> bool:
    """OCR lines worth saying: mostly letters/digits (drops squiggles read off patterns)."""
    alnum = sum(c.isascii() and c.isalnum() for c in text)
    return alnum >= 2 and alnum >= 0.6 * len(text.replace(" ", ""))


def _barcodes(image: np.ndarray) -> tuple[tuple[str, ...], list[tuple[str, Box]]]:
    """Barcode payloads and (payload, box) pairs."""
    try:
        result = cv2.barcode.BarcodeDetector().detectAndDecodeMulti(image)
    except cv2.error:
        return (), []
    ok, texts = result[0], result[1]
    if not ok:
        return (), []
    boxes: list[tuple[str, Box]] = []
    points = result[-1] if len(result) > 2 else None
    if points is not None and len(points) == len(texts):
        h, w = image.shape[:2]
        boxes = [
            (t, _box_of(np.asarray(p).reshape(-1, 2), w, h)) for t, p in zip(texts, points) if t
        ]
    return tuple(dict.fromkeys(t for t in texts if t)), boxes


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
        name = colour_name(float(h), float(s), float(v))
        shares[name] = shares.get(name, 0.0) + float(np.sum(labels == idx)) / total
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    return tuple((n, round(sh, 3)) for n, sh in ranked if sh >= 0.02)


#: OCR: an image to the text lines on it (plain strings when the engine gives no boxes).
OcrFn = Callable[[np.ndarray], Sequence[TextLine | str]]


def analyse(image: np.ndarray, ocr: OcrFn | None) -> SceneFacts:
    """Run every detector on a BGR frame. ``ocr`` maps an image to text lines (None: skip)."""
    h, w = image.shape[:2]
    # Codes are found at full resolution (cheap, and small codes need the pixels).
    qr, quads, code_boxes = _qr(image)
    barcodes, barcode_boxes = _barcodes(image)
    scale = MAX_SIDE / max(h, w)
    if scale < 1.0:
        image = cv2.resize(
            image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
        )
        quads = [np.round(q * scale).astype(np.int32) for q in quads]
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    lines: list[TextLine] = []
    if ocr is not None:
        # OCR reads the modules of a QR code as squiggles: paint the codes out first.
        masked = image.copy() if quads else image
        for quad in quads:
            cv2.fillConvexPoly(masked, cv2.convexHull(quad), (255, 255, 255))
        for raw in ocr(masked):
            line = TextLine(raw) if isinstance(raw, str) else raw
            text = line.text.strip()
            if text and _plausible_text(text) and all(x.text != text for x in lines):
                lines.append(TextLine(text, line.box))
    return SceneFacts(
        width=w,
        height=h,
        texts=tuple(x.text for x in lines),
        qr_codes=qr,
        barcodes=barcodes,
        faces=_faces(gray),
        colours=_colours(image),
        brightness=round(float(gray.mean()), 1),
        sharpness=round(float(cv2.Laplacian(gray, cv2.CV_64F).var()), 1),
        regions=find_regions(image, [(x.text, x.box) for x in lines], code_boxes + barcode_boxes),
    )
