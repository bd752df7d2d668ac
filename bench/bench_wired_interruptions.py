"""bench_audio section 10: duck-and-judge through the WIRED engine on the real PulseAudio rig.

``AudioEngine(judge_interruptions=True, transcriber=...)`` exactly as ``app.compose.build_audio``
makes it (no hook: the engine runs its own ``InterruptionMonitor`` after its canceller). A steady
reply (speech over a −14 dBFS tone, so its level is measurable) plays on the virtual speaker and
each shared backchannel / interrupt clip is fed into the virtual microphone. Baseline in the same
run: the same engine with ``judge_interruptions=False`` (the VAD barge-in: any confirmed voice
clears the reply).

Figures: speech onset (first loud sample on ``micfeed.monitor``) → the reply's gain at −20 dB and
→ silent on interruptions (the gain the engine thread saw every ~2 ms, moved to the speaker by
the output latency from that stage), p50/p95; backchannels that let the reply go on, out of N;
false ducks from the reply's own echo per minute (speaker looped into the microphone at 40 %).
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import numpy as np

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import Backchannel, BargeIn, MicAudio
from dsp.resample import resample
from dsp.snippet_stt import SnippetTranscriber
from tests.audio.room import TURNS, reply_speech, turn_clips
from tests.audio.runner import EngineRunner
from tests.audio.test_pulse import _attenuate_loopback

RATE = 48000
MS = 1_000_000


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))] if s else float("nan")


def summary(values: list[float]) -> str:
    if not values:
        return "no data"
    return f"p50 {pct(values, 50):6.1f}  p95 {pct(values, 95):6.1f} ms  (n={len(values)})"


class GainTap:
    """Wraps ``engine.process`` (engine thread) to keep the reply's gain after every call:
    (ns, gain, held, ns from that stage to the speaker)."""

    def __init__(self, engine: AudioEngine) -> None:
        self.engine = engine
        self.gains: list[tuple[int, float, bool, int]] = []
        self._orig = engine.process
        engine.process = self._process  # type: ignore[method-assign]

    def _process(self) -> Any:
        events = self._orig()
        pipe = self.engine._pipe
        if pipe is not None:
            stage = float(getattr(pipe.stream, "gain", 1.0))
            full = int(pipe.info.output_latency_ms * MS)
            outs = getattr(pipe.stream, "_outs", None)  # the output stage skips the queue
            direct = int(float(outs.latency) * 1e9) if outs is not None else full
            gain = pipe.player.gain * stage
            now = time.monotonic_ns()
            self.gains.append((now, gain, pipe.player.held, direct if stage <= 0.1 else full))
        return events


def _reply() -> np.ndarray:
    speech = np.frombuffer(resample(reply_speech(30).tobytes(), RATE, 24000), np.int16)
    n = len(speech)
    bed = np.sin(2 * np.pi * 220 * np.arange(n) / 24000) * 0.2 * 32767
    return np.clip(speech * 0.5 + bed, -32768, 32767).astype(np.int16)


def _clips(server: Any, judge: bool, tr: SnippetTranscriber, trials: int) -> dict[str, Any]:
    from bench.bench_audio import Monitor

    mic = Monitor(server, "micfeed.monitor")
    cfg = AudioConfig(input_device="pulse", output_device="pulse")
    eng = AudioEngine(cfg, judge_interruptions=judge, transcriber=tr if judge else None)
    tap = GainTap(eng)
    reply = _reply()
    clips = turn_clips("interrupt", "backchannel")[:trials]
    out: dict[str, Any] = {"duck": [], "silent": [], "passed": 0, "n_bc": 0, "stopped": 0}
    out["n_int"] = 0
    with EngineRunner(eng, period_ms=2) as run:
        run.wait_for(MicAudio)
        time.sleep(1.0)
        for k, m in enumerate(clips):
            run.call(partial(eng.play, f"d{k}", reply.tobytes(), 24000))
            time.sleep(2.0)
            t_feed = time.monotonic_ns()
            server.play_to_mic(TURNS / str(m["file"]), wait=False)
            time.sleep(4.0)
            t_on = mic.first_loud_after(t_feed, threshold=300)
            barge = [t for t, ev in list(run.events) if t >= t_feed and isinstance(ev, BargeIn)]
            if m["kind"] == "backchannel":
                out["n_bc"] += 1
                out["passed"] += not barge and run.call(lambda: eng.is_playing)
            else:
                out["n_int"] += 1
                out["stopped"] += bool(barge)
            if t_on is not None:
                # a clear (the VAD barge-in, or the judge's Interrupt) silences at once: the
                # engine thread returned the BargeIn; the speaker hears it an output latency on
                info = eng.info
                full = int(info.output_latency_ms * MS) if info is not None else 0
                cleared = [(t, full) for t in barge if t > t_on][:1]
                g = [x for x in list(tap.gains) if x[0] > t_on]
                d = next(((t, lat) for t, gain, _h, lat in g if gain <= 0.1), None)
                q = next(((t, lat) for t, gain, _held, lat in g if gain == 0.0), None)
                ducked = min([x for x in (d, *cleared) if x], key=sum, default=None)
                if ducked is not None:
                    out["duck"].append((ducked[0] + ducked[1] - t_on) / MS)
                silent = min([x for x in (q, *cleared) if x], key=sum, default=None)
                if m["kind"] == "interrupt" and silent is not None:
                    out["silent"].append((silent[0] + silent[1] - t_on) / MS)
            tap.gains.clear()
            run.call(eng.clear_playback)
            time.sleep(1.0)
    mic.close()
    return out


def _echo_ducks_per_minute(
    server: Any, tr: SnippetTranscriber, seconds: float
) -> tuple[float, int]:
    """The reply alone, its echo looped into the microphone: ducks and barge-ins per minute."""
    loop = server.load_module(
        "module-loopback",
        "source=speaker.monitor",
        "sink=micfeed",
        "latency_msec=60",
        "source_dont_move=true",
        "sink_dont_move=true",
    )
    try:
        _attenuate_loopback(server, loop, percent=40)
        cfg = AudioConfig(input_device="pulse", output_device="pulse")
        eng = AudioEngine(cfg, judge_interruptions=True, transcriber=tr)
        speech = np.frombuffer(resample(reply_speech(seconds).tobytes(), RATE, 24000), np.int16)
        with EngineRunner(eng) as run:
            run.wait_for(MicAudio)
            run.call(lambda: eng.play("echo", speech.tobytes(), 24000))
            run.call(lambda: eng.end_item("echo"))
            time.sleep(seconds + 1.0)
            monitor = run.call(lambda: eng.interruptions)
            played_s = run.call(lambda: eng.played_ms("echo")) / 1000
        barge = len(run.of(BargeIn)) + len(run.of(Backchannel))
        ducks = monitor.ducks if monitor is not None else 0
        return ducks * 60 / max(played_s, 1.0), barge
    finally:
        server.unload_module(loop)


def bench_wired_interruptions(server: Any, trials: int, echo_seconds: float = 60.0) -> None:
    clips = turn_clips("interrupt", "backchannel")[:trials]
    print(f"\n10. Wired engine on the real rig: {len(clips)} clips over a playing reply")
    tr = SnippetTranscriber()
    tr.load()
    wired = _clips(server, True, tr, trials)
    base = _clips(server, False, tr, trials)
    for label, r in (("duck-and-judge (the app)", wired), ("VAD barge-in (baseline)", base)):
        print(f"   {label}")
        print(f"     onset → speaker −20 dB             {summary(r['duck'])}")
        print(f"     onset → speaker silent, interrupts {summary(r['silent'])}")
        print(
            f"     backchannels that let the reply go on: {r['passed']}/{r['n_bc']}; "
            f"interrupts stopped: {r['stopped']}/{r['n_int']}"
        )
    per_min, barge = _echo_ducks_per_minute(server, tr, echo_seconds)
    print(
        f"   echo looped into the mic ({echo_seconds:.0f} s of reply): "
        f"{per_min:.1f} false ducks per minute, {barge} barge-ins/backchannels"
    )
