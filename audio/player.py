"""Reply playback: engine-thread API in front of a callback-confined ``JitterBuffer``.

Engine thread: ``play()`` resamples each item to the device rate (one streaming resampler per
item) and queues the samples; ``end_item()`` flushes the resampler; ``clear()`` queues a clear
that takes effect at the very next callback (commands are applied in order, so audio queued
before the clear never plays). Commands travel in a ``collections.deque`` (append/popleft are
atomic in CPython: no lock in the callback).

Audio callback: ``fill(out, t_dac_ns)`` applies pending commands, copies the next block out of
the jitter buffer and applies the volume and the duck gain, all into preallocated arrays.

Ducking (``set_duck``, engine thread; one tuple store, atomic): the callback moves its gain
linearly, sample by sample, from where it is towards the target at full scale per ``ramp_ms``
(no step: no click).
``hold=True`` ramps to silence and then stops consuming the reply, so a later ``set_duck(1.0,
...)`` resumes exactly where it faded out; samples faded out while ramping down count as played.

Queries (``played_ms`` etc.) read plain counters written by the callback; they are safe from any
thread and at most one block stale.
"""

from __future__ import annotations

from collections import deque
from typing import Final

import numpy as np
import numpy.typing as npt

from audio.jitter import JitterBuffer
from dsp.resample import StreamResampler

Int16Array = npt.NDArray[np.int16]

_WRITE: Final = 0
_END: Final = 1
_CLEAR: Final = 2

_Command = tuple[int, str, Int16Array | None, int]


class Player:
    """Plays reply items at ``rate_hz`` (the device rate) with volume and instant clear."""

    def __init__(self, jitter: JitterBuffer, block_frames: int, volume: float = 1.0) -> None:
        self.jitter = jitter
        self.rate_hz = jitter.rate_hz
        self.volume = volume
        self._commands: deque[_Command] = deque()
        self._resamplers: dict[str, StreamResampler] = {}
        self._tmp = np.zeros(block_frames, dtype=np.float32)
        self.clears = 0
        #: (target gain 0..1, ramp samples, hold): engine thread writes, callback reads
        self._duck: tuple[float, int, bool] = (1.0, 1, False)
        self.gain = 1.0  # the callback's current duck gain (read by any thread, for meters)
        self._held = False  # callback: faded out and not consuming
        #: set when the output stage applies the duck (``audio.split_stream``): then this player
        #: only holds (fades out and stops consuming); ducking happens after its queue
        self.external_gain = False
        self._steps = np.arange(1, block_frames + 1, dtype=np.float32)
        self._g = np.zeros(block_frames, dtype=np.float32)
        #: Engine thread sets, callback reads: output silence without consuming (a provisional
        #: barge-in pause; ``resume`` continues exactly where it stopped).
        self.paused = False

    # ------------------------------------------------------------------ engine thread
    def play(self, item_id: str, pcm16: bytes, rate_hz: int, t_ns: int) -> None:
        """Queue reply audio (PCM16 mono at ``rate_hz``) that arrived at ``t_ns``."""
        rs = self._resamplers.get(item_id)
        if rs is None or rs.in_hz != rate_hz:
            rs = StreamResampler(rate_hz, self.rate_hz)
            self._resamplers[item_id] = rs
            while len(self._resamplers) > 8:
                del self._resamplers[next(iter(self._resamplers))]
        out = rs.process(pcm16)
        samples = np.frombuffer(out, dtype="<i2")
        self._commands.append((_WRITE, item_id, samples, t_ns))

    def end_item(self, item_id: str, t_ns: int) -> None:
        """No more audio for ``item_id``: play its resampler tail, then let the item finish."""
        rs = self._resamplers.pop(item_id, None)
        if rs is not None:
            tail = rs.flush()
            if tail:
                self._commands.append((_WRITE, item_id, np.frombuffer(tail, dtype="<i2"), t_ns))
        self._commands.append((_END, item_id, None, t_ns))

    def set_duck(self, gain: float, ramp_ms: float, hold: bool = False) -> None:
        """Ramp the reply's gain to ``gain`` (0..1) at full scale per ``ramp_ms``; ``hold``: fade
        out and stop consuming until a later call without ``hold``. From the next callback on."""
        ramp = max(1, int(ramp_ms * self.rate_hz / 1000))
        self._duck = (0.0 if hold else min(1.0, max(0.0, gain)), ramp, hold)

    def duck_state(self) -> tuple[float, int, bool]:
        """(target gain, ramp samples, hold) as last set: for an output stage (any thread)."""
        return self._duck

    @property
    def held(self) -> bool:
        """The callback has faded out a hold and is not consuming the reply."""
        return self._held

    def clear(self) -> None:
        """Stop playback at the next callback; everything queued so far is dropped."""
        self._resamplers.clear()
        self._commands.append((_CLEAR, "", None, 0))
        self.clears += 1

    @property
    def is_playing(self) -> bool:
        """Audio is queued or playing (pending commands count as queued)."""
        return any(c[0] == _WRITE for c in list(self._commands)) or self.jitter.playing

    def played_ms(self, item_id: str) -> int:
        return self.jitter.played_ms(item_id)

    def first_audible_ns(self, item_id: str) -> int | None:
        return self.jitter.first_audible_ns(item_id)

    # ------------------------------------------------------------------ audio callback
    def fill(self, out: Int16Array, t_dac_ns: int) -> int:
        """Callback: fill ``out`` (1-D int16, one block) and return real samples written."""
        commands = self._commands
        jitter = self.jitter
        while commands:
            kind, item_id, samples, t_ns = commands.popleft()
            if kind == _WRITE and samples is not None:
                jitter.write(item_id, samples, t_ns)
            elif kind == _END:
                jitter.end(item_id)
            else:
                jitter.clear()
        target, ramp, hold = self._duck
        if self.external_gain and not hold:
            target = 1.0
        g0 = self.gain
        if self.paused:
            out.fill(0)
            return 0
        if hold and g0 == 0.0:  # faded out: hold the reply where it is
            self._held = True
            out.fill(0)
            return 0
        self._held = False
        n = jitter.read_into(out, t_dac_ns)
        vol = self.volume
        if g0 == target and (not n or (g0 == 1.0 and vol == 1.0)):
            return n
        size = int(out.shape[0])
        tmp = self._tmp[:size]
        np.multiply(out, vol, out=tmp)
        if g0 != target:  # linear ramp from g0 towards target, one step per sample
            g = self._g[:size]
            np.multiply(self._steps[:size], (1.0 if target > g0 else -1.0) / ramp, out=g)
            g += g0
            np.clip(g, min(g0, target), max(g0, target), out=g)
            tmp *= g
            self.gain = float(g[-1])
        elif g0 != 1.0:
            tmp *= g0
        np.clip(tmp, -32768.0, 32767.0, out=tmp)
        out[:] = tmp
        if hold and self.gain == 0.0:
            self._held = True
        return n
