"""Timeline helpers for the engine thread: recent audio by sample index (pre-roll) and the
mapping from device sample index to capture time. Not thread-safe (engine thread only)."""

from __future__ import annotations

from collections import deque


class History:
    """The last ``keep`` samples of a PCM16 stream, addressable by absolute sample index."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.buf = bytearray()
        self.start = 0  # absolute index of buf[0]

    def append(self, pcm: bytes) -> None:
        self.buf += pcm
        excess = len(self.buf) // 2 - self.keep
        if excess > 0:
            del self.buf[: 2 * excess]
            self.start += excess

    def since(self, sample: int) -> bytes:
        off = max(0, sample - self.start)
        return bytes(self.buf[2 * off :])

    def reset(self) -> None:
        self.buf.clear()
        self.start = 0


class ClockMap:
    """Device sample index → capture time.

    Each block's ADC time minus its sample position gives the stream's time origin; callback
    scheduling only ever makes a block look *later*, so the origin is the minimum over the last
    ``window`` blocks (a running-minimum deque: O(1) per block). A stall that loses samples moves
    the origin up; the window forgets the old origin after ``window`` blocks.
    """

    def __init__(self, rate: int, window: int = 200) -> None:
        self.rate = rate
        self.window = window
        self._mins: deque[tuple[int, int]] = deque()  # (block number, origin ns), increasing
        self._n = 0

    def add(self, pos: int, t_ns: int) -> None:
        origin = t_ns - pos * 1_000_000_000 // self.rate
        mins = self._mins
        while mins and mins[-1][1] >= origin:
            mins.pop()
        mins.append((self._n, origin))
        while mins[0][0] <= self._n - self.window:
            mins.popleft()
        self._n += 1

    def time_of(self, pos: int) -> int:
        origin = self._mins[0][1] if self._mins else 0
        return origin + pos * 1_000_000_000 // self.rate
