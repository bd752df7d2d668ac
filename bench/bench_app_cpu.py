"""Whole-app CPU while listening (figures, not tests): the real ``Assistant`` with the app's
audio engine (``app.compose.build_audio``'s duck-and-judge engine, Whisper tiny loaded on the
first snippet) on the real PulseAudio rig, hands-free, speech fed into the virtual microphone,
against an in-process fake session (no network, no models answering). Baseline in the same
run: the same engine driven by the bench's ``EngineRunner`` at the app's cadence, without the
conversation (``bench/bench_audio_cpu.py``'s "whole process" figure). The difference is what
the conversation's pump costs: feeding ``MicAudio`` and ``Tick`` to the core, performing the
sends.

    .venv/bin/python bench/bench_app_cpu.py --seconds 20
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.pulse import PulseServer, reinit_portaudio, start_pulse, stop_pulse  # noqa: E402

SPEECH = Path("/work/shared/media/speech")


def _feeder(server: PulseServer, stop: threading.Event) -> None:
    files = [SPEECH / f for f in ("q05_piper.wav", "q06_espeak.wav", "q07_piper.wav")]
    k = 0
    while not stop.is_set():
        server.play_to_mic(files[k % len(files)])
        k += 1


def _engine() -> Any:
    from audio.config import AudioConfig
    from audio.engine import AudioEngine
    from dsp.snippet_stt import SnippetTranscriber

    cfg = AudioConfig(input_device="pulse", output_device="pulse")
    return AudioEngine(cfg, judge_interruptions=True, transcriber=SnippetTranscriber())


def _measure(server: PulseServer, seconds: float) -> float:
    """Whole-process CPU % of one core over ``seconds`` with speech in the mic."""
    stop = threading.Event()
    th = threading.Thread(target=_feeder, args=(server, stop), daemon=True)
    th.start()
    time.sleep(1.0)
    c0, w0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    cpu = (time.process_time() - c0) / (time.monotonic() - w0) * 100
    stop.set()
    th.join(timeout=15)
    return cpu


def engine_alone(server: PulseServer, seconds: float) -> float:
    from audio.events import MicAudio
    from tests.audio.runner import EngineRunner

    eng = _engine()
    with EngineRunner(eng, period_ms=eng.config.listen_period_ms) as run:
        run.wait_for(MicAudio)
        return _measure(server, seconds)


def whole_app(server: PulseServer, seconds: float) -> tuple[float, int]:
    """(CPU %, mic blocks sent) with the real Assistant and a fake session."""
    from app.assistant import Assistant
    from app.modes import ConversationOptions, Mode
    from app.state import ConversationState as S
    from realtime.events import AppendAudio
    from tests.app.fakes import FakeSpec

    spec = FakeSpec()
    assistant = Assistant(spec, _engine(), options=ConversationOptions(mode=Mode.HANDS_FREE))
    try:
        assistant.start()
        assert assistant.wait_for(lambda s: s.state == S.LISTENING, 60), "never listening"
        time.sleep(1.0)
        cpu = _measure(server, seconds)
        sent = sum(isinstance(c, AppendAudio) for c in spec.sent)
    finally:
        assistant.close()
    return cpu, sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    print(f"bench_app_cpu: {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}")
    server = start_pulse(Path(tempfile.mkdtemp(prefix="bench-pulse-")))
    os.environ["PULSE_SERVER"] = server.env["PULSE_SERVER"]
    os.environ["PULSE_RUNTIME_PATH"] = server.env["PULSE_RUNTIME_PATH"]
    reinit_portaudio()
    time.sleep(1.0)
    try:
        print(f"listening, speech in the mic, {args.seconds:g} s each, % of one core")
        for r in range(args.rounds):
            base = engine_alone(server, args.seconds)
            app, sent = whole_app(server, args.seconds)
            print(
                f"  round {r + 1}: engine + runner {base:5.2f} %   whole app {app:5.2f} %   "
                f"(the conversation: +{app - base:4.2f} %; {sent} mic blocks sent)"
            )
    finally:
        stop_pulse(server)


if __name__ == "__main__":
    main()
