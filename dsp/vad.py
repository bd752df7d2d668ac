"""Streaming voice activity detection: webrtcvad as a cheap gate, Silero (ONNX) as the decider.

Feed 16 kHz PCM16 mono in chunks of any size to ``StreamingVad.process()``; it returns
``VoiceStart`` / ``VoiceEnd`` events whose ``sample`` is the index, in the stream fed so far, where
voice began or ended. Silero judges 32 ms windows (512 samples), so times are accurate to one
window; an end is reported ``min_silence_ms`` after it happened (the stop delay), a start
``min_speech_ms`` after it happened.

The gate: a window in which webrtcvad hears no voiced 10 ms frame (nor in the window before) is
taken as silence without running Silero, which keeps quiet rooms nearly free. In steady noise
webrtcvad passes everything and Silero decides (it does not fire on noise).

Not thread-safe: one instance per stream, used from one thread (never an audio callback).
The Silero model ships inside faster-whisper (``faster_whisper/assets/silero_vad_v6.onnx``).
"""

from __future__ import annotations

import importlib.util
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

RATE_HZ = 16000
WINDOW = 512  # Silero v6 window at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous window Silero v6 expects in front of each window
FRAME = 160  # webrtcvad frame (10 ms)
#: At a confirmed start, earlier windows that were faintly voiced (a soft onset: "s", "h")
#: count as speech too, up to this many windows back.
WALK_BACK_WINDOWS = 10
WALK_BACK_PROB = 0.15
WALK_BACK_VOICED_PROB = 0.05


class VadModelError(RuntimeError):
    """The Silero model could not be found or loaded."""


@dataclass(frozen=True)
class VoiceStart:
    sample: int
    probability: float


@dataclass(frozen=True)
class VoiceEnd:
    sample: int
    #: Samples from the matching start to this end.
    duration_samples: int


VadEvent = VoiceStart | VoiceEnd


def silero_model_path() -> Path:
    """Path of the Silero v6 ONNX model shipped inside faster-whisper."""
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        raise VadModelError(
            "voice detection needs the Silero model shipped in the 'faster-whisper' package: "
            "pip install faster-whisper"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "silero_vad_v6.onnx"
    if not path.is_file():
        raise VadModelError(f"Silero model missing at {path}: reinstall faster-whisper")
    return path


_SESSION: Any = None


def _silero_session() -> Any:
    """One shared onnxruntime session (single-threaded); state lives in each detector."""
    global _SESSION
    if _SESSION is None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        try:
            _SESSION = ort.InferenceSession(
                str(silero_model_path()), providers=["CPUExecutionProvider"], sess_options=options
            )
        except VadModelError:
            raise
        except Exception as exc:  # onnxruntime raises its own exception types
            raise VadModelError(f"could not load the Silero VAD model: {exc}") from None
    return _SESSION


class SileroWindows:
    """Silero v6 probability of speech for consecutive 512-sample windows, state carried."""

    def __init__(self) -> None:
        self._session = _silero_session()
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def probability(self, window: npt.NDArray[np.float32]) -> float:
        """Speech probability of one 512-sample float window in [-1, 1)."""
        x = np.concatenate([self._context, window])[None, :]
        out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = window[-CONTEXT:].copy()
        return float(np.asarray(out).ravel()[0])


def threshold_for_sensitivity(sensitivity: float) -> float:
    """Map a 0..1 sensitivity slider (1 = most sensitive) to a Silero threshold (0.8..0.2)."""
    s = min(1.0, max(0.0, sensitivity))
    return round(0.8 - 0.6 * s, 3)


class StreamingVad:
    """Voice start/end detector with hysteresis over a stream of 16 kHz PCM16.

    ``threshold``: probability to enter speech; a start candidate survives dips down to
    ``threshold - 0.15``; silence is timed from the first window below ``end_threshold``
    (``threshold + 0.15``) and only a window at or above it resets the clock.
    ``min_speech_ms``: voice must last this long before a start is reported (rejects clicks).
    ``min_silence_ms``: the stop delay; silence must last this long to end the utterance.
    ``gate``: use webrtcvad to skip Silero on silent windows.
    """

    def __init__(
        self,
        rate_hz: int = RATE_HZ,
        threshold: float = 0.5,
        min_speech_ms: int = 64,
        min_silence_ms: int = 500,
        gate: bool = True,
        gate_mode: int = 1,
    ) -> None:
        if rate_hz != RATE_HZ:
            raise ValueError(
                f"StreamingVad takes {RATE_HZ} Hz audio, got {rate_hz} Hz: resample first"
            )
        self.threshold = threshold
        self.min_speech_ms = min_speech_ms
        self.min_silence_ms = min_silence_ms
        self._silero = SileroWindows()
        self._gate: Any = None
        if gate:
            import webrtcvad

            self._gate = webrtcvad.Vad(gate_mode)
        self._pending = np.zeros(0, dtype=np.float32)
        self._pending_pcm = b""
        self.reset()

    def reset(self) -> None:
        """Forget the stream (sample count restarts at 0)."""
        self._silero.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._pending_pcm = b""
        self._position = 0  # samples consumed into whole windows
        self.in_speech = False
        self.probability = 0.0
        self._run_start: int | None = None  # first loud window of a candidate start
        self._silence_start: int | None = None
        self._speech_start = 0
        self._gate_open_before = False
        self._gated_windows = 0
        self._recent: deque[tuple[int, float, bool]] = deque(maxlen=WALK_BACK_WINDOWS + 2)
        self._voiced = False
        self._last_window: npt.NDArray[np.float32] | None = None
        self.windows_scored = 0
        self.windows_gated = 0

    @property
    def neg_threshold(self) -> float:
        return max(0.01, self.threshold - 0.15)

    @property
    def end_threshold(self) -> float:
        """Below this the silence clock runs: Silero's tail lags the voice by about a window."""
        return min(0.9, self.threshold + 0.15)

    @property
    def samples_seen(self) -> int:
        return self._position + int(self._pending.size)

    def process(self, pcm: bytes) -> list[VadEvent]:
        """Consume a chunk of 16 kHz PCM16; return the events it completes."""
        usable = len(self._pending_pcm + pcm)
        data = self._pending_pcm + pcm
        usable -= usable % 2
        self._pending_pcm = data[usable:]
        fresh = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0
        buf = np.concatenate([self._pending, fresh]) if self._pending.size else fresh
        events: list[VadEvent] = []
        n_windows = buf.size // WINDOW
        for k in range(n_windows):
            window = buf[k * WINDOW : (k + 1) * WINDOW]
            start = self._position
            self._position += WINDOW
            self._voiced = False
            prob = self._score(window)
            self.probability = prob
            event = self._update(prob, start)
            self._recent.append((start, prob, self._voiced))
            if event is not None:
                events.append(event)
        self._pending = buf[n_windows * WINDOW :].copy()
        return events

    def _score(self, window: npt.NDArray[np.float32]) -> float:
        if self._gate is None or self.in_speech:
            self.windows_scored += 1
            return self._silero.probability(window)
        pcm = (window * 32768.0).astype("<i2").tobytes()
        voiced = any(
            self._gate.is_speech(pcm[i * 2 * FRAME : (i + 1) * 2 * FRAME], RATE_HZ)
            for i in range(WINDOW // FRAME)
        )
        self._voiced = voiced
        if voiced or self._gate_open_before:
            if self._gated_windows and self._last_window is not None:
                # The gate just opened: let Silero hear the window before, so its state has
                # context and a soft onset scores as it would without the gate.
                self._silero.probability(self._last_window)
                self.windows_scored += 1
            self._gate_open_before = voiced
            self._gated_windows = 0
            self.windows_scored += 1
            return self._silero.probability(window)
        self._last_window = window
        self._gate_open_before = False
        self.windows_gated += 1
        self._gated_windows += 1
        if self._gated_windows == 32:  # ~1 s of gated silence: start Silero afresh next time
            self._silero.reset()
        return 0.0

    def _update(self, prob: float, window_start: int) -> VadEvent | None:
        min_speech = self.min_speech_ms * RATE_HZ // 1000
        min_silence = self.min_silence_ms * RATE_HZ // 1000
        window_end = window_start + WINDOW
        if not self.in_speech:
            if prob >= self.threshold:
                if self._run_start is None:
                    self._run_start = window_start
                if window_end - self._run_start >= min_speech:
                    self.in_speech = True
                    self._speech_start = self._walk_back(self._run_start)
                    self._silence_start = None
                    self._run_start = None
                    return VoiceStart(sample=self._speech_start, probability=prob)
            elif prob < self.neg_threshold:
                self._run_start = None
            return None
        # The silence clock starts as soon as the probability falls off (so the reported end is
        # prompt) and is reset only by a window confidently voiced again.
        if prob >= self.end_threshold:
            self._silence_start = None
            return None
        if self._silence_start is None:
            self._silence_start = window_start
        # The stop delay is honoured to the nearest window (±16 ms), not rounded up.
        if window_end - self._silence_start >= min_silence - WINDOW // 2:
            self.in_speech = False
            end = self._silence_start
            self._silence_start = None
            return VoiceEnd(sample=end, duration_samples=end - self._speech_start)
        return None

    def _walk_back(self, start: int) -> int:
        """Extend a start backwards over contiguous faintly-voiced windows (soft onsets)."""
        for window_start, prob, voiced in reversed(self._recent):
            if window_start >= start:
                continue
            if window_start != start - WINDOW:
                break
            if prob >= WALK_BACK_PROB or (voiced and prob >= WALK_BACK_VOICED_PROB):
                start = window_start
            else:
                break
        return start

    def finish(self) -> list[VadEvent]:
        """End of stream: close an open utterance at the last sample seen."""
        if not self.in_speech:
            return []
        self.in_speech = False
        end = self._silence_start if self._silence_start is not None else self.samples_seen
        return [VoiceEnd(sample=end, duration_samples=end - self._speech_start)]


class PreRoll:
    """The last ``ms`` of audio before speech starts, so the first syllable is not clipped.

    ``push()`` every chunk while not in speech; at a start, ``drain()`` returns the kept audio
    (oldest first) to send ahead of the live stream.
    """

    def __init__(self, ms: int, rate_hz: int) -> None:
        self.capacity = ms * rate_hz // 1000 * 2
        self._chunks: deque[bytes] = deque()
        self._size = 0

    def push(self, pcm: bytes) -> None:
        self._chunks.append(pcm)
        self._size += len(pcm)
        while self._chunks and self._size - len(self._chunks[0]) >= self.capacity:
            self._size -= len(self._chunks.popleft())

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        return data[-self.capacity :] if self.capacity else b""
