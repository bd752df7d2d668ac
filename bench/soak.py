"""Soak: a long session against the offline server, a spoken question every 20 s, camera on.

    .venv/bin/python bench/soak.py [--minutes 30] [--every-s 20] [--sample-s 5]

Everything is real: the app's ``LocalServer`` supervisor starts ``voicecam-server`` (real models),
the assistant runs the real ``AudioEngine`` on a private PulseAudio server (its virtual mic is fed
the shared speech questions with ``paplay`` every ``--every-s`` seconds; replies play into a null
sink), the camera is ``video.file.FileSource`` looping ``desk.mp4``, and a ``SessionRecorder``
records the session into a temp folder.

Printed at the end:
- RSS of the app process and of the server child: after the first answered turn (warm) and at the
  end, and the growth (target ≤ 20 MB for the app over 30 minutes);
- underruns: total and bursts (sampling intervals in which the player's underrun counter rose;
  target 0) — the number of intervals sampled is shown;
- thread count over time (min/max/first/last of this process);
- turns: questions asked, replies completed, user/assistant turns found in the recording;
- state errors and reconnects seen.
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MEDIA = ROOT.parent / "shared" / "media"


class Watch:
    def __init__(self) -> None:
        self.states: list[tuple[float, str, str]] = []
        self.notices: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, event: object) -> None:
        """An ``Assistant.subscribe`` listener: the typed model events it watches."""
        from app.model import NoticeChanged, StateChanged

        if isinstance(event, StateChanged):
            self.on_state(event.state, event.message)
        elif isinstance(event, NoticeChanged):
            self.on_notice(event.message)

    def on_state(self, state: Any, message: str) -> None:
        with self.lock:
            self.states.append((time.monotonic(), str(state), message))

    def on_notice(self, message: str) -> None:
        if message:
            with self.lock:
                self.notices.append(message)


def _rss_mb(pid: int | None) -> float | None:
    import psutil

    if pid is None:
        return None
    try:
        return float(psutil.Process(pid).memory_info().rss) / 1e6
    except psutil.Error:
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--every-s", type=float, default=20.0)
    p.add_argument("--sample-s", type=float, default=5.0)
    args = p.parse_args(argv)

    from tests.fixtures.pulse import reinit_portaudio, start_pulse, stop_pulse

    tmp = Path(tempfile.mkdtemp(prefix="voicecam-soak-"))
    pulse = start_pulse(tmp / "pulse")
    os.environ["PULSE_SERVER"] = pulse.env["PULSE_SERVER"]
    os.environ["PULSE_RUNTIME_PATH"] = pulse.env["PULSE_RUNTIME_PATH"]
    reinit_portaudio()

    from app.assistant import Assistant
    from app.backends import resolve
    from app.frames import FrameFeed
    from app.local_server import LocalServer
    from app.modes import ConversationOptions
    from app.state import ConversationState as S
    from audio.config import AudioConfig
    from audio.engine import AudioEngine
    from realtime.recording.reader import SessionFile
    from realtime.recording.writer import SessionRecorder
    from video.file import FileSource

    questions = sorted((MEDIA / "speech").glob("q0*_piper.wav"))
    server = LocalServer(ready_timeout_s=600)
    spec = resolve("local", local_server=server, reconnect=True)
    t_load = time.monotonic()
    spec.prepare(None)
    print(f"offline server ready in {time.monotonic() - t_load:.1f} s", flush=True)
    rec_dir = tmp / "rec"
    rec_dir.mkdir()
    recorder = SessionRecorder(directory=rec_dir, metadata={"backend": "local", "soak": "1"})
    engine = AudioEngine(AudioConfig(send_rate_hz=spec.input_rate_hz))
    frames = FrameFeed(FileSource(MEDIA / "video" / "desk.mp4", loop=True))
    assistant = Assistant(
        spec,
        engine,
        frames,
        ConversationOptions(instructions="Answer in one short sentence."),
        recorder=recorder,
    )
    watch = Watch()
    assistant.subscribe(watch)
    assistant.start()
    if assistant.wait_for(lambda s: s.state == S.LISTENING, 120) is None:
        print("the assistant did not reach listening:", watch.states[-5:])
        return 1

    samples: list[tuple[float, float | None, float | None, int, int]] = []
    asked = 0
    warm: tuple[float | None, float | None] | None = None
    t0 = time.monotonic()
    end = t0 + args.minutes * 60
    next_q = t0 + 2.0
    next_sample = t0
    players: list[subprocess.Popen[bytes]] = []
    try:
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_q:
                wav = questions[asked % len(questions)]
                players.append(
                    subprocess.Popen(
                        ["paplay", "--device=micfeed", str(wav)],
                        env=pulse.env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                asked += 1
                next_q += args.every_s
            if now >= next_sample:
                snap = assistant.snapshot()
                m = engine.meters()
                samples.append(
                    (
                        now - t0,
                        _rss_mb(os.getpid()),
                        _rss_mb(server.pid),
                        threading.active_count(),
                        int(getattr(m, "underruns", 0)),
                    )
                )
                if warm is None and snap.completed_turns >= 1:
                    warm = (samples[-1][1], samples[-1][2])
                next_sample += args.sample_s
            for pl in list(players):
                if pl.poll() is not None:
                    players.remove(pl)
            time.sleep(0.1)
        # let the last reply finish
        assistant.wait_for(lambda s: s.state == S.LISTENING, 60)
        final = assistant.snapshot()
    finally:
        for pl in players:
            if pl.poll() is None:
                pl.terminate()
                pl.wait(5)
        assistant.close()
        recorder.close()
        server.stop()
        stop_pulse(pulse)

    files = [f for f in rec_dir.iterdir() if f.is_file() and not f.name.endswith(("-wal", "-shm"))]
    rec_user = rec_assistant = 0
    for f in files:
        with SessionFile(f, check=False) as sf:
            for t in sf.turns():
                if t.text.strip():
                    rec_user += t.role == "user"
                    rec_assistant += t.role == "assistant"

    minutes = (samples[-1][0] if samples else 0) / 60
    print(f"\nsoak: {minutes:.1f} min, question every {args.every_s:g} s, camera: desk.mp4 loop")
    app_rss = [s[1] for s in samples if s[1] is not None]
    srv_rss = [s[2] for s in samples if s[2] is not None]
    if warm is None:
        warm = (app_rss[0] if app_rss else None, srv_rss[0] if srv_rss else None)
    if app_rss and warm[0] is not None:
        print(
            f"app RSS: start {app_rss[0]:.1f} MB, warm {warm[0]:.1f} MB, end {app_rss[-1]:.1f} MB,"
            f" growth since warm {app_rss[-1] - warm[0]:+.1f} MB (max {max(app_rss):.1f})"
        )
    if srv_rss and warm[1] is not None:
        print(
            f"server RSS: start {srv_rss[0]:.1f} MB, warm {warm[1]:.1f} MB, end {srv_rss[-1]:.1f}"
            f" MB, growth since warm {srv_rss[-1] - warm[1]:+.1f} MB"
        )
    underruns = [s[4] for s in samples]
    bursts = sum(1 for a, b in itertools.pairwise(underruns) if b > a)
    total_ur = (underruns[-1] - underruns[0]) if underruns else 0
    print(
        f"underruns: {total_ur} in {bursts} bursts ({len(samples)} samples of {args.sample_s:g} s)"
    )
    threads = [s[3] for s in samples]
    if threads:
        print(
            f"threads: first {threads[0]}, last {threads[-1]}, min {min(threads)}, "
            f"max {max(threads)}"
        )
        step = max(1, len(samples) // 12)
        print(
            "threads over time: " + ", ".join(f"{s[0] / 60:.1f}m:{s[3]}" for s in samples[::step])
        )
    errors = [m for _, s, m in watch.states if s == str(S.ERROR)]
    reconnects = sum(1 for _, s, _ in watch.states if s == str(S.RECONNECTING))
    print(
        f"turns: asked {asked}, replies completed {final.completed_turns}, recorded user "
        f"{rec_user} / assistant {rec_assistant} (files: {len(files)})"
    )
    print(f"errors: {len(errors)} {errors[:2]}, reconnects: {reconnects}")
    print(f"notices: {watch.notices[:3]}")
    print(f"recording folder: {rec_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
