"""Audio benchmarks (real PulseAudio with virtual devices, started here). Prints figures with a
baseline measured in the same run; no pass/fail.

    .venv/bin/python bench/bench_audio.py                  # all four, ~3 min
    .venv/bin/python bench/bench_audio.py --only 1,3 --trials 10

1. Reply arrival → first sample at the device. Engine (10 ms duplex blocks, jitter buffer) vs a
   naive player (a locked list of chunks read by a 50 ms-block callback, as common examples do).
   "At the device" is observed on ``speaker.monitor`` by a low-latency ``parec`` reader, which
   adds the same constant to both. The engine's own DAC estimate (``first_audible_ns``) is shown
   too.
2. Barge-in: user speech onset in the microphone (seen on ``micfeed.monitor``) → playback silent
   on ``speaker.monitor``, p50/p95. Engine (local VAD → clear at the next 10 ms callback) vs the
   same VAD decision clearing the naive 50 ms player.
3. Underruns per minute and added latency under simulated bursty arrival jitter 0/40/80/150 ms,
   adaptive jitter buffer vs fixed 40 ms prefill (pure simulation in virtual time).
4. CPU per second of audio for capture + VAD + AEC + playback (% of one core), whole process,
   full engine on the real server with a reply playing and speech in the mic. Baselines, same
   duration: bare streams whose callbacks do nothing — one duplex stream (what the engine opened
   before issue 16) and an input + an output stream (what it opens now) — and the engine on the
   old duplex stream; then the engine with 20 and 30 ms device blocks and process() cadence
   (the wake-ups, not the DSP, are most of the cost); then only listening (speech in the mic, no
   reply) with process() every 10 ms vs every ``listen_period_ms`` (20 ms: the engine's
   ``process_period_ms`` while no reply plays, which the app follows). Stage by stage:
   bench/profile_audio_cpu.py.
5. Duck at once, decide after (issue 16): onset → −20 dB, onset → silent on interruptions,
   backchannels passed out of N, vs today's VAD barge-in on the same clips; false ducks from
   echo per minute (bench/bench_audio_turns.py).
6. Jitter buffer cold start: underruns at 80/150 ms jitter (first reply separately) and added
   delay, vs the buffer without its cold-start prior and a fixed prefill.
7. Under CPU load (two busy processes): underruns, false "device lost" (engine rule vs
   StreamWatchdog on the same ticks), time spent "struggling", speech → VoiceStarted.
8. The interruption monitor on the real rig (hooked after the engine's canceller, as engine.py
   will call it): onset in the mic → speaker −20 dB and silent, backchannels passed.
9. Client end of turn on the shared paused and complete clips (bench/bench_client_turns.py):
   false cuts and end-of-turn latency, semantic at each patience vs the plain 500 ms VAD silence.
10. Duck-and-judge through the wired engine on the real rig (bench/bench_wired_interruptions.py):
   onset → −20 dB, onset → silent, backchannels passed out of N, vs the VAD barge-in; false
   ducks from the reply's echo per minute.
11. Under CPU load (two busy processes started and ended here, bench/bench_audio_load.py), per
   audio-thread priority (normal, nice -10, SCHED_FIFO): underruns, false "device lost",
   "struggling" reports, replies cut when talked over, onset → VoiceStarted and speech end →
   VoiceStopped.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from audio.config import AudioConfig  # noqa: E402
from audio.engine import AudioEngine  # noqa: E402
from audio.events import MicAudio  # noqa: E402
from audio.jitter import JitterBuffer  # noqa: E402
from dsp.pcm import read_wav  # noqa: E402
from dsp.resample import resample  # noqa: E402
from tests.audio.runner import EngineRunner  # noqa: E402
from tests.fixtures.pulse import PulseServer, reinit_portaudio, start_pulse, stop_pulse  # noqa: E402

SPEECH = REPO.parent / "shared" / "media" / "speech"
RATE = 48000
MS = 1_000_000


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 50):6.1f}  p95 {pct(values, 95):6.1f}  max {max(values):6.1f} ms"
        f"  (n={len(values)})"
        if values
        else "no data"
    )


class Monitor:
    """Reads a PulseAudio source with ``parec --raw`` in 5 ms chunks, stamping each on arrival."""

    def __init__(self, server: PulseServer, device: str) -> None:
        self.proc = subprocess.Popen(
            [
                "parec",
                f"--device={device}",
                "--raw",
                f"--rate={RATE}",
                "--channels=1",
                "--format=s16le",
                "--latency-msec=5",
            ],
            env=server.env,
            stdout=subprocess.PIPE,
        )
        # (arrival ns of the chunk's end, samples); bounded so searching stays cheap and this
        # thread never starves the engine thread of the GIL
        self.chunks: deque[tuple[int, np.ndarray]] = deque(maxlen=3000)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            data = self.proc.stdout.read1(480) if hasattr(self.proc.stdout, "read1") else b""
            if not data:
                return
            self.chunks.append((time.monotonic_ns(), np.frombuffer(data, dtype="<i2")))

    def first_loud_after(self, t_ns: int, threshold: int = 500) -> int | None:
        """Time the first sample above ``threshold`` arrived (chunk time minus what followed)."""
        for t, c in list(self.chunks):
            if t < t_ns:
                continue
            idx = np.flatnonzero(np.abs(c) > threshold)
            if idx.size:
                return t - (len(c) - int(idx[0])) * 1_000_000_000 // RATE
        return None

    def first_quiet_after(self, t_ns: int, threshold: int = 200, hold_ms: int = 30) -> int | None:
        """Start of the first run of ``hold_ms`` of near-silence after ``t_ns``."""
        run_start: int | None = None
        quiet = 0
        for t, c in list(self.chunks):
            if t < t_ns:
                continue
            loud = np.flatnonzero(np.abs(c) > threshold)
            if loud.size:
                run_start, quiet = None, 0
                tail = len(c) - int(loud[-1]) - 1
                if tail:
                    run_start = t - tail * 1_000_000_000 // RATE
                    quiet = tail
                continue
            if run_start is None:
                run_start = t - len(c) * 1_000_000_000 // RATE
            quiet += len(c)
            if quiet >= hold_ms * RATE // 1000:
                return run_start
        return None

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=5)


class NaivePlayer:
    """The common-example player: a locked list of chunks, 50 ms blocks, default latency."""

    def __init__(self, block_ms: int = 50) -> None:
        import sounddevice as sd

        self.lock = threading.Lock()
        self.chunks: list[np.ndarray] = []
        self.stream = sd.OutputStream(
            device="pulse",
            samplerate=RATE,
            channels=1,
            dtype="int16",
            blocksize=RATE * block_ms // 1000,
            callback=self._callback,
        )
        self.stream.start()

    def _callback(self, outdata: Any, frames: int, _t: Any, _status: Any) -> None:
        out = np.zeros(frames, dtype=np.int16)
        pos = 0
        with self.lock:
            while pos < frames and self.chunks:
                c = self.chunks[0]
                take = min(frames - pos, len(c))
                out[pos : pos + take] = c[:take]
                pos += take
                if take == len(c):
                    self.chunks.pop(0)
                else:
                    self.chunks[0] = c[take:]
        outdata[:, 0] = out

    def play(self, pcm: np.ndarray) -> None:
        with self.lock:
            self.chunks.append(pcm)

    def clear(self) -> None:
        with self.lock:
            self.chunks.clear()

    def close(self) -> None:
        self.stream.stop()
        self.stream.close()


def tone(ms: int, rate: int, level: float = 0.25, hz: float = 440.0) -> np.ndarray:
    n = rate * ms // 1000
    return (np.sin(2 * np.pi * hz * np.arange(n) / rate) * level * 32767).astype(np.int16)


def engine(**cfg: Any) -> AudioEngine:
    return AudioEngine(AudioConfig(input_device="pulse", output_device="pulse", **cfg))


def wait_quiet(mon: Monitor, s: float = 0.3) -> None:
    time.sleep(s)


# ----------------------------------------------------------------------------- 1
def bench_first_sample(server: PulseServer, trials: int) -> None:
    print("\n1. Reply arrival → first sample at speaker.monitor (ms)")
    mon = Monitor(server, "speaker.monitor")
    reply24 = tone(200, 24000)
    eng_lat, eng_dac = [], []
    with EngineRunner(engine(), period_ms=2) as run:
        run.wait_for(MicAudio)
        time.sleep(1.0)
        for k in range(trials):
            item = f"i{k}"

            def go(item: str = item) -> int:
                t = time.monotonic_ns()
                run.engine.play(item, reply24.tobytes(), 24000)
                run.engine.end_item(item)
                return t

            t0 = run.call(go)
            time.sleep(0.45)
            t1 = mon.first_loud_after(t0)
            dac = run.call(lambda item=item: run.engine.first_audible_ns(item))
            if t1 is not None:
                eng_lat.append((t1 - t0) / MS)
            if dac is not None:
                eng_dac.append((dac - t0) / MS)
        info = run.engine.info
    naive_lat = []
    naive = NaivePlayer()
    reply48 = tone(200, RATE)
    time.sleep(1.0)
    for _ in range(trials):
        t0 = time.monotonic_ns()
        naive.play(reply48)
        time.sleep(0.45)
        t1 = mon.first_loud_after(t0)
        if t1 is not None:
            naive_lat.append((t1 - t0) / MS)
    naive_out = naive.stream.latency
    naive.close()
    mon.close()
    if info is not None:
        print(
            f"   engine stream: {info.sample_rate} Hz, block {info.block_frames} frames, PortAudio "
            f"latency in {info.input_latency_ms:.1f} / out {info.output_latency_ms:.1f} ms"
        )
    print(f"   engine (10 ms blocks)      {summary(eng_lat)}")
    print(f"   engine DAC estimate        {summary(eng_dac)}")
    print(f"   baseline naive 50 ms list  {summary(naive_lat)}")
    print(f"   (naive stream output latency {naive_out * 1000:.0f} ms)")
    if eng_lat and naive_lat:
        print(f"   ratio p50 engine/naive     {pct(eng_lat, 50) / pct(naive_lat, 50):.2f}")


def speech_reply(rate: int, seconds: float) -> np.ndarray:
    """A speech reply (the piper files back to back) over a -30 dBFS tone, so the speaker is never
    silent until cleared, while AEC3 still gets speech as its far end (a pure tone keeps it from
    finding the echo path and it then suppresses the user too)."""
    files = [f"q0{i}_piper.wav" for i in range(1, 9)]
    pcm = b"".join(resample(read_wav(SPEECH / f)[0], 16000, rate) for f in files)
    speech = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    n = int(rate * seconds)
    speech = np.resize(speech, n)
    bed = tone(int(seconds * 1000), rate, level=0.03)[:n].astype(np.float64)
    return np.clip(speech * 0.7 + bed, -32768, 32767).astype(np.int16)


# ----------------------------------------------------------------------------- 3
def simulate(
    jitter_ms: int, adaptive: bool, minutes: float, seed: int
) -> tuple[float, float, float, float]:
    """Replies paced in real time (40 ms chunks), with network stalls: each chunk starts a stall
    of uniform(J/2, J) ms with probability 5 %; chunks due during a stall arrive in one burst at
    its end. The buffer is read in 10 ms blocks. Returns (underruns/min, mean start latency ms,
    mean and p95 of buffer delay ms: when a block played minus when its audio arrived)."""
    from bench.bench_audio_turns import play_bursty_replies

    jb = JitterBuffer(RATE, prefill_ms=40, adaptive=adaptive)
    run = play_bursty_replies(jb, tone(40, RATE), RATE, jitter_ms, minutes, seed)
    delays = run.chunk_delays_ms
    return (
        run.underruns_per_min,
        float(np.mean(run.starts_ms)),
        float(np.mean(delays)),
        pct(delays, 95),
    )


def bench_jitter(minutes: float) -> None:
    print(
        f"\n3. Simulated bursty arrival jitter ({minutes:g} min of replies per cell, 40 ms chunks)"
    )
    print("   buffer delay = when a block played − when its audio arrived (the latency added)")
    print(
        "   jitter |  adaptive: underruns/min  start  delay mean/p95 |  fixed 40 ms prefill: same"
    )
    for j in (0, 40, 80, 150):
        a = simulate(j, True, minutes, seed=j)
        f = simulate(j, False, minutes, seed=j)
        print(
            f"   {j:4d} ms | {a[0]:10.2f} {a[1]:13.1f} {a[2]:7.1f} /{a[3]:6.1f} | "
            f"{f[0]:10.2f} {f[1]:13.1f} {f[2]:7.1f} /{f[3]:6.1f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", default="1,2,3,4,5,6,7,8,9,10,11")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--cpu-seconds", type=float, default=20.0)
    ap.add_argument("--load-seconds", type=float, default=30.0)
    args = ap.parse_args()
    which = {int(x) for x in args.only.split(",")}
    print(f"bench_audio: {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}")
    server = None
    try:
        if which & {1, 2, 4, 7, 8, 10, 11}:
            server = start_pulse(Path(tempfile.mkdtemp(prefix="bench-pulse-")))
            os.environ["PULSE_SERVER"] = server.env["PULSE_SERVER"]
            os.environ["PULSE_RUNTIME_PATH"] = server.env["PULSE_RUNTIME_PATH"]
            reinit_portaudio()
            time.sleep(1.0)
        if 4 in which and server:  # first: later sections leave threads that would count
            from bench.bench_audio_cpu import bench_cpu

            bench_cpu(server, args.cpu_seconds)
        if 1 in which and server:
            bench_first_sample(server, args.trials)
        if 2 in which:
            from bench.bench_barge_in import bench_barge_in, bench_barge_in_virtual

            if server:
                bench_barge_in(server, max(5, args.trials // 2))
            bench_barge_in_virtual()
        if 3 in which:
            bench_jitter(args.minutes)
        from bench.bench_audio_turns import main_sections

        main_sections(which, server, args.minutes, args.load_seconds)
        if 9 in which:
            from bench.bench_client_turns import bench_client_turns

            bench_client_turns()
        if 10 in which and server:
            from bench.bench_wired_interruptions import bench_wired_interruptions

            bench_wired_interruptions(server, args.trials)
        if 11 in which and server:
            from bench.bench_audio_load import bench_load_priority

            bench_load_priority(server, args.load_seconds)
    finally:
        if server is not None:
            stop_pulse(server)


if __name__ == "__main__":
    main()
