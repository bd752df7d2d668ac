"""Preallocated single-producer/single-consumer block ring: audio callback → engine thread.

Each slot holds one callback's worth of audio: the microphone block, the block written to the
speaker in the same callback (the echo canceller's far end), and the ADC time of the first mic
sample. The producer (PortAudio callback) only copies into a free slot and bumps its counter; the
consumer (engine thread) reads committed slots and bumps its own. No locks: each counter has one
writer, and an int attribute store is atomic in CPython. A full ring drops the new block and
counts an overflow (the engine fell behind by ``n_slots`` blocks).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


class BlockRing:
    """``n_slots`` blocks of ``frames`` int16 samples for mic and speaker."""

    def __init__(self, frames: int, n_slots: int = 64) -> None:
        if frames <= 0 or n_slots < 2:
            raise ValueError(f"BlockRing needs frames > 0 and n_slots >= 2: {frames}, {n_slots}")
        self.frames = frames
        self.n_slots = n_slots
        self.mic: npt.NDArray[np.int16] = np.zeros((n_slots, frames), dtype=np.int16)
        self.far: npt.NDArray[np.int16] = np.zeros((n_slots, frames), dtype=np.int16)
        self.t_ns: npt.NDArray[np.int64] = np.zeros(n_slots, dtype=np.int64)
        self._written = 0  # producer-owned
        self._read = 0  # consumer-owned
        self.dropped = 0  # producer-owned

    # ------------------------------------------------------------------ producer (callback)
    def write_slot(self) -> int:
        """Index of the slot to fill next, or -1 (and an overflow is counted) when full."""
        if self._written - self._read >= self.n_slots:
            self.dropped += 1
            return -1
        return self._written % self.n_slots

    def commit(self) -> None:
        """Publish the slot returned by ``write_slot()``."""
        self._written += 1

    # ------------------------------------------------------------------ consumer (engine)
    def available(self) -> int:
        """Committed blocks not yet consumed."""
        return self._written - self._read

    def read_slot(self) -> int:
        """Index of the oldest committed slot (call only when ``available() > 0``)."""
        return self._read % self.n_slots

    def release(self) -> None:
        """Give the oldest slot back to the producer."""
        self._read += 1
