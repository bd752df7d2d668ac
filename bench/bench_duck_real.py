"""Section 8 of ``bench/bench_audio.py`` (figures, not tests): the interruption monitor on the
real PulseAudio rig, hooked after the engine's echo canceller. Onset in the virtual microphone →
speaker −20 dB and silent, and backchannels passed, over a steady reply.

    .venv/bin/python bench/bench_audio.py --only 8
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import MicAudio
from audio.interruption_judge import Interrupt
from bench.bench_audio_turns import MS, summary
from dsp.snippet_stt import SnippetTranscriber
from tests.audio.monitor_hook import MonitorHook
from tests.audio.room import RATE, reply_speech, turn_clips


def bench_duck_real(server: Any, trials: int) -> None:
    """The monitor on the real rig: hooked after the engine's echo canceller (as engine.py will
    call it), a steady reply (speech over a −14 dBFS tone, so its level is measurable) playing
    on the PulseAudio speaker, the shared clips fed into the virtual microphone."""
    from bench.bench_audio import Monitor
    from dsp.resample import resample
    from tests.audio.room import TURNS
    from tests.audio.runner import EngineRunner

    print(f"\n8. Real PulseAudio: onset in the mic → speaker −20 dB / silent ({trials} clips)")
    tr = SnippetTranscriber()
    tr.load()
    mic = Monitor(server, "micfeed.monitor")
    eng = AudioEngine(AudioConfig(input_device="pulse", output_device="pulse", barge_in=False))
    hook = MonitorHook(eng, tr)
    speech = np.frombuffer(resample(reply_speech(30).tobytes(), RATE, 24000), np.int16)
    n = len(speech)
    bed = (np.sin(2 * np.pi * 220 * np.arange(n) / 24000) * 0.2 * 32767).astype(np.float64)
    reply = np.clip(speech * 0.5 + bed, -32768, 32767).astype(np.int16)
    clips = turn_clips("interrupt", "backchannel")[:trials]
    ducks: list[float] = []
    silent: list[float] = []
    passed = n_bc = stopped = n_int = 0
    with EngineRunner(eng, period_ms=2) as run:
        run.wait_for(MicAudio)
        time.sleep(1.0)
        for k, m in enumerate(clips):
            hook.actions.clear()
            run.call(lambda k=k: eng.play(f"d{k}", reply.tobytes(), 24000))
            time.sleep(2.0)
            t_feed = time.monotonic_ns()
            server.play_to_mic(TURNS / str(m["file"]), wait=False)
            time.sleep(4.0)
            t_on = mic.first_loud_after(t_feed, threshold=300)
            acts = [a for _t, a in list(hook.actions)]
            if os.environ.get("BENCH_DEBUG") and t_on is not None:
                print(
                    f"     {m['file']}: "
                    + ", ".join(
                        f"{type(a).__name__}:{a.reason.value}@{(t - t_on) / MS:.0f}"
                        f"(onset {(a.onset_ns - t_on) / MS:.0f})"
                        for t, a in list(hook.actions)
                    )
                )
            if m["kind"] == "backchannel":
                n_bc += 1
                ok = not any(isinstance(a, Interrupt) for a in acts) and run.call(
                    lambda: eng.is_playing
                )
                passed += ok
                if not ok:
                    why = ", ".join(f"{type(a).__name__}:{a.reason.value}" for a in acts[-2:])
                    print(f"     not passed: {m['file']} ({why})")
            else:
                n_int += 1
                stopped += any(isinstance(a, Interrupt) for a in acts)
            if t_on is not None:
                # the callback's gain as the engine thread saw it (every ~2 ms), moved to the
                # speaker by the stream's output latency (PortAudio's + the split stream's FIFO)
                info = eng.info
                out_ns = int(info.output_latency_ms * MS) if info is not None else 0
                g = [x for x in list(hook.gains) if x[0] > t_on]
                d = next(((t, lat) for t, gain, _h, lat in g if gain <= 0.1), None)
                if d is not None:
                    ducks.append((d[0] + d[1] - t_on) / MS)
                q = next((t for t, gain, held, _lat in g if held and gain == 0.0), None)
                stop = next((t for t, a in list(hook.actions) if isinstance(a, Interrupt)), None)
                if m["kind"] == "interrupt":
                    ends = [x for x in (q, stop) if x is not None]
                    if ends:
                        silent.append((min(ends) + out_ns - t_on) / MS)
            hook.gains.clear()
            run.call(lambda: eng.clear_playback())
            mon = hook.monitor
            if mon is not None:
                run.call(mon.reset)
            time.sleep(1.0)
    mic.close()
    mon = hook.monitor
    if mon is not None:
        print(
            f"   (monitor: onsets {mon.detector.onsets}, ducks {mon.ducks}, "
            f"restored without a backchannel {mon.false_ducks})"
        )
    print(f"   onset → speaker −20 dB             {summary(ducks)}")
    print(f"   onset → speaker silent, interrupts {summary(silent)}")
    print(
        f"   backchannels that let the reply go on: {passed}/{n_bc}; interrupts stopped: "
        f"{stopped}/{n_int}"
    )
    print("   (onset: first sample above −40 dBFS on micfeed.monitor; the duck/silence: the gain")
    print("   seen every ~2 ms plus the output latency from that stage; baseline: section 2)")
