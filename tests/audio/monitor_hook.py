"""Attach an ``InterruptionMonitor`` to a running ``AudioEngine`` from outside (tests and the
bench only, until engine.py calls it itself): after the engine's echo canceller, every drained
chunk goes through the monitor on the engine thread, exactly as the wiring will do.

Engine thread only (the wrapped ``process`` runs there)."""

from __future__ import annotations

import time
from typing import Any

from audio.engine import AudioEngine
from audio.interruption_judge import JudgeAction
from audio.interruptions import InterruptionMonitor, TranscriberLike
from dsp.resample import StreamResampler

MS = 1_000_000


class MonitorHook:
    """Wraps ``engine.process``; ``actions``: (monotonic ns when returned, action)."""

    def __init__(self, engine: AudioEngine, transcriber: TranscriberLike | None) -> None:
        self.engine = engine
        self.transcriber = transcriber
        self.monitor: InterruptionMonitor | None = None
        self.actions: list[tuple[int, JudgeAction]] = []
        #: per process(): (ns, reply gain, held, ns from that gain to the speaker)
        self.gains: list[tuple[int, float, bool, int]] = []
        self._pipe: Any = None
        self._blocks: list[tuple[Any, Any, Any]] = []
        self._rs16: StreamResampler | None = None
        self._orig = engine.process
        engine.process = self._process  # type: ignore[method-assign]

    def _process(self) -> Any:
        eng = self.engine
        pipe = eng._pipe
        if pipe is not None and self._pipe is not pipe:
            self._pipe = pipe
            rate = pipe.info.sample_rate
            self.monitor = InterruptionMonitor(rate, pipe.player, self.transcriber)
            self._rs16 = StreamResampler(rate, 16000, quality="LQ")
            aec_process = pipe.aec.process

            def capture(near: Any, far: Any, aec_process: Any = aec_process) -> Any:
                clean = aec_process(near, far)
                self._blocks.append((near, far, clean))
                return clean

            pipe.aec.process = capture
        events = self._orig()
        now = time.monotonic_ns()
        if pipe is not None:  # the reply's gain: the player's times the output stage's
            stage = float(getattr(pipe.stream, "gain", 1.0))
            full = int(pipe.info.output_latency_ms * MS)
            outs = getattr(pipe.stream, "_outs", None)  # the output stage skips the queue
            direct = int(float(outs.latency) * 1e9) if outs is not None else full
            gain = pipe.player.gain * stage
            self.gains.append((now, gain, pipe.player.held, direct if stage <= 0.1 else full))
        mon = self.monitor
        if mon is not None and self._rs16 is not None and pipe is not None:
            lat = int(pipe.info.input_latency_ms * MS)
            rate = pipe.info.sample_rate
            for near, far, clean in self._blocks:
                t0 = now - lat - len(near) * 1_000_000_000 // rate
                raw16 = self._rs16.process(near.tobytes())
                self.actions += [(now, a) for a in mon.process(clean, near, far, t0, raw16, now)]
            self._blocks.clear()
            self.actions += [(now, a) for a in mon.poll(now)]
        return events
