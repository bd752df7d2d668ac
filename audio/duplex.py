"""The duplex PortAudio stream and its callback.

One stream carries mic and speaker on one clock (echo cancellation needs that). The callback
(``DuplexIO.callback``, PortAudio thread) only: counts status flags, asks the player for the next
output block (preallocated), copies it to the device, and copies the mic block plus that exact
output block into a ``BlockRing`` slot with the ADC timestamp. Everything else happens on the
engine thread.

``StreamFactory`` builds a stream from a ``StreamSpec`` and the two callbacks; production uses
``sounddevice_factory``, tests inject fakes that call ``callback`` by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from audio.player import Player
from audio.priority import Priority
from audio.ring import BlockRing

Callback = Callable[[Any, Any, int, Any, Any], None]
FinishedCallback = Callable[[], None]


@dataclass(frozen=True)
class StreamSpec:
    """Parameters for one duplex stream (PortAudio device indexes; None = default)."""

    input_device: int | str | None
    output_device: int | str | None
    sample_rate: int
    block_frames: int
    input_channels: int = 1
    output_channels: int = 1
    latency: str | float = "low"
    #: two single-direction streams instead of one duplex stream (``audio.split_stream``: the
    #: duplex one busy-loops in PortAudio's ALSA host API on PulseAudio, 50–97 % of a core)
    split: bool = True
    #: scheduling priority asked for the audio threads (``audio.priority``; split streams)
    priority: Priority = Priority.NORMAL


class StreamLike(Protocol):
    """The part of ``sounddevice.Stream`` the engine uses."""

    @property
    def samplerate(self) -> float: ...
    @property
    def latency(self) -> Any: ...
    @property
    def active(self) -> bool: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def close(self) -> None: ...


StreamFactory = Callable[[StreamSpec, Callback, FinishedCallback], StreamLike]


def sounddevice_factory(
    spec: StreamSpec, callback: Callback, finished: FinishedCallback
) -> StreamLike:
    """Open real ``sounddevice`` streams (int16, fixed block size): an input and an output stream
    behind ``SplitDuplexStream`` (``spec.split``), else one duplex ``sounddevice.Stream``.
    Raises PortAudio errors."""
    import sounddevice as sd

    if spec.split:
        from audio.split_stream import SplitDuplexStream

        holder: list[SplitDuplexStream] = []

        def ended() -> None:
            if holder:
                holder[0].on_stream_finished()

        common: dict[str, Any] = dict(
            samplerate=spec.sample_rate,
            blocksize=spec.block_frames,
            dtype="int16",
            latency=spec.latency,
            finished_callback=ended,
            dither_off=True,
        )

        def make_input(cb: Callable[[Any, int, Any, Any], None]) -> Any:
            return sd.InputStream(
                device=spec.input_device, channels=spec.input_channels, callback=cb, **common
            )

        def make_output(cb: Callable[[Any, int, Any, Any], None]) -> Any:
            return sd.OutputStream(
                device=spec.output_device, channels=spec.output_channels, callback=cb, **common
            )

        split = SplitDuplexStream(
            make_input,
            make_output,
            callback,
            finished,
            spec.block_frames,
            spec.output_channels,
            priority=spec.priority,
        )
        holder.append(split)
        return split
    stream: StreamLike = sd.Stream(
        device=(spec.input_device, spec.output_device),
        samplerate=spec.sample_rate,
        blocksize=spec.block_frames,
        dtype="int16",
        channels=(spec.input_channels, spec.output_channels),
        latency=spec.latency,
        callback=callback,
        finished_callback=finished,
        dither_off=True,
    )
    return stream


class DuplexIO:
    """Callback-side state of one open stream. Counters are read by the engine thread."""

    def __init__(
        self,
        block_frames: int,
        ring: BlockRing,
        player: Player,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._clock = clock
        self.frames = block_frames
        self.ring = ring
        self.player = player
        self._out: npt.NDArray[np.int16] = np.zeros(block_frames, dtype=np.int16)
        self.callbacks = 0
        self.input_overflows = 0
        self.input_underflows = 0
        self.output_underflows = 0
        self.output_overflows = 0
        self.odd_blocks = 0
        self.last_callback_ns = 0
        self.finished = False

    def callback(self, indata: Any, outdata: Any, frames: int, ptime: Any, status: Any) -> None:
        """PortAudio callback: copies only. Never raises, never blocks, never allocates much."""
        now = self._clock()
        self.last_callback_ns = now
        self.callbacks += 1
        if status:
            self.input_overflows += bool(status.input_overflow)
            self.input_underflows += bool(status.input_underflow)
            self.output_underflows += bool(status.output_underflow)
            self.output_overflows += bool(status.output_overflow)
        if frames != self.frames:  # cannot happen with a fixed blocksize; stay safe
            outdata.fill(0)
            self.odd_blocks += 1
            return
        t_dac, t_adc = now, now
        cur = getattr(ptime, "currentTime", 0.0)
        if cur:
            t_dac = now + int((ptime.outputBufferDacTime - cur) * 1e9)
            t_adc = now + int((ptime.inputBufferAdcTime - cur) * 1e9)
        out = self._out
        self.player.fill(out, t_dac)
        outdata[:] = out[:, None]
        ring = self.ring
        slot = ring.write_slot()
        if slot >= 0:
            ring.mic[slot] = indata[:, 0]
            ring.far[slot] = out
            ring.t_ns[slot] = t_adc
            ring.commit()

    def on_finished(self) -> None:
        """PortAudio says the stream ended (device gone or stopped)."""
        self.finished = True
