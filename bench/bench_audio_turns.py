"""Issue-16 sections of ``bench/bench_audio.py`` (figures, not tests): interruptions vs
backchannels in a simulated room, false ducks from echo, the jitter buffer's cold start, and
audio under CPU load. Each has a baseline measured in the same run.

    .venv/bin/python bench/bench_audio.py --only 5,6,7
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import AudioDeviceError, BargeIn, MicAudio, VoiceStarted
from audio.interruption_judge import Interrupt, Restore
from audio.jitter import JitterBuffer
from audio.watchdog import HealthState, StreamCounters, StreamWatchdog
from dsp.onset import OnsetConfig, OnsetDetector
from dsp.snippet_stt import SnippetTranscriber
from tests.audio.room import BLOCK, RATE, DelayedExecutor, Room, clip, reply_speech, turn_clips

MS = 1_000_000


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def summary(values: list[float]) -> str:
    if not values:
        return "no data"
    return (
        f"p50 {pct(values, 50):6.1f}  p95 {pct(values, 95):6.1f}  max {max(values):6.1f} ms"
        f"  (n={len(values)})"
    )


# ----------------------------------------------------------------------------- 5
def _gain_times(r: Room, onset_ns: int) -> tuple[float | None, float | None]:
    """From the player's gain per block (linear ramps): ms after the true onset at which the
    reply's gain first reached −20 dB, and at which it was silent for good (held or cleared)."""
    duck = silent = None
    block_ns = BLOCK * 1_000_000_000 // RATE
    for t, g0, g1, held in r.gains:
        if duck is None and g1 <= 0.1 < g0:  # crossed inside this block: interpolate
            frac = (g0 - 0.1) / (g0 - g1)
            duck = (t + frac * block_ns - onset_ns) / MS
        elif duck is None and g1 <= 0.1 and t >= onset_ns:
            duck = (t - onset_ns) / MS
        if silent is None and g1 == 0.0 and held:
            silent = (t + block_ns - onset_ns) / MS
    stop = next((a for a in r.actions if isinstance(a, Interrupt)), None)
    if stop is not None and silent is None:
        silent = (stop.t_ns + block_ns - onset_ns) / MS  # cleared at the next block
    return duck, silent


def bench_interruptions(out_latency_ms: float = 25.0) -> None:
    print("\n5. Duck at once, decide after — every shared backchannel/interrupt clip over a reply")
    print("   (virtual room: real AEC3, player and Whisper tiny; the transcriber's real wall time")
    print("   on this machine is replayed on the virtual clock; speaker = player output)")
    tr = SnippetTranscriber()
    tr.load()
    reply = reply_speech(8)
    lead = 250  # blocks of reply alone
    clips = turn_clips("backchannel", "interrupt")
    ducks: list[float] = []
    silent_int: list[float] = []
    bc_ok = bc_n = int_ok = int_n = 0
    decide_bc: list[float] = []
    asr_ms: list[float] = []
    missed: list[str] = []
    for m in clips:
        holder: list[Room] = []

        def delay(wall_ms: float) -> float:
            asr_ms.append(wall_ms)
            return wall_ms

        ex = DelayedExecutor(lambda holder=holder: holder[0].t_ns, delay)
        r = Room(tr, executor=ex)
        holder.append(r)
        r.play("reply", reply)
        r.run(None, lead)
        onset = r.t_ns + int(m["speech_start_ms"]) * MS  # type: ignore[call-overload]
        r.run(clip(str(m["file"])), 300)
        for _ in range(1500):  # until the reply ends or is stopped (a hold pauses it)
            if not r.player.is_playing:
                break
            r.step()
        duck, silent = _gain_times(r, onset)
        if duck is not None:
            ducks.append(duck + out_latency_ms)
        if m["kind"] == "backchannel":
            bc_n += 1
            res = [a for a in r.actions if isinstance(a, Restore)]
            ok = not any(isinstance(a, Interrupt) for a in r.actions)
            ok = ok and r.player.played_ms("reply") == 8000
            bc_ok += ok
            if not ok:
                why = [f"{type(a).__name__}:{a.reason.value}" for a in r.actions]
                missed.append(f"{m['file']} ({', '.join(why[-2:])})")
            if res:
                decide_bc.append((res[0].t_ns - onset) / MS)
        else:
            int_n += 1
            int_ok += any(isinstance(a, Interrupt) for a in r.actions)
            if silent is not None:
                silent_int.append(silent + out_latency_ms)
    print(f"   onset → reply −20 dB            {summary(ducks)}")
    print(f"   onset → silent, interruptions   {summary(silent_int)}")
    print(f"   backchannels that let the reply play to its end: {bc_ok}/{bc_n}")
    for line in missed:
        print(f"     not passed: {line}")
    print(f"   interruptions that stopped the reply:            {int_ok}/{int_n}")
    print(f"   onset → reply resumed after a backchannel {summary(decide_bc)}")
    print(f"   Whisper tiny per snippet (wall, this machine) {summary(asr_ms)}")
    print(
        f"   (times at the speaker include a nominal {out_latency_ms:g} ms device output latency)"
    )
    _baseline_vad_barge_in(clips, reply, out_latency_ms)


def _baseline_vad_barge_in(clips: list[dict[str, object]], reply: np.ndarray, lat: float) -> None:
    """Baseline, same process: today's engine path (Silero VAD start → clear, with the
    provisional pause) on the same clips, fake stream at 48 kHz, no echo."""
    from dsp.resample import resample
    from tests.audio.fakes import FakeClock, FakeFactory

    reply24 = np.frombuffer(resample(reply.tobytes(), RATE, 24000), dtype=np.int16)
    silent: list[float] = []
    stopped_bc = bc_n = 0
    for m in clips:
        clock = FakeClock()
        factory = FakeFactory(clock)
        eng = AudioEngine(AudioConfig(), factory, clock=clock)
        eng.start()
        eng.process()
        eng.play("r", reply24.tobytes(), 24000)
        u48 = np.frombuffer(resample(clip(str(m["file"])).tobytes(), RATE, 48000), np.int16)
        mic = np.concatenate([np.zeros(48000 * 2, np.int16), u48])
        onset = clock() + (2000 + int(m["speech_start_ms"])) * MS  # type: ignore[call-overload]
        t_silent = None
        barged = False
        for k in range(len(mic) // 480):
            out = factory.stream.tick(mic[k * 480 : (k + 1) * 480])
            for ev in eng.process():
                barged |= isinstance(ev, BargeIn)
            if t_silent is None and clock() > onset and not out.any():
                t_silent = clock() - 10 * MS
        eng.stop()
        if m["kind"] == "backchannel":
            bc_n += 1
            stopped_bc += barged
        elif t_silent is not None:
            silent.append((t_silent - onset) / MS + lat)
    print("   baseline (today's VAD barge-in, same clips):")
    print(f"     onset → silent, interruptions {summary(silent)}")
    print(f"     backchannels that let the reply go on: {bc_n - stopped_bc}/{bc_n}")


def bench_echo_false_ducks(seconds: float = 60.0) -> None:
    print(f"\n5b. False ducks from echo ({seconds:g} s of a reply echoing into the mic, per room)")
    rooms = {
        "laptop speakers, loud echo (0 dB)": {"echo_db": 0.0},
        "normal echo (−6 dB)": {},
        "long echo delay (120 ms)": {"echo_delay_ms": 120},
        "noisy room (−50 dBFS)": {"echo_db": -3.0, "noise_dbfs": -50.0},
        "no canceller (−20 dB echo)": {"aec": False, "echo_db": -20.0},
    }
    reply = reply_speech(seconds)
    for name, kw in rooms.items():
        r = Room(None, **kw)  # type: ignore[arg-type]
        r.play("reply", reply)
        naive = OnsetDetector(OnsetConfig(rate_hz=RATE, far_active_dbfs=200.0))  # no echo model
        naive_onsets = 0
        orig = r.monitor.detector.process

        def both(
            clean: Any, raw: Any, far: Any, t: int, orig: Any = orig, naive: Any = naive
        ) -> Any:
            nonlocal naive_onsets
            naive_onsets += naive.process(clean, raw, far, t).onset
            return orig(clean, raw, far, t)

        r.monitor.detector.process = both  # type: ignore[method-assign]
        r.run(None, int(seconds * 100))
        per_min = r.monitor.ducks / (seconds / 60)
        print(
            f"   {name:36s} ducks/min {per_min:5.2f}   baseline (same detector without the "
            f"echo model) {naive_onsets / (seconds / 60):6.1f}/min"
        )


# ----------------------------------------------------------------------------- 6
@dataclass(frozen=True)
class BurstyRun:
    """What ``play_bursty_replies`` measured."""

    underruns_per_min: float
    first_reply_underruns: int
    #: Per reply: first audible sample − its first chunk's arrival (ms).
    starts_ms: list[float]
    #: Per block played: when it played − when its chunk arrived (ms).
    chunk_delays_ms: list[float]
    #: Per block played: when it played − the earliest it could have (its chunk's arrival
    #: plus its offset in the chunk), ms.
    added_ms: list[float]


def play_bursty_replies(
    jb: JitterBuffer, chunk: np.ndarray, rate_hz: int, jitter_ms: int, minutes: float, seed: int
) -> BurstyRun:
    """Replies paced in real time (40 ms ``chunk``s, 6 s replies 1 s apart) with network
    stalls: each chunk starts a stall of uniform(J/2, J) ms with probability 5 %; chunks due
    during a stall arrive in one burst at its end. ``jb`` is read in 10 ms ticks (virtual time).
    Shared by section 3 (``bench_audio.simulate``) and section 6 here."""
    rng = random.Random(seed)
    chunk_ms, item_s, gap_s = 40, 6.0, 1.0
    per_chunk = len(chunk)
    n_items = max(1, int(minutes * 60 / (item_s + gap_s)))
    out = np.zeros(480, dtype=np.int16)
    added: list[float] = []
    delays: list[float] = []
    starts: list[float] = []
    first_reply_underruns = 0
    t = 0
    for it in range(n_items):
        item = f"r{it}"
        n_chunks = int(item_s * 1000 / chunk_ms)
        arrivals = []
        stall_until = 0
        for k in range(n_chunks):
            nominal = t + k * chunk_ms * MS
            if jitter_ms and nominal >= stall_until and rng.random() < 0.05:
                stall_until = nominal + int(rng.uniform(jitter_ms / 2, jitter_ms) * MS)
            arrivals.append(stall_until if nominal < stall_until else nominal)
        k = 0
        tick = t
        end_t = t + int((item_s + gap_s) * 1e9)
        while tick < end_t:
            while k < n_chunks and arrivals[k] <= tick:
                jb.write(item, chunk, arrivals[k])
                k += 1
                if k == n_chunks:
                    jb.end(item)
            before = jb.played_samples(item)
            if jb.read_into(out, tick):
                c, o = divmod(before, per_chunk)
                delays.append((tick - arrivals[c]) / MS)
                added.append((tick - arrivals[c] - o * 1_000_000_000 / rate_hz) / MS)
            tick += 10 * MS
        fa = jb.first_audible_ns(item)
        if fa is not None:
            starts.append((fa - arrivals[0]) / MS)
        if it == 0:
            first_reply_underruns = jb.underruns
        t = end_t
    sim_min = n_items * (item_s + gap_s) / 60
    return BurstyRun(jb.underruns / sim_min, first_reply_underruns, starts, delays, added)


def simulate_jitter(
    jitter_ms: int, minutes: float, seed: int, **kw: Any
) -> tuple[float, int, float, float, float]:
    """``play_bursty_replies`` at 48 kHz into ``JitterBuffer(48000, **kw)``. Returns
    (underruns/min, underruns in the first reply, start latency mean ms, added delay mean and
    p95 ms)."""
    chunk = np.full(48000 * 40 // 1000, 1000, dtype=np.int16)
    run = play_bursty_replies(JitterBuffer(48000, **kw), chunk, 48000, jitter_ms, minutes, seed)
    return (
        run.underruns_per_min,
        run.first_reply_underruns,
        float(np.mean(run.starts_ms)),
        float(np.mean(run.added_ms)),
        pct(run.added_ms, 95),
    )


def bench_jitter_cold_start(minutes: float, seeds: int = 10) -> None:
    print(f"\n6. Jitter buffer: no cold start ({minutes:g} min of replies per cell, {seeds} seeds)")
    print("   columns: underruns/min | in the first reply | start ms | added delay mean / p95 ms")
    variants = {
        "adaptive, prior + scheduled start (now)": {},
        "baseline: adaptive, no prior": {"cold_start_ms": 0},
        "baseline: fixed 40 ms prefill": {"adaptive": False, "prefill_ms": 40},
    }
    for j in (80, 150):
        print(f"   jitter {j} ms")
        for name, kw in variants.items():
            rows = [simulate_jitter(j, minutes, seed=j + s, **kw) for s in range(seeds)]
            und = sum(r[0] for r in rows) / seeds
            first = sum(r[1] for r in rows)
            start = sum(r[2] for r in rows) / seeds
            mean = sum(r[3] for r in rows) / seeds
            p95s = "/".join(f"{r[4]:.0f}" for r in rows)
            print(
                f"     {name:40s} {und:6.2f} | {first:3d} | {start:6.1f} | "
                f"{mean:6.1f} / {p95s} (p95 per seed)"
            )


# ----------------------------------------------------------------------------- 7
def _burn(stop: Any) -> None:
    x = 0
    while not stop.is_set():
        x = (x * 1103515245 + 12345) % 2147483648


def bench_under_load(server: Any, seconds: float) -> None:
    print(
        f"\n7. Under CPU load (two busy processes on the 2 cores, {seconds:g} s, real PulseAudio)"
    )
    from tests.audio.runner import EngineRunner

    speech = Path(__file__).resolve().parents[2] / "shared" / "media" / "speech"
    reply = np.frombuffer(
        __import__("dsp.resample", fromlist=["resample"]).resample(
            reply_speech(20).tobytes(), RATE, 24000
        ),
        dtype=np.int16,
    )
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop,), daemon=True) for _ in range(2)]
    for p in burners:
        p.start()
    verdicts: dict[str, int] = {}
    health: dict[str, int] = {}
    old_rule_losses = 0
    turns: list[float] = []
    try:
        eng = AudioEngine(AudioConfig(input_device="pulse", output_device="pulse"))
        wd_box: list[StreamWatchdog] = []
        orig = eng.process

        def watched() -> Any:
            pipe = eng._pipe
            now = time.monotonic_ns()
            if pipe is not None:
                if not wd_box or wd_box[0]._opened != pipe.opened_ns:
                    wd_box[:] = [StreamWatchdog(pipe.opened_ns)]
                io = pipe.io
                c = StreamCounters(
                    io.callbacks,
                    io.last_callback_ns,
                    io.output_underflows + io.input_overflows + io.ring.dropped,
                    pipe.stream.active,
                    io.finished,
                )
                v = wd_box[0].check(now, c)
                verdicts[v.reason.value] = verdicts.get(v.reason.value, 0) + 1
                h = wd_box[0].health().state.value
                health[h] = health.get(h, 0) + 1
            return orig()

        eng.process = watched  # type: ignore[method-assign]
        with EngineRunner(eng, period_ms=10) as run:
            run.wait_for(MicAudio)
            t_end = time.monotonic() + seconds
            k = 0
            while time.monotonic() < t_end:
                run.call(lambda k=k: eng.play(f"l{k}", reply.tobytes(), 24000))
                t_feed = time.monotonic_ns()
                server.play_to_mic(speech / "q05_piper.wav", wait=True)
                t_voice = next(
                    (t for t, e in list(run.events) if t >= t_feed and isinstance(e, VoiceStarted)),
                    None,
                )
                if t_voice is not None:
                    turns.append((t_voice - t_feed) / MS)
                k += 1
                time.sleep(0.5)
            m = eng.meters()
            old_rule_losses = sum(isinstance(e, AudioDeviceError) for _t, e in list(run.events))
    finally:
        stop.set()
        for p in burners:
            p.join(timeout=5)
    ticks = sum(health.values()) or 1
    print(f"   underruns {m.underruns}, overflows {m.overflows}, callbacks {m.callbacks}")
    print(f"   'device lost' reported by the engine's rule (baseline): {old_rule_losses}")
    lost = sum(v for r, v in verdicts.items() if r in ("no-callbacks", "never-started"))
    print(f"   'device lost' by StreamWatchdog on the same ticks:       {lost}")
    print(f"   watchdog verdicts: {verdicts}")
    struggling = health.get(HealthState.STRUGGLING.value, 0) / ticks * 100
    print(f"   status 'audio is struggling' on {struggling:.0f} % of ticks")
    print(f"   question fed → VoiceStarted (incl. the file's 1 s lead-in) {summary(turns)}")


def main_sections(which: set[int], server: Any, minutes: float, load_s: float) -> None:
    if 5 in which:
        bench_interruptions()
        bench_echo_false_ducks()
    if 6 in which:
        bench_jitter_cold_start(minutes)
    if 7 in which and server is not None:
        bench_under_load(server, load_s)
    if 8 in which and server is not None:
        from bench.bench_duck_real import bench_duck_real

        bench_duck_real(server, int(os.environ.get("BENCH_DUCK_TRIALS", "20")))
