"""Fake PortAudio streams and clock for driving ``AudioEngine`` by hand (no sound server)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from audio.duplex import Callback, FinishedCallback, StreamSpec


class FakeClock:
    """Monotonic ns that only moves when told to."""

    def __init__(self, t_ns: int = 1_000_000_000) -> None:
        self.t = t_ns

    def __call__(self) -> int:
        return self.t

    def advance_ms(self, ms: float) -> None:
        self.t += int(ms * 1_000_000)


class Flags:
    def __init__(self, **kw: bool) -> None:
        self.input_overflow = kw.get("input_overflow", False)
        self.input_underflow = kw.get("input_underflow", False)
        self.output_underflow = kw.get("output_underflow", False)
        self.output_overflow = kw.get("output_overflow", False)

    def __bool__(self) -> bool:
        return any(vars(self).values())


class FakeStream:
    """A duplex stream whose callback runs when the test calls ``tick()``."""

    def __init__(
        self, spec: StreamSpec, callback: Callback, finished: FinishedCallback, clock: FakeClock
    ) -> None:
        self.spec = spec
        self.callback = callback
        self.finished = finished
        self.clock = clock
        self.samplerate = float(spec.sample_rate)
        self.latency = (0.005, 0.015)
        self.active = False
        self.closed = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.closed = True
        self.active = False

    def tick(self, mic: np.ndarray | None = None, status: Any = None) -> np.ndarray:
        """One callback: ``mic`` (int16, one block) in, the speaker block out; time advances."""
        frames = self.spec.block_frames
        indata = np.zeros((frames, 1), dtype=np.int16)
        if mic is not None:
            indata[: len(mic), 0] = mic
        outdata = np.full((frames, self.spec.output_channels), 12345, dtype=np.int16)
        self.callback(indata, outdata, frames, None, status)
        self.clock.advance_ms(frames * 1000 / self.spec.sample_rate)
        return outdata[:, 0].copy()

    def die(self) -> None:
        """The device vanished: PortAudio finishes the stream."""
        self.active = False
        self.finished()


class FakeFactory:
    """``StreamFactory`` handing out ``FakeStream``s; ``fail`` makes the next opens fail."""

    def __init__(self, clock: FakeClock, fail: int = 0, rates: set[int] | None = None) -> None:
        self.clock = clock
        self.fail = fail
        self.rates = rates
        self.streams: list[FakeStream] = []
        self.specs: list[StreamSpec] = []

    def __call__(
        self, spec: StreamSpec, callback: Callback, finished: FinishedCallback
    ) -> FakeStream:
        self.specs.append(spec)
        if self.fail > 0:
            self.fail -= 1
            raise RuntimeError("Device unavailable [PaErrorCode -9985]")
        if self.rates is not None and spec.sample_rate not in self.rates:
            raise ValueError(f"Invalid sample rate {spec.sample_rate}")
        s = FakeStream(spec, callback, finished, self.clock)
        self.streams.append(s)
        return s

    @property
    def stream(self) -> FakeStream:
        return self.streams[-1]


class FakeBackend:
    """``DeviceBackend`` with a fixed device list."""

    def __init__(self, devices: list[dict[str, Any]], default: tuple[int, int] = (0, 1)) -> None:
        self.devices = devices
        self.default = default

    def query_devices(self) -> Sequence[Mapping[str, Any]]:
        return self.devices

    def query_hostapis(self) -> Sequence[Mapping[str, Any]]:
        return [{"name": "ALSA"}]

    def default_device(self) -> tuple[int, int]:
        return self.default


def device(index: int, name: str, ins: int, outs: int, rate: float = 48000.0) -> dict[str, Any]:
    return {
        "index": index,
        "name": name,
        "hostapi": 0,
        "max_input_channels": ins,
        "max_output_channels": outs,
        "default_samplerate": rate,
    }
