"""Replay timing through a real (virtual) sound device: does each side come out when it
happened in the original?

    .venv/bin/python bench/bench_replay.py [--runs 5]

Starts a private PulseAudio server (tests/fixtures/pulse.py), records a session with user
bursts (440 Hz) at 0.5 s and 3.0 s and an assistant burst (880 Hz) at 1.8 s, replays it with
``voicecam replay`` while ``parec`` records the speaker, and measures the burst onsets. Prints
the interval errors (heard vs original, ms) p50/p95/max over the runs, and as a baseline the
same measurement for ``paplay`` playing the exact mix as a WAV file (the sound path's own
jitter).
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.replay import ReplayPlan, replay_main  # noqa: E402
from tests.app.test_replay import burst_session, onsets  # noqa: E402
from tests.fixtures.pulse import start_pulse, stop_pulse  # noqa: E402

EXPECTED = (1300.0, 2500.0)  # assistant burst and second user burst after the first (ms)


def measure(server: object, tmp: Path, play: object) -> list[float]:
    rec = server.record(tmp / "heard.wav")  # type: ignore[attr-defined]
    time.sleep(0.4)
    play()  # type: ignore[operator]
    time.sleep(0.4)
    rec.stop()
    with wave.open(str(tmp / "heard.wav")) as w:
        rate = w.getframerate()
        heard = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    found = onsets(heard, rate)
    if len(found) < 3:
        return [float("nan")] * 2
    t0 = found[0][0]
    return [found[1][0] - t0 - EXPECTED[0], found[2][0] - t0 - EXPECTED[1]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        session = tmp / "bursts.voicecam"
        burst_session(session)
        plan = ReplayPlan.load(session)
        mix = plan.stereo.astype(np.int32).sum(axis=1).clip(-32768, 32767).astype("<i2")
        wav = tmp / "mix.wav"
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(plan.rate_hz)
            w.writeframes(mix.tobytes())
        server = start_pulse(tmp / "pulse")
        import os

        os.environ.update(server.env)
        from tests.fixtures.pulse import reinit_portaudio

        reinit_portaudio()
        try:
            replay_err: list[float] = []
            base_err: list[float] = []
            for _ in range(args.runs):
                replay_err += measure(
                    server, tmp, lambda: replay_main([str(session)], out=io.StringIO())
                )
                base_err += measure(
                    server,
                    tmp,
                    lambda: subprocess.run(["paplay", str(wav)], env=server.env, check=True),
                )
        finally:
            stop_pulse(server)

    def fig(errs: list[float]) -> str:
        e = [abs(x) for x in errs if x == x]
        if not e:
            return "no bursts detected"
        q = statistics.quantiles(e, n=20) if len(e) >= 2 else [e[0]] * 19
        return (
            f"p50 {statistics.median(e):.0f} ms, p95 {q[18]:.0f} ms, max {max(e):.0f} ms "
            f"({len(e)} intervals, {len(errs) - len(e)} missed)"
        )

    print(f"voicecam replay, interval error vs original: {fig(replay_err)}")
    print(f"baseline paplay of the same mix:            {fig(base_err)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
