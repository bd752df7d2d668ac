"""Smart Turn v3.2: the probability that a speaker has finished their turn, from audio alone.

The model (Daily, BSD-2-Clause; a Whisper-tiny encoder with a classifier head, int8 ONNX) reads the
last 8 s of 16 kHz mono speech as 80-bin Whisper log-mel features and answers one probability in
[0, 1]: near 1 when the speech so far sounds like a finished utterance, near 0 in a hesitation.
``scripts/fetch_smart_turn.py`` (run by ``make run`` / ``make test``) puts the file in
``<venv>/share/voicecam/``; ``VOICECAM_SMART_TURN_MODEL`` overrides the path.

Contracts:
- ``TurnModel.load()`` is slow (about 0.3 s); load once per process and share the instance.
- ``probability()`` / ``mean_probability()`` are thread-safe (onnxruntime sessions are) and take
  about 50 ms / 120 ms on one core; call them from a worker, never from an event loop.
- ``mean_probability()`` is THE judgement both end-of-turn detectors use (the offline server's
  ``realtime.local.turn_judge`` and the app's ``audio.turn_verdict``): P averaged over the audio
  ending ``ACOUSTIC_OFFSETS_MS`` earlier, all end points in ONE batched onnxruntime call (the
  input's batch dimension is dynamic): measured 154 ms vs 179 ms for three calls, and one call
  holds the core for less time while Whisper decodes on the other threads.
- Audio in is float32 in [-1, 1] at 16 kHz (``SAMPLE_RATE_HZ``); callers resample first.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from dsp.model_files import shared_model_path

SAMPLE_RATE_HZ: Final = 16_000
WINDOW_S: Final = 8.0
WINDOW_SAMPLES: Final = int(SAMPLE_RATE_HZ * WINDOW_S)
MODEL_FILE: Final = "smart-turn-v3.2-cpu.onnx"
ENV_MODEL_PATH: Final = "VOICECAM_SMART_TURN_MODEL"
#: ``mean_probability`` averages P over the audio ending this many ms before its last sample:
#: the model's output jumps with the exact end sample (0.41-0.79 within 40 ms on one
#: hesitation), so one evaluation would let the chunking of the stream decide.
ACOUSTIC_OFFSETS_MS: Final = (0, 10, 20)

_N_FFT: Final = 400
_HOP: Final = 160
_N_MELS: Final = 80
_N_FRAMES: Final = WINDOW_SAMPLES // _HOP  # 800

FloatArray = npt.NDArray[np.float32]


class TurnModelMissing(FileNotFoundError):
    """The model file is not where it should be; the message says how to fetch it."""


def default_model_path() -> Path:
    """``$VOICECAM_SMART_TURN_MODEL`` if set, else ``<sys.prefix>/share/voicecam/MODEL_FILE``."""
    return shared_model_path(MODEL_FILE, ENV_MODEL_PATH)


def _mel_filterbank() -> npt.NDArray[np.float64]:
    """Slaney-scale, area-normalised triangular filters, shape (n_mels, n_fft // 2 + 1)."""

    def hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        linear = hz / (200.0 / 3.0)
        log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(hz >= 1000.0, log_part, linear)

    def mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        linear = mel * (200.0 / 3.0)
        log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
        return np.where(mel >= 15.0, log_part, linear)

    fft_hz = np.linspace(0.0, SAMPLE_RATE_HZ / 2, _N_FFT // 2 + 1)
    edges_mel = np.linspace(
        hz_to_mel(np.array([0.0]))[0], hz_to_mel(np.array([8000.0]))[0], _N_MELS + 2
    )
    edges_hz = mel_to_hz(edges_mel)
    widths = np.diff(edges_hz)
    slopes = edges_hz[:, None] - fft_hz[None, :]  # (n_mels + 2, n_bins)
    rising = -slopes[:-2] / widths[:-1, None]
    falling = slopes[2:] / widths[1:, None]
    filters = np.maximum(0.0, np.minimum(rising, falling))
    filters *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return filters


_MEL = _mel_filterbank()
_HANN = np.hanning(_N_FFT + 1)[:-1]


def fit_window(audio: FloatArray) -> FloatArray:
    """The last ``WINDOW_S`` seconds of ``audio``, zero-padded AT THE START when shorter."""
    samples = np.asarray(audio, dtype=np.float32).reshape(-1)
    if samples.size >= WINDOW_SAMPLES:
        return samples[-WINDOW_SAMPLES:]
    return np.pad(samples, (WINDOW_SAMPLES - samples.size, 0))


def log_mel_features(audio: FloatArray) -> FloatArray:
    """Whisper log-mel of one 8 s window: shape (80, 800), float32.

    The window is normalised to zero mean and unit variance first (as the model was trained),
    framed with a centred, reflect-padded 25 ms Hann window every 10 ms, and log10-compressed
    with an 8-decade floor below its peak, then scaled to about [-1, 1].
    """
    x = fit_window(audio)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), (_N_FFT // 2, _N_FFT // 2), mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[::_HOP]
    power = np.abs(np.fft.rfft(frames * _HANN, axis=1)) ** 2  # (n_frames + 1, n_bins)
    mel = np.maximum(1e-10, power @ _MEL.T).T  # (n_mels, n_frames + 1)
    log_spec = np.log10(mel)[:, :_N_FRAMES]
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    scaled: FloatArray = ((log_spec + 4.0) / 4.0).astype(np.float32)
    return scaled


@dataclass(frozen=True)
class TurnModel:
    """A loaded Smart Turn session. Build with ``TurnModel.load()``."""

    _session: object
    path: Path

    @classmethod
    def load(cls, path: Path | None = None, *, threads: int = 1) -> TurnModel:
        """Open the ONNX model with ``threads`` intra-op threads (1: it shares two cores).

        Raises ``TurnModelMissing`` with the command that fetches the file when it is absent.
        """
        import onnxruntime as ort

        model_path = path or default_model_path()
        if not model_path.is_file():
            raise TurnModelMissing(
                f"The end-of-turn model is missing: {model_path}. Fetch it with "
                f"`{sys.executable} scripts/fetch_smart_turn.py` (run by `make run`), or point "
                f"{ENV_MODEL_PATH} at a copy of {MODEL_FILE}."
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        return cls(_session=session, path=model_path)

    def probability(self, audio: FloatArray) -> float:
        """P(turn complete) for the speech ending at the last sample of ``audio`` (16 kHz)."""
        return self.probabilities([audio])[0]

    def probabilities(self, windows: Sequence[FloatArray]) -> list[float]:
        """P(turn complete) for each of ``windows`` (16 kHz audio, each judged at its last
        sample), in one batched call of the model. Empty in, empty out."""
        if not windows:
            return []
        features = np.stack([log_mel_features(w) for w in windows])  # (n, 80, 800)
        outputs = self._session.run(None, {"input_features": features})  # type: ignore[attr-defined]
        return [float(p) for p in np.asarray(outputs[0]).reshape(-1)]

    def mean_probability(
        self, audio: FloatArray, offsets_ms: Sequence[int] = ACOUSTIC_OFFSETS_MS
    ) -> float:
        """P(turn complete) averaged over ``audio`` cut ``offsets_ms`` before its end (offsets
        longer than the audio are left out; 0.0 when none is left), in one model call."""
        samples = np.asarray(audio, dtype=np.float32).reshape(-1)
        step = SAMPLE_RATE_HZ // 1000
        ends = [samples.size - step * ms for ms in offsets_ms if samples.size > step * ms]
        windows = [samples[:end] for end in ends]
        probabilities = self.probabilities(windows)
        return sum(probabilities) / len(probabilities) if probabilities else 0.0
