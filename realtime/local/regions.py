"""The main things in a frame as coloured regions with a place, by salient-region segmentation.

``find_regions(image_bgr, texts, code_boxes) -> tuple[Region, ...]``, most salient first.

Method (no object detector ships in any package here, see offline-stack.md): the frame is scaled
to 160 px wide and converted to CIE Lab; the colours along the frame's border are clustered
(k-means) as the *background*; every pixel's salience is its Lab distance to the nearest
background colour. Salient pixels (Otsu's threshold, never below ``MIN_CONTRAST``) are cleaned
with a morphological close/open and split into connected components; each component big enough
is a ``Region`` with its dominant colour name (per-pixel HSV vote), its bounding box and centre
as fractions of the frame, and a salience score (size × contrast × closeness to the centre).
A region holding an OCR line is a *sign* (with its text); one holding a QR code or barcode is a
*code*; the rest are *objects*. Nothing is named beyond that: the brain says "a red object", it
never guesses "a mug".

Pure and thread-safe; about 2-4 ms on a 640×480 frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

#: Width the frame is scaled to for segmentation (pixels).
WORK_WIDTH = 160
#: Lab distance (0..~150) below which a pixel is never salient (in a well-lit frame; scaled
#: down with the mean brightness below 110).
MIN_CONTRAST = 22.0
#: Regions smaller than this share of the frame are ignored.
MIN_AREA_SHARE = 0.004
MAX_REGIONS = 6

#: A box as fractions of the frame: (x0, y0, x1, y1), each 0..1.
Box = tuple[float, float, float, float]

# Named colours in HSV terms: (name, hue ranges in OpenCV's 0-179 scale).
HUES: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("red", ((0, 8), (170, 180))),
    ("orange", ((8, 20),)),
    ("yellow", ((20, 34),)),
    ("green", ((34, 85),)),
    ("cyan", ((85, 100),)),
    ("blue", ((100, 130),)),
    ("purple", ((130, 150),)),
    ("pink", ((150, 170),)),
)


def colour_name(h: float, s: float, v: float) -> str:
    """Name an HSV colour (OpenCV scales: h 0-179, s and v 0-255)."""
    if v < 50:
        return "black"
    if s < 40:
        return "white" if v > 190 else "grey"
    if 5 <= h < 34 and s < 80 and v > 150:
        return "beige"
    for name, ranges in HUES:
        if any(lo <= h < hi for lo, hi in ranges):
            if name == "orange" and v < 150:
                return "brown"
            return name
    return "red"


def _names_lut() -> np.ndarray:
    """A 180×8×8 table (h, s/32, v/32) → index into ``_NAMES``: vectorised naming."""
    lut = np.zeros((180, 8, 8), dtype=np.uint8)
    for h in range(180):
        for s in range(8):
            for v in range(8):
                lut[h, s, v] = _NAMES.index(colour_name(h, s * 32 + 16, v * 32 + 16))
    return lut


_NAMES = ("black", "white", "grey", "brown", "beige", *(n for n, _ in HUES))
_LUT = _names_lut()


@dataclass(frozen=True)
class Region:
    """One salient region. ``kind`` is 'object', 'sign' (contains ``text``) or 'code'
    (contains a QR code or barcode, whose payload is ``text``)."""

    colour: str
    box: Box
    area_share: float
    salience: float
    kind: str = "object"
    text: str = ""

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def place(self) -> str:
        """'at the lower left', 'in the centre', 'at the top'..."""
        x, y = self.centre
        col = "left" if x < 0.4 else "right" if x > 0.58 else ""
        row = "upper" if y < 0.42 else "lower" if y > 0.58 else ""
        if row and col:
            return f"at the {row} {col}"
        if col:
            return f"on the {col}"
        if row:
            return "at the top" if row == "upper" else "at the bottom"
        return "in the centre"

    @property
    def size(self) -> str:
        """How big it looks in the picture (not in the world: there is no depth)."""
        if self.area_share < 0.015:
            return "small"
        if self.area_share < 0.08:
            return "medium-sized"
        if self.area_share < 0.3:
            return "large"
        return "filling much of the picture"

    def phrase(self) -> str:
        """'a red object on the left, medium-sized in the picture'."""
        if self.kind == "sign":
            return f'a {self.colour} sign {self.place} reading "{self.text}"'
        if self.kind == "code":
            return f'a code {self.place} that says "{self.text}"'
        return f"a {self.colour} object {self.place}, {self.size} in the picture"


def _contains(box: Box, point: tuple[float, float]) -> bool:
    x0, y0, x1, y1 = box
    return x0 <= point[0] <= x1 and y0 <= point[1] <= y1


def _overlap(a: Box, b: Box) -> float:
    """Share of ``b``'s area inside ``a``."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area_b = max(1e-9, (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / area_b


def salience_map(image: np.ndarray) -> np.ndarray:
    """Per-pixel Lab distance to the nearest border (background) colour, at ``WORK_WIDTH``."""
    h, w = image.shape[:2]
    size = (WORK_WIDTH, max(1, round(h * WORK_WIDTH / w)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    small = cv2.medianBlur(small, 3)
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32)
    ring = np.concatenate(
        [
            lab[:2].reshape(-1, 3),
            lab[-2:].reshape(-1, 3),
            lab[:, :2].reshape(-1, 3),
            lab[:, -2:].reshape(-1, 3),
        ]
    )
    k = 4
    cv2.setRNGSeed(11)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    _c, labels, centres = cv2.kmeans(ring, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)  # type: ignore[call-overload]
    counts = np.bincount(labels.ravel(), minlength=k)
    background = centres[counts >= 0.08 * len(ring)]
    dist = np.linalg.norm(lab[:, :, None, :] - background[None, None, :, :], axis=3)
    result: np.ndarray = dist.min(axis=2)
    return result


def find_regions(
    image: np.ndarray,
    texts: Sequence[tuple[str, Box | None]] = (),
    code_boxes: Sequence[tuple[str, Box]] = (),
) -> tuple[Region, ...]:
    """The salient regions of a BGR frame, most salient first (see module docstring).

    ``texts``: OCR lines with their boxes (fractions of the frame; None when unknown);
    ``code_boxes``: QR/barcode payloads with their boxes. Both only label the regions.
    """
    sal = salience_map(image)
    sh, sw = sal.shape
    peak = float(sal.max()) if sal.size else 0.0
    # In a dim frame every colour difference shrinks with the light: so does the threshold.
    luma = float(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).mean())
    min_contrast = MIN_CONTRAST * min(1.0, max(0.25, luma / 110.0))
    if peak < min_contrast:
        return ()
    as_u8 = np.clip(sal * (255.0 / peak), 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(as_u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = max(min_contrast, otsu * peak / 255.0)
    kernel = np.ones((3, 3), np.uint8)
    closed = cv2.morphologyEx((sal >= level).astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    mask = np.asarray(cv2.morphologyEx(closed, cv2.MORPH_OPEN, kernel), dtype=np.uint8)
    n, labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA)
    if luma < 80:  # a dim room: name colours as they would look in normal light
        small = np.clip(small.astype(np.float32) * min(4.0, 110.0 / max(luma, 1.0)), 0, 255)
        small = small.astype(np.uint8)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    names = _LUT[hsv[:, :, 0].clip(0, 179), hsv[:, :, 1] // 32, hsv[:, :, 2] // 32]
    total = float(sh * sw)
    found: list[Region] = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        share = area / total
        if share < MIN_AREA_SHARE:
            continue
        inside = labels == i
        votes = np.bincount(names[inside], minlength=len(_NAMES))
        colour = _NAMES[int(votes.argmax())]
        box: Box = (x / sw, y / sh, (x + w) / sw, (y + h) / sh)
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        centrality = 1.0 - min(1.0, ((cx - 0.5) ** 2 + (cy - 0.5) ** 2) ** 0.5 / 0.7071)
        contrast = float(sal[inside].mean()) / 100.0
        score = share**0.5 * contrast * (0.6 + 0.4 * centrality)
        kind, text = "object", ""
        for payload, cbox in code_boxes:
            if _overlap(box, cbox) > 0.6:
                kind, text = "code", payload
                break
        if kind == "object":
            inner = [t for t, tb in texts if tb is not None and _overlap(box, tb) > 0.6]
            if inner:
                kind, text = "sign", " ".join(inner)
        found.append(Region(colour, box, round(share, 4), round(score, 4), kind, text))
    found.sort(key=lambda r: -r.salience)
    return tuple(found[:MAX_REGIONS])


def pick_object(regions: Sequence[Region], target: str = "") -> Region | None:
    """The region a question about "the X" most likely means: a sign for sign/label/text words,
    a code for code words, else the most salient object (held things: the most central one)."""
    if not regions:
        return None
    t = target.lower()
    if any(w in t for w in ("sign", "label", "text", "writing", "letters", "board")):
        signs = [r for r in regions if r.kind == "sign"]
        if signs:
            return signs[0]
    if any(w in t for w in ("qr", "code")):
        codes = [r for r in regions if r.kind == "code"]
        if codes:
            return codes[0]
    objects = [r for r in regions if r.kind == "object"] or list(regions)
    if any(w in t for w in ("holding", "hand", "thing i", "this")):
        return min(objects, key=lambda r: (r.centre[0] - 0.5) ** 2 + (r.centre[1] - 0.5) ** 2)
    return objects[0]


def central(regions: Sequence[Region]) -> Region | None:
    """The region under the centre of the frame, if any."""
    return next((r for r in regions if _contains(r.box, (0.5, 0.5))), None)
