"""Streaming sample-rate conversion (soxr), for PCM16 mono.

Not thread-safe: one instance per stream, used from one thread (never an audio callback).
Resampling delays the signal by a few milliseconds; ``flush()`` returns the tail at the end.
"""

from __future__ import annotations

import numpy as np
import soxr


class StreamResampler:
    """Converts a PCM16 mono stream from ``in_hz`` to ``out_hz`` chunk by chunk.

    ``quality`` is soxr's: "LQ", "MQ", "HQ" (default: low delay, clean enough for speech) or "VHQ".
    Equal rates pass audio through unchanged.
    """

    def __init__(self, in_hz: int, out_hz: int, quality: str = "HQ") -> None:
        if in_hz <= 0 or out_hz <= 0:
            raise ValueError(f"sample rates must be positive, got {in_hz} → {out_hz}")
        self.in_hz = in_hz
        self.out_hz = out_hz
        self._carry = b""
        self._stream = (
            None
            if in_hz == out_hz
            else soxr.ResampleStream(in_hz, out_hz, 1, dtype="int16", quality=quality)
        )

    def process(self, pcm: bytes) -> bytes:
        """Resample one chunk; returns whatever output is ready (may be empty)."""
        if self._carry or len(pcm) % 2:  # an odd byte waits for its other half
            data = self._carry + pcm
            usable = len(data) - (len(data) % 2)
            self._carry = data[usable:]
            pcm = data[:usable]
        if self._stream is None or not pcm:
            return pcm
        out = self._stream.resample_chunk(np.frombuffer(pcm, dtype="<i2"))
        return np.asarray(out, dtype="<i2").tobytes()

    def flush(self) -> bytes:
        """End of stream: the remaining output. The resampler can't be used afterwards."""
        if self._stream is None:
            return b""
        out = self._stream.resample_chunk(np.zeros(0, dtype=np.int16), last=True)
        return np.asarray(out, dtype="<i2").tobytes()


def resample(pcm: bytes, in_hz: int, out_hz: int) -> bytes:
    """Resample a whole PCM16 mono clip in one call."""
    if in_hz == out_hz:
        return pcm
    rs = StreamResampler(in_hz, out_hz, quality="HQ")
    return rs.process(pcm) + rs.flush()
