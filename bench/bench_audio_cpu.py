"""Section 4 of ``bench/bench_audio.py`` (figures, not tests): CPU per second of audio, whole
process, on the real PulseAudio rig, with its baselines in the same run (bare streams whose
callbacks do nothing, the engine's own work on a fake stream) and the engine at other device
block sizes and ``process()`` cadences.

    .venv/bin/python bench/bench_audio.py --only 4
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import numpy as np

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import MicAudio
from bench.bench_audio import RATE, SPEECH, speech_reply
from dsp.pcm import read_wav
from dsp.resample import resample
from tests.audio.runner import EngineRunner
from tests.fixtures.pulse import PulseServer


def cpu_virtual() -> float:
    """CPU % of one core for the engine's own work (callbacks + process() every 10 ms) driven by a
    fake stream: capture, AEC+NS at 48 kHz, 4 resamplers, VAD and playback of a reply, with speech
    in the mic: no PulseAudio client, no thread wake-ups."""
    from tests.audio.fakes import FakeClock, FakeFactory
    from tests.audio.helpers import load

    clock = FakeClock()
    factory = FakeFactory(clock)
    eng = AudioEngine(AudioConfig(barge_in=False), factory, clock=clock)
    eng.start()
    eng.process()
    eng.play("r", speech_reply(24000, 30).tobytes(), 24000)
    mic = np.concatenate([load("q05_piper.wav"), load("q06_espeak.wav")] * 3)
    n = len(mic) // 480
    t = time.process_time()
    for k in range(n):
        factory.stream.tick(mic[k * 480 : (k + 1) * 480])
        eng.process()
    eng.stop()
    return (time.process_time() - t) / (n / 100) * 100


def bench_cpu(server: PulseServer, seconds: float) -> None:
    import sounddevice as sd

    print(f"\n4. CPU per second of audio ({seconds:g} s each, % of one core, whole process)")

    def feeder(stop: threading.Event) -> None:
        files = [SPEECH / f for f in ("q05_piper.wav", "q06_espeak.wav", "q07_piper.wav")]
        k = 0
        while not stop.is_set():
            server.play_to_mic(files[k % len(files)])
            k += 1

    # baselines: bare streams, callbacks do nothing
    def cb(indata: Any, outdata: Any, frames: int, t: Any, status: Any) -> None:
        outdata.fill(0)

    def bare(streams: list[Any]) -> float:
        for st in streams:
            st.start()
        time.sleep(1.0)
        c0, w0 = time.process_time(), time.monotonic()
        time.sleep(seconds)
        cpu = (time.process_time() - c0) / (time.monotonic() - w0) * 100
        for st in streams:
            st.stop()
            st.close()
        return cpu

    common: dict[str, Any] = {
        "samplerate": RATE,
        "blocksize": 480,
        "dtype": "int16",
        "latency": "low",
    }
    base = bare([sd.Stream(device=("pulse", "pulse"), channels=(1, 1), callback=cb, **common)])
    base_split = bare(
        [
            sd.InputStream(device="pulse", channels=1, callback=lambda *a: None, **common),
            sd.OutputStream(device="pulse", channels=1, callback=lambda o, *a: o.fill(0), **common),
        ]
    )

    reply = np.frombuffer(
        resample(read_wav(SPEECH / "q08_piper.wav")[0], 16000, 24000), dtype=np.int16
    )
    full, engine_thread, m = _engine_cpu(server, seconds, reply, feeder, split=True)
    old_full, _old_thread, _ = _engine_cpu(server, seconds, reply, feeder, split=False)
    larger = {
        ms: _engine_cpu(server, seconds, reply, feeder, split=True, block_ms=ms) for ms in (20, 30)
    }
    listen_period = AudioConfig().listen_period_ms
    listening = {
        ms: _engine_cpu(server, seconds, None, feeder, split=True, period_ms=ms)
        for ms in (10, listen_period)
    }
    print(f"   baseline bare duplex stream      {base:5.2f} %   (latency 'low', as opened before)")
    print(f"   baseline bare input + output     {base_split:5.2f} %")
    print(
        f"   engine work alone (fake stream)  {cpu_virtual():5.2f} %"
        "   (callbacks + process(), one thread)"
    )
    print(f"   engine, input + output streams   {full:5.2f} %   (now; whole process)")
    print(f"   engine, one duplex stream        {old_full:5.2f} %   (before; whole process)")
    print(f"   of which engine.process() (now)  {engine_thread:5.2f} %")
    print(
        "   device blocks and engine cadence (the app calls process() every 10 ms while a "
        "reply plays, every listen_period_ms while only listening; each wake-up costs: the "
        "same work takes 2.5x longer after a 10 ms sleep than in a hot loop)"
    )
    print(f"     10 ms blocks, process() every 10 ms  {full:5.2f} %   (default)")
    for ms, (cpu, thread, mm) in larger.items():
        print(
            f"     {ms} ms blocks, process() every {ms} ms  {cpu:5.2f} %   engine.process() "
            f"{thread:4.2f} %, underruns {mm.underruns}, stream latency in/out "
            f"{mm.latency_in_ms:.0f}/{mm.latency_out_ms:.0f} ms"
        )
    for ms, (cpu, thread, _mm) in listening.items():
        print(
            f"     listening only, process() every {ms} ms  {cpu:5.2f} %   engine.process() "
            f"{thread:4.2f} %{'   (the app: process_period_ms)' if ms == listen_period else ''}"
        )
    print(
        f"   meters: underruns {m.underruns}, overflows {m.overflows}, ERLE "
        f"{m.erle_db if m.erle_db is None else round(m.erle_db, 1)} dB, hint {m.echo_hint}"
    )


def _engine_cpu(
    server: PulseServer,
    seconds: float,
    reply: np.ndarray | None,
    feeder: Any,
    split: bool,
    block_ms: int = 10,
    period_ms: int | None = None,
) -> tuple[float, float, Any]:
    """Whole-process CPU % with the engine running (split streams or one duplex stream), its
    ``process()`` called every ``period_ms`` (default ``block_ms``); ``reply`` None: nothing
    plays. The meters get the stream's latencies added as
    ``latency_in_ms`` / ``latency_out_ms``."""
    from dataclasses import replace

    from audio.duplex import StreamSpec, sounddevice_factory

    def factory(spec: StreamSpec, cb: Any, fin: Any) -> Any:
        return sounddevice_factory(replace(spec, split=split), cb, fin)

    stop = threading.Event()
    th = threading.Thread(target=feeder, args=(stop,), daemon=True)
    proc_time = [0.0]
    cfg = AudioConfig(
        input_device="pulse", output_device="pulse", barge_in=False, block_ms=block_ms
    )
    with EngineRunner(AudioEngine(cfg, factory), period_ms=period_ms or block_ms) as run:
        orig = run.engine.process

        def timed() -> Any:
            t = time.perf_counter()
            r = orig()
            proc_time[0] += time.perf_counter() - t
            return r

        run.engine.process = timed  # type: ignore[method-assign]
        run.wait_for(MicAudio)
        th.start()
        for k in range(int(seconds / 4) + 2 if reply is not None else 0):
            pcm = reply.tobytes() if reply is not None else b""
            run.call(lambda k=k, pcm=pcm: run.engine.play(f"c{k}", pcm, 24000))
        time.sleep(1.0)
        proc_time[0] = 0.0
        c0, w0 = time.process_time(), time.monotonic()
        time.sleep(seconds)
        wall = time.monotonic() - w0
        full = (time.process_time() - c0) / wall * 100
        engine_thread = proc_time[0] / wall * 100
        m = run.engine.meters()
        info = run.engine.info
        m = SimpleNamespace(
            **vars(m),
            latency_in_ms=info.input_latency_ms if info else float("nan"),
            latency_out_ms=info.output_latency_ms if info else float("nan"),
        )
    stop.set()
    th.join(timeout=15)  # the last question must not spill into the next section's mic
    return full, engine_thread, m
