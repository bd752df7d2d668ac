"""A duplex stream made of two single-direction PortAudio streams (the CPU fix of issue 16).

Why (measured here, PortAudio 19.6 ALSA host API on PulseAudio's ALSA plugin, 10 ms blocks): a
*duplex* ``sounddevice.Stream`` falls, within a few seconds, into a busy loop in PortAudio's
callback thread — ``poll()`` keeps returning at once because the playback side is ready while
the capture side has less than a period (strace: ~12 000 polls and ~70 000 ``getpid`` per 2 s) —
and costs 50–97 % of a core with a callback that does nothing (``latency="low"`` and ``"high"``
alike). An input stream plus an output stream with the same settings stay at 3–5 % for both.

How it keeps the duplex contract of ``audio.duplex.DuplexIO.callback`` (mic block and *the exact
block sent to the speaker*, in one call): the **input** callback calls the duplex callback with a
preallocated output block, then queues that block in a small single-producer/single-consumer
FIFO; the **output** callback only copies the oldest queued block to the device. It starts once
``prefill`` blocks wait (a cushion against the two callbacks' scheduling jitter), plays zeros and
counts an output underflow when the FIFO runs dry (then builds the cushion again), and skips the
oldest blocks when more than ``max_queued`` wait. Both streams run on the sound server's clock,
so the depth stays steady; it adds that depth (one or two blocks) to the speaker path, which the
DAC time passed to the duplex callback includes. The echo canceller still gets every played
block, in order.

Duck at the output stage: when ``gain_source`` is set (``Player.duck_state``; the opener does it
and sets ``Player.external_gain``), the output callback applies the duck ramp to the block it
sends, so a duck reaches the speaker without waiting for the queued blocks to drain (the cushion
is 1–2 blocks: 10–20 ms sooner). The player still does the hold (fade and freeze).

Priority (``priority``, ``audio.priority``): on its first call each callback asks the OS for it
for its own thread, and the input callback also for the sound server's client threads of this
process; ``granted`` says what each got. One syscall per thread, once.

Threads: two PortAudio callback threads (copies only, no locks: each FIFO counter has one
writer); ``start``/``stop``/``close`` from any thread.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from audio.priority import Priority, raise_sound_server_threads, raise_thread_priority

log = logging.getLogger(__name__)

__all__ = ["SplitDuplexStream"]

ACTIVE_POLL_S = 0.1


Callback = Callable[[Any, Any, int, Any, Any], None]
HalfCallback = Callable[[Any, int, Any, Any], None]


@dataclass
class _Time:
    """What the duplex callback reads from PortAudio's time info."""

    currentTime: float  # PortAudio's names
    inputBufferAdcTime: float
    outputBufferDacTime: float


@dataclass
class _Status:
    """Status flags for the duplex callback (input side's, plus the FIFO's underflow)."""

    input_overflow: bool = False
    input_underflow: bool = False
    output_underflow: bool = False
    output_overflow: bool = False

    def __bool__(self) -> bool:
        return self.input_overflow or self.input_underflow or self.output_underflow


class SplitDuplexStream:
    """``StreamLike`` over an ``InputStream`` and an ``OutputStream`` (see the module docstring)."""

    def __init__(
        self,
        make_input: Callable[[HalfCallback], Any],
        make_output: Callable[[HalfCallback], Any],
        callback: Callback,
        finished: Callable[[], None],
        block_frames: int,
        out_channels: int = 1,
        max_queued: int = 8,
        prefill: int = 2,
        priority: Priority = Priority.NORMAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._callback = callback
        self._finished = finished
        self.frames = block_frames
        self.max_queued = max_queued
        self.prefill = prefill
        self._primed = False  # output callback only
        self._clock = clock
        n = max_queued + 2
        self._fifo: npt.NDArray[np.int16] = np.zeros((n, block_frames), dtype=np.int16)
        self._n = n
        self._written = 0  # input callback only
        self._read = 0  # output callback only
        self._out = np.zeros((block_frames, out_channels), dtype=np.int16)
        self._fifo_out = np.zeros(block_frames, dtype=np.int16)
        self.dropped = 0  # input side: blocks the output side never took
        self.starved = 0  # output side: callbacks with nothing queued
        self.input_calls = 0
        self.output_calls = 0
        self.gain_source: Callable[[], tuple[float, int, bool]] | None = None
        self.gain = 1.0  # output stage (callback writes, anyone reads)
        self._steps = np.arange(1, block_frames + 1, dtype=np.float32)
        self._g = np.zeros(block_frames, dtype=np.float32)
        self._tmp = np.zeros(block_frames, dtype=np.float32)
        self._starved_seen = 0
        self.output_underflows = 0  # reported by PortAudio on the output stream
        self._ended = False
        self._active = False
        self._active_at = -math.inf  # clock() of the last PortAudio answer in ``_active``
        #: "input" / "output" / sound-server thread id → what the OS granted
        self.granted: dict[str, str] = {}
        self.priority = priority
        self._raised_tids: set[int] = set()
        self._out_latency: float | None = None
        self._in = make_input(self._on_input)
        self._outs = make_output(self._on_output)

    # ------------------------------------------------------------------ StreamLike
    @property
    def samplerate(self) -> float:
        return float(self._in.samplerate)

    @property
    def latency(self) -> tuple[float, float]:
        """(input, output) seconds; output includes the ``prefill`` queued blocks."""
        return (
            float(self._in.latency),
            float(self._outs.latency) + self.prefill * self.frames / self.samplerate,
        )

    @property
    def active(self) -> bool:
        """Both streams run. A finished stream shows at once; otherwise PortAudio is asked at
        most every ``ACTIVE_POLL_S`` (the engine asks every 10 ms, and each answer costs two
        calls into PortAudio through cffi: ~0.2 % of a core)."""
        if self._ended:
            return False
        now = self._clock()
        if now - self._active_at >= ACTIVE_POLL_S:
            self._active = bool(self._in.active) and bool(self._outs.active)
            self._active_at = now
        return self._active

    def start(self) -> None:
        self._active_at = -math.inf
        self._out_latency = None
        self._outs.start()
        self._in.start()

    def stop(self) -> None:
        self._active_at = -math.inf
        for s in (self._in, self._outs):
            try:
                s.stop()
            finally:
                pass

    def abort(self) -> None:
        self._active_at = -math.inf
        for s in (self._in, self._outs):
            s.abort()

    def close(self) -> None:
        self._active_at = -math.inf
        try:
            self._in.close()
        finally:
            self._outs.close()

    def on_stream_finished(self) -> None:
        """Either side ended: report once (device gone or stopped)."""
        if not self._ended:
            self._ended = True
            self._finished()

    # ------------------------------------------------------------------ callbacks
    def _on_input(self, indata: Any, frames: int, ptime: Any, status: Any) -> None:
        self.input_calls += 1
        if "input" not in self.granted:
            self._raise("input")
        cur = float(getattr(ptime, "currentTime", 0.0) or 0.0)
        adc = float(getattr(ptime, "inputBufferAdcTime", 0.0) or 0.0)
        queued = self._written - self._read
        if not cur:  # no timing from the host API: use our clock
            cur = adc = self._clock()
        out_lat = self._out_latency
        if out_lat is None:  # fixed once the stream runs; asking PortAudio costs a cffi call
            out_lat = self._out_latency = float(self._outs.latency)
        dac = cur + out_lat + (queued + 1) * frames / self.samplerate
        flags = _Status(
            input_overflow=bool(getattr(status, "input_overflow", False)),
            input_underflow=bool(getattr(status, "input_underflow", False)),
            output_underflow=self.starved + self.output_underflows != self._starved_seen,
        )
        self._starved_seen = self.starved + self.output_underflows
        out = self._out
        self._callback(indata, out, frames, _Time(cur, adc, dac), flags)
        if frames != self.frames:
            return
        if queued >= self.max_queued:  # the output side stalled: keep the newest audio
            self._read_skip()
        self._fifo[self._written % self._n] = out[:, 0]
        self._written += 1

    def _raise(self, side: str) -> None:
        self.granted[side] = raise_thread_priority(self.priority)
        if side == "input":  # the client threads exist once the streams run
            found = raise_sound_server_threads(self.priority, self._raised_tids)
            self.granted.update({str(tid): got for tid, got in found.items()})
        log.debug("audio thread priority: %s", self.granted)

    def _read_skip(self) -> None:
        # Only the output callback moves ``_read``; here we count the loss and let the output
        # side skip ahead when it next runs (it sees more than ``max_queued`` waiting).
        self.dropped += 1

    def _on_output(self, outdata: Any, frames: int, ptime: Any, status: Any) -> None:
        self.output_calls += 1
        if status and getattr(status, "output_underflow", False):
            self.output_underflows += 1
        if "output" not in self.granted:
            self._raise("output")
        avail = self._written - self._read
        if avail > self.max_queued:  # skip the oldest blocks (the input side counted them)
            self._read += avail - self.max_queued
            avail = self.max_queued
        if not self._primed and avail >= self.prefill:
            self._primed = True
        if not self._primed or avail <= 0 or frames != self.frames:
            outdata.fill(0)
            if self._primed:  # ran dry after playing: an underflow; build the cushion again
                self.starved += 1
                self._primed = False
            return
        block = self._fifo[self._read % self._n]
        src = self.gain_source
        if src is not None:
            block = self._ducked(block, src)
        outdata[:] = block[:, None]
        self._read += 1

    def _ducked(
        self, block: npt.NDArray[np.int16], src: Callable[[], tuple[float, int, bool]]
    ) -> npt.NDArray[np.int16]:
        target, ramp, hold = src()
        if hold:
            target = 0.0
        g0 = self.gain
        if g0 == target == 1.0:
            return block
        tmp = self._tmp
        np.copyto(tmp, block)
        if g0 != target:
            g = self._g
            np.multiply(self._steps, (1.0 if target > g0 else -1.0) / ramp, out=g)
            g += g0
            np.clip(g, min(g0, target), max(g0, target), out=g)
            tmp *= g
            self.gain = float(g[-1])
        else:
            tmp *= g0
        out = self._fifo_out
        np.copyto(out, tmp, casting="unsafe")
        return out
