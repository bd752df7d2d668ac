"""Replay at any speed without changing pitch: WSOLA time-stretch over a track in memory.

``WsolaPlayer(track, rate_hz, speed)`` reads a mono ``(n,)`` or multi-channel ``(n, ch)`` int16
or float track and produces audio at ``speed`` (0.5–2.0) with the original pitch:
:meth:`read` returns the next ``frames`` output samples, :meth:`seek` jumps to a time in the
*source*, :meth:`set_speed` changes speed between reads, and :attr:`position_ms` is the source
time of the next sample to be read (for cursors and subtitles).

WSOLA (waveform-similarity overlap-add, Verhelst & Roelands 1993): the output is built from
Hann-windowed frames of ``frame_ms`` (30 ms) laid ``frame_ms/2`` apart (windows sum to 1). Frame
k is taken near source position ``k·hop·speed``, shifted by up to ±``tolerance_ms`` to the place
whose waveform best continues the previous frame (normalised cross-correlation on the channel
mix), so periods line up and no phasing or pitch change is heard. At speed 1.0 the search
finds the natural continuation and the output equals the input.

Pure (numpy only, no clock, no I/O); not thread-safe: one reader at a time (the audio callback).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_SPEED", "MIN_SPEED", "WsolaPlayer", "stretch"]

MIN_SPEED = 0.5
MAX_SPEED = 2.0

Float32Array = npt.NDArray[np.float32]


class WsolaPlayer:
    """Streaming, seekable WSOLA reader over an in-memory track (see module docstring)."""

    def __init__(
        self,
        track: npt.NDArray[np.generic],
        rate_hz: int,
        speed: float = 1.0,
        *,
        frame_ms: float = 30.0,
        tolerance_ms: float = 8.0,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError(f"rate_hz must be > 0, got {rate_hz}")
        arr = np.asarray(track)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[1] < 1:
            raise ValueError(f"track must be (n,) or (n, channels), got shape {arr.shape}")
        self._int16 = arr.dtype == np.int16
        scale = 1.0 / 32768.0 if self._int16 else 1.0
        self._x: Float32Array = np.ascontiguousarray(arr, np.float32) * np.float32(scale)
        self._mono: Float32Array = self._x.mean(axis=1).astype(np.float32)
        self.rate_hz = rate_hz
        n = max(16, 2 * round(frame_ms * rate_hz / 2000.0))
        self._n = n
        self._hop = n // 2
        self._tol = max(1, round(tolerance_ms * rate_hz / 1000.0))
        # periodic Hann: frames laid n/2 apart sum to exactly 1
        self._win: Float32Array = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(
            np.float32
        )
        self._speed = 1.0
        self.set_speed(speed)
        self.seek(0.0)

    # -- control -------------------------------------------------------------------------

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def channels(self) -> int:
        return int(self._x.shape[1])

    @property
    def duration_ms(self) -> float:
        return len(self._x) * 1000.0 / self.rate_hz

    @property
    def position_ms(self) -> float:
        """Source time (ms) of the next output sample."""
        return max(0.0, self._out_src) * 1000.0 / self.rate_hz

    @property
    def finished(self) -> bool:
        """True once every source sample has been played."""
        return self._out_src >= len(self._x)

    def set_speed(self, speed: float) -> None:
        """Change speed (MIN_SPEED..MAX_SPEED); applies from the next frame."""
        if not MIN_SPEED <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be between {MIN_SPEED} and {MAX_SPEED}, got {speed}")
        self._speed = float(speed)

    def seek(self, t_ms: float) -> None:
        """Continue from source time ``t_ms`` (clamped to the track); drops buffered output."""
        pos = round(min(max(0.0, t_ms), self.duration_ms) * self.rate_hz / 1000.0)
        self._ideal = float(pos)  # where the next frame should come from (source samples)
        self._natural: int | None = None  # natural continuation of the previous frame
        self._tail: Float32Array = np.zeros((self._hop, self.channels), np.float32)
        self._buf: Float32Array = np.zeros((0, self.channels), np.float32)
        #: per buffered hop: (source position of its first sample, speed it was made at)
        self._hops: list[tuple[float, float]] = []
        self._skip = 0  # samples of the first buffered hop already read
        self._out_src = float(pos)

    # -- reading -------------------------------------------------------------------------

    def read(self, frames: int) -> npt.NDArray[np.generic]:
        """The next ``frames`` output samples, shape ``(frames, channels)``, in the track's
        dtype (int16 in, int16 out); silence after the end."""
        if frames < 0:
            raise ValueError(f"frames must be >= 0, got {frames}")
        while len(self._buf) < frames:
            self._step()
        out, self._buf = self._buf[:frames], self._buf[frames:]
        self._skip += frames
        while self._hops and self._skip >= self._hop:
            self._hops.pop(0)
            self._skip -= self._hop
        if self._hops:
            src, speed = self._hops[0]
            self._out_src = src + self._skip * speed
        else:
            self._out_src = self._ideal
        if self._int16:
            return np.clip(np.round(out * 32768.0), -32768, 32767).astype(np.int16)
        return out

    def _segment(self, start: int) -> Float32Array:
        n, total = self._n, len(self._x)
        if start >= 0 and start + n <= total:
            return self._x[start : start + n]
        seg = np.zeros((n, self.channels), np.float32)
        lo, hi = max(0, start), min(total, start + n)
        if hi > lo:
            seg[lo - start : hi - start] = self._x[lo:hi]
        return seg

    def _mono_at(self, start: int, length: int) -> Float32Array:
        total = len(self._mono)
        if start >= 0 and start + length <= total:
            return self._mono[start : start + length]
        out = np.zeros(length, np.float32)
        lo, hi = max(0, start), min(total, start + length)
        if hi > lo:
            out[lo - start : hi - start] = self._mono[lo:hi]
        return out

    def _best_start(self, ideal: int) -> int:
        natural = self._natural
        if natural is None or natural == ideal:
            return ideal
        tol, n = self._tol, self._n
        template = self._mono_at(natural, n)
        area = self._mono_at(ideal - tol, n + 2 * tol)
        corr = np.correlate(area, template, mode="valid")  # 2*tol + 1 candidates
        energy = np.convolve(area * area, np.ones(n, np.float32), mode="valid")
        score = corr / np.sqrt(energy + 1e-9)
        return ideal - tol + int(np.argmax(score))

    def _step(self) -> None:
        """Append one hop of output (``n/2`` samples)."""
        hop = self._hop
        self._hops.append((self._ideal, self._speed))
        if self._ideal >= len(self._x) + self._n:  # past the end: silence
            silence = np.zeros((hop, self.channels), np.float32)
            self._buf = np.concatenate([self._buf, silence])
            self._ideal += hop * self._speed
            return
        ideal = round(self._ideal)
        start = self._best_start(ideal)
        frame = self._segment(start) * self._win[:, None]
        out = self._tail + frame[:hop]
        self._tail = frame[hop:].copy()
        self._buf = np.concatenate([self._buf, out])
        self._natural = start + hop
        self._ideal += hop * self._speed


def stretch(track: npt.NDArray[np.generic], rate_hz: int, speed: float) -> npt.NDArray[np.generic]:
    """The whole ``track`` played at ``speed`` (convenience over :class:`WsolaPlayer`)."""
    player = WsolaPlayer(track, rate_hz, speed)
    frames = int(np.ceil(len(track) / speed))
    out = player.read(frames)
    return out[:, 0] if np.asarray(track).ndim == 1 else out
