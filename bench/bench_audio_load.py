"""bench_audio section 11: the whole engine on the real PulseAudio rig while two busy processes
(started here, ended by PID) hold the cores, once per audio-thread priority (``audio.priority``:
normal = what the engine asked before, nice -10, SCHED_FIFO with the sound server's client
threads). Per variant it prints: device underruns and overflows, false "device lost" reports (the
rig's virtual devices never go away, so every one is false), "audio is struggling" reports,
replies talked over that were cut (``BargeIn``) out of N, and the turn latencies: speech onset in
the microphone (seen on ``micfeed.monitor``) → ``VoiceStarted``, and speech end → ``VoiceStopped``
(what ends a hands-free turn; includes the 500 ms stop delay).

    .venv/bin/python bench/bench_audio.py --only 11 --load-seconds 30
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.errors import AudioDeviceError
from audio.events import AudioHealthChanged, BargeIn, MicAudio, VoiceStarted, VoiceStopped
from audio.priority import Priority
from tests.audio.runner import EngineRunner

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "media" / "speech"
FILES = ("q05_piper.wav", "q06_espeak.wav", "q07_piper.wav")
MS = 1_000_000
BUSY = "x = 0\nwhile True:\n    x = (x * 1103515245 + 12345) % 2147483648\n"


def _speech_ms() -> dict[str, int]:
    """File → ms of speech in it (end − start, from the shared media's ground truth)."""
    utts = json.loads((SPEECH / "utterances.json").read_text())
    return {
        u["file"]: u["speech_end_ms"] - u["speech_start_ms"] for u in utts if "speech_end_ms" in u
    }


def _run_variant(server: Any, priority: Priority, seconds: float, reply: np.ndarray) -> None:
    from bench.bench_audio import Monitor, summary

    lengths = _speech_ms()
    mic = Monitor(server, "micfeed.monitor")
    cfg = AudioConfig(input_device="pulse", output_device="pulse", priority=priority)
    starts: list[float] = []
    stops: list[float] = []
    turns = cut = 0
    with EngineRunner(AudioEngine(cfg), period_ms=10) as run:
        run.wait_for(MicAudio)
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            name = FILES[turns % len(FILES)]
            run.call(lambda k=turns: run.engine.play(f"l{k}", reply.tobytes(), 24000))
            time.sleep(0.3)
            t_feed = time.monotonic_ns()
            server.play_to_mic(SPEECH / name, wait=True)
            time.sleep(1.0)  # the stop delay, and late events under load
            turns += 1
            onset = mic.first_loud_after(t_feed, threshold=300)
            evs = [(t, e) for t, e in list(run.events) if t >= t_feed]
            cut += any(isinstance(e, BargeIn) for _t, e in evs)
            t_on = next((t for t, e in evs if isinstance(e, VoiceStarted)), None)
            t_off = next((t for t, e in evs if isinstance(e, VoiceStopped)), None)
            if onset is None:
                continue
            if t_on is not None:
                starts.append((t_on - onset) / MS)
            if t_off is not None:
                stops.append((t_off - onset) / MS - lengths[name])
        m = run.engine.meters()
        pipe = run.engine._pipe
        granted = dict(getattr(pipe.stream, "granted", {})) if pipe is not None else {}
        events = [e for _t, e in list(run.events)]
    mic.close()
    lost = sum(isinstance(e, AudioDeviceError) for e in events)
    struggling = sum(isinstance(e, AudioHealthChanged) and e.struggling for e in events)
    got = {v: sum(g == v for g in granted.values()) for v in sorted(set(granted.values()))}
    print(f"   priority {priority.value}: granted (threads) {got or '?'}")
    print(
        f"     underruns {m.underruns}, overflows {m.overflows}, callbacks {m.callbacks}; "
        f"false 'device lost' {lost}; 'struggling' reported {struggling}x; "
        f"replies cut when talked over {cut}/{turns}"
    )
    print(f"     speech onset → VoiceStarted  {summary(starts)}")
    print(f"     speech end → VoiceStopped    {summary(stops)}")


def bench_load_priority(server: Any, seconds: float) -> None:
    print(
        f"\n11. Under CPU load (two busy processes, {seconds:g} s per variant, real PulseAudio):"
        " audio-thread priority"
    )
    from bench.bench_audio import speech_reply
    from dsp.resample import resample

    reply = np.frombuffer(resample(speech_reply(48000, 8).tobytes(), 48000, 24000), np.int16)
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(2)]
    try:
        time.sleep(1.0)
        for priority in (Priority.NORMAL, Priority.NICE, Priority.REALTIME):
            _run_variant(server, priority, seconds, reply)
    finally:
        for p in busy:  # exactly the processes started above, by PID
            p.kill()
            p.wait(timeout=5)
