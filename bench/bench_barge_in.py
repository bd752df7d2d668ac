"""Section 2 of ``bench/bench_audio.py`` (figures, not tests): barge-in. User speech onset in
the microphone (seen on ``micfeed.monitor``) → playback silent on ``speaker.monitor``, p50/p95:
the engine (local VAD → clear at the next 10 ms callback) vs the same VAD decision clearing a
naive 50 ms player; and the same in virtual time.

    .venv/bin/python bench/bench_audio.py --only 2
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import MicAudio, VoiceStarted
from bench.bench_audio import (
    MS,
    RATE,
    SPEECH,
    Monitor,
    NaivePlayer,
    engine,
    speech_reply,
    summary,
)
from tests.audio.runner import EngineRunner
from tests.fixtures.pulse import PulseServer


def bench_barge_in(server: PulseServer, trials: int) -> None:
    print("\n2. Barge-in: speech onset in mic → playback silent at speaker.monitor (ms)")
    files = ["q01_piper.wav", "q02_espeak.wav", "q03_piper.wav", "q04_espeak.wav"]
    spk = Monitor(server, "speaker.monitor")
    mic = Monitor(server, "micfeed.monitor")

    def trial_set(
        run: EngineRunner, start_playback: Any
    ) -> tuple[list[float], list[float], list[float], int]:
        total, detect, stop = [], [], []
        missed = 0
        for k in range(trials):
            start_playback(k)
            time.sleep(1.5)  # the reply plays alone first (AEC3 sees its far end)
            t_feed = time.monotonic_ns()
            server.play_to_mic(SPEECH / files[k % len(files)], wait=False)
            t_onset = None
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline and t_onset is None:
                time.sleep(0.05)
                t_onset = mic.first_loud_after(t_feed, threshold=300)
            time.sleep(1.0)
            t_quiet = spk.first_quiet_after(t_onset) if t_onset else None
            t_voice = next(
                (t for t, e in list(run.events) if t >= t_feed and isinstance(e, VoiceStarted)),
                None,
            )
            if t_onset is None or t_quiet is None or t_voice is None:
                missed += 1
                print(f"     (meters: {run.engine.meters()})")
                why = "no onset" if t_onset is None else "no VAD start" if t_voice is None else ""
                print(f"     (trial {k}: missed: {why or 'playback never went silent'})")
            else:
                total.append((t_quiet - t_onset) / MS)
                detect.append((t_voice - t_onset) / MS)
                stop.append((t_quiet - t_voice) / MS)
            time.sleep(3.0)  # the rest of the utterance + the stop delay
        return total, detect, stop, missed

    reply24 = speech_reply(24000, 60)
    with EngineRunner(engine(), period_ms=2) as run:
        run.wait_for(MicAudio)
        time.sleep(1.0)
        eng = trial_set(
            run,
            lambda k: run.call(lambda: run.engine.play(f"b{k}", reply24.tobytes(), 24000)),
        )
        m = run.engine.meters()
        print(f"     (engine AEC engaged {m.aec_engaged}, coupling {m.coupling_db:.1f} dB)")
    naive = NaivePlayer()
    reply48 = speech_reply(RATE, 60)

    def on_event(ev: Any, _t: int) -> None:
        if isinstance(ev, VoiceStarted):
            naive.clear()

    with EngineRunner(engine(barge_in=False), period_ms=2, on_event=on_event) as run:
        run.wait_for(MicAudio)
        time.sleep(1.0)
        nai = trial_set(run, lambda k: naive.play(reply48))
    naive.close()
    spk.close()
    mic.close()
    for name, (total, detect, stop, missed) in (
        ("engine (clear at next 10 ms block)", eng),
        ("baseline same VAD, naive 50 ms list", nai),
    ):
        print(f"   {name}")
        print(f"     onset → silent        {summary(total)}  missed {missed}/{trials}")
        print(f"     onset → VoiceStarted  {summary(detect)}")
        print(f"     VoiceStarted → silent {summary(stop)}")


def bench_barge_in_virtual() -> None:
    """The same path in virtual time (fake stream + fake clock): what the algorithm costs with no
    scheduling delay. Speaker silent = first all-zero output block after the true onset."""
    import json

    from tests.audio.fakes import FakeClock, FakeFactory
    from tests.audio.helpers import load

    utts = [u for u in json.loads((SPEECH / "utterances.json").read_text()) if u.get("text")]
    for pause in (True, False):
        silent, started = [], []
        for u in utts:
            clock = FakeClock()
            factory = FakeFactory(clock)
            eng = AudioEngine(AudioConfig(pause_on_voice_hint=pause), factory, clock=clock)
            eng.start()
            eng.process()
            eng.play("r", speech_reply(24000, 8).tobytes(), 24000)
            lead = np.zeros(RATE, dtype=np.int16)  # the reply plays alone for 1 s
            mic = np.concatenate([lead, load(u["file"])])
            onset = clock() + (1000 + u["speech_start_ms"]) * MS
            t_silent = t_voice = None
            for k in range(len(mic) // 480):
                out = factory.stream.tick(mic[k * 480 : (k + 1) * 480])
                for ev in eng.process():
                    if isinstance(ev, VoiceStarted) and t_voice is None:
                        t_voice = clock()
                if t_silent is None and clock() > onset and not out.any():
                    t_silent = clock() - 10 * MS  # the block started 10 ms before now
            eng.stop()
            if t_silent is not None:
                silent.append((t_silent - onset) / MS)
            if t_voice is not None:
                started.append((t_voice - onset) / MS)
        label = "with provisional pause" if pause else "confirmed start only  "
        print(f"   virtual time, {label}: onset → last block out {summary(silent)}")
    print(f"   virtual time, onset → VoiceStarted decided      {summary(started)}")
    print("   (add the device output latency for the time at the speaker)")
