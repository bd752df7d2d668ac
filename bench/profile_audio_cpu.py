"""Where the audio engine's CPU goes, stage by stage, on the real PulseAudio rig (issue 16 item 4).

Runs the engine as ``bench/bench_audio.py`` section 4 does (input + output streams, 10 ms device
blocks, a reply playing, speech fed to the microphone) for ``--seconds``, and measures each stage
with ``time.thread_time_ns`` around it, on the thread that runs it: the PortAudio callbacks, and on
the engine thread ``process()`` → ``Capture.drain`` → echo canceller, the four resamplers, VAD
(webrtcvad gate and Silero apart), the interruption monitor, end-of-turn feeding and the rest.
Prints each stage's share of one core and of the whole process. No pass/fail.

    PYTHONPATH=$PWD .venv/bin/python bench/profile_audio_cpu.py --seconds 20
    PYTHONPATH=$PWD .venv/bin/python bench/profile_audio_cpu.py --judge --period-ms 20

``--judge``: the app's default barge-in (duck and judge: ``InterruptionMonitor`` runs on every
block). The timers themselves cost ~1 µs a call, which lands in "rest".
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from audio.config import AudioConfig  # noqa: E402
from audio.engine import AudioEngine  # noqa: E402
from audio.events import MicAudio  # noqa: E402
from dsp.pcm import read_wav  # noqa: E402
from dsp.resample import resample  # noqa: E402
from tests.audio.runner import EngineRunner  # noqa: E402
from tests.fixtures.pulse import start_pulse, stop_pulse  # noqa: E402

SPEECH = REPO.parent / "shared" / "media" / "speech"

_ns: dict[str, int] = defaultdict(int)
_calls: dict[str, int] = defaultdict(int)
_on = [False]


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its thread CPU time added to stage ``name`` (while measuring)."""

    def wrapper(*a: Any, **kw: Any) -> Any:
        t = time.thread_time_ns()
        try:
            return fn(*a, **kw)
        finally:
            if _on[0]:
                _ns[name] += time.thread_time_ns() - t
                _calls[name] += 1

    return wrapper


def patch_classes() -> None:
    """Stages that exist before the stream opens (class level)."""
    from audio import capture, duplex, split_stream
    from dsp import vad

    stages: list[tuple[str, object, str]] = [
        ("cb: duplex callback (player fill + ring)", duplex.DuplexIO, "callback"),
        ("cb: input callback (total)", split_stream.SplitDuplexStream, "_on_input"),
        ("cb: output callback", split_stream.SplitDuplexStream, "_on_output"),
        ("drain (total)", capture.Capture, "drain"),
        ("drain: _process (total)", capture.Capture, "_process"),
        ("vad: total", vad.StreamingVad, "process"),
        ("vad: silero", vad.SileroWindows, "probability"),
    ]
    for name, cls, attr in stages:
        setattr(cls, attr, timed(name, getattr(cls, attr)))


def patch_instances(eng: AudioEngine) -> None:
    """Per-stream stages (engine thread, after the stream is installed)."""
    cap: Any = eng._capture
    pipe: Any = eng._pipe
    pipe.aec.process = timed("aec: process", pipe.aec.process)
    for attr, label in (
        ("_rs16", "resample: 16 kHz HQ (clean)"),
        ("_rs16_vad", "resample: 16 kHz LQ (clean + raw, VAD)"),
        ("_rs_send", "resample: send rate HQ"),
    ):
        rs = getattr(cap, attr, None)
        for method in ("process", "process_samples"):
            if rs is not None and hasattr(rs, method):
                setattr(rs, method, timed(label, getattr(rs, method)))
    if cap.turns is not None:
        cap.turns.feed = timed("turns: feed", cap.turns.feed)
    if cap.monitor is not None:  # made on first use, before this ran
        cap.monitor.process = timed("monitor: process", cap.monitor.process)
    elif cap._monitor_factory is not None:
        orig = cap._monitor_factory

        def factory(rate: int, player: Any) -> Any:
            m = orig(rate, player)
            m.process = timed("monitor: process", m.process)
            return m

        cap._monitor_factory = factory


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--period-ms", type=int, default=10, help="process() cadence")
    ap.add_argument("--block-ms", type=int, default=10, help="device block")
    ap.add_argument("--judge", action="store_true", help="duck and judge (the app's default)")
    ap.add_argument("--no-reply", action="store_true", help="only listening: nothing plays")
    args = ap.parse_args()
    server = start_pulse(Path(tempfile.mkdtemp(prefix="prof-pulse-")))
    os.environ["PULSE_SERVER"] = server.env["PULSE_SERVER"]
    os.environ["PULSE_RUNTIME_PATH"] = server.env["PULSE_RUNTIME_PATH"]
    try:
        from tests.fixtures.pulse import reinit_portaudio

        reinit_portaudio()
        time.sleep(1.0)
        run_profile(server, args)
    finally:
        stop_pulse(server)


def run_profile(server: Any, args: argparse.Namespace) -> None:
    patch_classes()
    stop = threading.Event()

    def feeder() -> None:
        files = [SPEECH / f for f in ("q05_piper.wav", "q06_espeak.wav", "q07_piper.wav")]
        k = 0
        while not stop.is_set():
            server.play_to_mic(files[k % len(files)])
            k += 1

    reply = np.frombuffer(
        resample(read_wav(SPEECH / "q08_piper.wav")[0], 16000, 24000), dtype=np.int16
    )
    cfg = AudioConfig(
        input_device="pulse",
        output_device="pulse",
        barge_in=args.judge,
        block_ms=args.block_ms,
    )
    eng = AudioEngine(cfg, judge_interruptions=args.judge)
    eng.process = timed("process() (total)", eng.process)  # type: ignore[method-assign]
    th = threading.Thread(target=feeder, daemon=True)
    with EngineRunner(eng, period_ms=args.period_ms) as run:
        run.wait_for(MicAudio)
        run.call(lambda: patch_instances(eng))
        th.start()
        eng_thread: list[int] = []
        for k in range(0 if args.no_reply else int(args.seconds / 4) + 2):
            run.call(lambda k=k: eng.play(f"c{k}", reply.tobytes(), 24000))
        time.sleep(1.0)
        run.call(lambda: eng_thread.append(time.thread_time_ns()))
        _on[0] = True
        c0, w0 = time.process_time(), time.monotonic()
        time.sleep(args.seconds)
        _on[0] = False
        wall = time.monotonic() - w0
        whole = (time.process_time() - c0) / wall * 100
        run.call(lambda: eng_thread.append(time.thread_time_ns()))
    stop.set()
    th.join(timeout=15)
    thread_pct = (eng_thread[1] - eng_thread[0]) / 1e9 / wall * 100
    print(
        f"profile: {args.seconds:g} s, process() every {args.period_ms} ms, "
        f"{args.block_ms} ms blocks, judge={args.judge}, reply={not args.no_reply}, "
        f"load avg {os.getloadavg()[0]:.1f}"
    )
    print(f"  whole process                         {whole:6.2f} % of a core")
    print(f"  engine thread (incl. sleeps, runner)  {thread_pct:6.2f} %")
    derived = dict(_ns)
    inner = sum(v for k, v in _ns.items() if k.startswith(("aec", "resample", "vad: total")))
    inner += _ns.get("monitor: process", 0) + _ns.get("turns: feed", 0)
    derived["drain: ring read + copies"] = _ns["drain (total)"] - _ns["drain: _process (total)"]
    derived["drain: _process rest (gate, events, history, levels)"] = (
        _ns["drain: _process (total)"] - inner
    )
    derived["vad: webrtcvad gate + windowing"] = _ns["vad: total"] - _ns["vad: silero"]
    derived["process(): outside drain (watchdog, events)"] = (
        _ns["process() (total)"] - _ns["drain (total)"]
    )
    derived["cb: input callback excl. duplex callback"] = (
        _ns["cb: input callback (total)"] - _ns["cb: duplex callback (player fill + ring)"]
    )
    for name in sorted(derived):
        v = derived[name]
        pct = v / 1e9 / wall * 100
        n = _calls.get(name, 0)
        per = f"{v / n / 1000:7.1f} µs/call x {n}" if n else ""
        print(f"  {name:52s} {pct:6.2f} %  {per}")


if __name__ == "__main__":
    main()
