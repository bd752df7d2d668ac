"""GUI benchmarks: launch → window visible, GUI-thread stalls during a session with a camera
preview, whole-app CPU. Prints figures (p50/p95/p99/max) with baselines measured in the same run.

    .venv/bin/python bench/bench_gui.py                 # real assistant + offline server, 120 s
    .venv/bin/python bench/bench_gui.py --fake          # fake assistant (no server), same preview
    .venv/bin/python bench/bench_gui.py --duration 30 --launch-runs 3

Runs under Xvfb (started here on a free display) with Qt's xcb plugin, unless --offscreen.

Session (real): the window on ``AssistantAdapter`` over ``app.assistant.Assistant`` with the
embedded offline server (backend ``local``), ``desk.mp4`` as the camera (``video.file.FileSource``,
paced, looping) and ``app.file_audio.FileAudio`` as the microphone/speaker (a shared question
WAV; no sound card here), plus a typed question every 20 s so replies keep flowing.
Session (--fake): the same window and preview on the test fake assistant with a FileSource
(desk.mp4) frame mailbox, and scripted transcript/meter updates at realistic rates.

Heartbeat: a 10 ms QTimer on the GUI thread; a stall is (gap between ticks − 10 ms).
Baseline: the same heartbeat with the window idle (no session, no preview) first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MEDIA = REPO.parent / "shared" / "media"
sys.path.insert(0, str(REPO))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def fmt(values: list[float], unit: str = "ms") -> str:
    return (
        f"n={len(values)} p50={pct(values, 50):.1f}{unit} p95={pct(values, 95):.1f}{unit} "
        f"p99={pct(values, 99):.1f}{unit} max={max(values, default=float('nan')):.1f}{unit}"
    )


# ----------------------------------------------------------------------------- X server


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    for n in range(91, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            display = f":{n}"
            proc = subprocess.Popen(
                ["Xvfb", display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(100):
                if Path(f"/tmp/.X11-unix/X{n}").exists():
                    return proc, display
                time.sleep(0.05)
            proc.terminate()
    raise RuntimeError("could not start Xvfb")


# ----------------------------------------------------------------------------- launch

LAUNCH_CHILD = r"""
import sys, time
t0 = float(sys.argv[1]); kind = sys.argv[2]
from PySide6.QtCore import QTimer, QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
if kind == "baseline":
    w = QWidget(); w.resize(1100, 720)
else:
    import tempfile
    from PySide6.QtCore import QSettings
    from app.config import Settings
    from app.gui.adapter import AssistantAdapter
    from app.gui.main import build_window
    from app.gui.theme import apply_theme
    apply_theme(app)
    d = tempfile.mkdtemp()
    adapter = AssistantAdapter(Settings())
    w = build_window(adapter, QSettings(d + "/g.ini", QSettings.Format.IniFormat), Settings(),
                     save_settings=None)
class Painted(QObject):
    def eventFilter(self, obj, ev):
        if obj is w and ev.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, lambda: (print("VISIBLE", time.time() - t0, flush=True),
                                          app.quit()))
            obj.removeEventFilter(self)
        return False
f = Painted(); w.installEventFilter(f); w.show(); app.exec()
if kind != "baseline":
    w.close(); adapter.close()
"""


def bench_launch(runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"baseline": [], "voicecam": []}
    for _ in range(runs):
        for kind in ("baseline", "voicecam"):
            t0 = time.time()
            proc = subprocess.run(
                [sys.executable, "-c", LAUNCH_CHILD, repr(t0), kind],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            line = next((x for x in proc.stdout.splitlines() if x.startswith("VISIBLE")), None)
            if line is None:
                print(f"launch {kind} failed: {proc.stderr[-1500:]}", file=sys.stderr)
                continue
            out[kind].append(float(line.split()[1]) * 1000)
    return out


# ----------------------------------------------------------------------------- session

SESSION_CHILD = "bench_gui_session"


def session_child(args: argparse.Namespace) -> int:
    """Runs in a child process (own QApplication): prints heartbeat gaps and CPU figures."""
    import psutil
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.config import Settings
    from app.gui.events import FRAME_MS
    from app.gui.main import build_window
    from app.gui.theme import apply_theme

    app = QApplication([sys.argv[0]])
    apply_theme(app)
    tmp = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    os.environ["VOICECAM_CONFIG_DIR"] = str(tmp / "cfg")
    video = str(MEDIA / "video" / "desk.mp4")
    question = MEDIA / "speech" / "q01_piper.wav"
    settings = Settings(recordings_dir=str(tmp / "rec"), camera=video, backend="local")

    if args.fake:
        from tests.app.gui.fake_assistant import FakeAssistant
        from video.file import FileSource

        assistant = FakeAssistant()
        source = FileSource(video, loop=True)
        source.start()
    else:
        from app.file_audio import FileAudio
        from app.gui.adapter import AssistantAdapter
        from video.file import FileSource

        assistant = AssistantAdapter(
            settings,
            make_audio=lambda s, rate: FileAudio(question, send_rate_hz=rate),
            make_source=lambda spec: FileSource(spec, loop=True),
        )
    qs = QSettings(str(tmp / "g.ini"), QSettings.Format.IniFormat)
    w = build_window(assistant, qs, settings, save_settings=None)
    w.resize(1180, 760)
    w.show()

    proc = psutil.Process()
    gaps: list[float] = []
    clock = QElapsedTimer()
    last = [0.0]

    import collections
    import threading
    import traceback

    main_ident = threading.get_ident()
    last_beat = [time.monotonic()]
    stall_sites: collections.Counter[str] = collections.Counter()
    watching = threading.Event()
    watching.set()

    def watchdog() -> None:
        """Where the GUI thread is when the heartbeat is > 100 ms late (diagnostics)."""
        reported = 0.0
        while watching.is_set():
            time.sleep(0.02)
            late = time.monotonic() - last_beat[0]
            if late > 0.1 and last_beat[0] != reported:
                reported = last_beat[0]
                frame = sys._current_frames().get(main_ident)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-4:]
                    site = " < ".join(
                        f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack)
                    )
                    stall_sites[site] += 1

    threading.Thread(target=watchdog, name="bench-watchdog", daemon=True).start()

    busy: list[float] = []  # GUI-thread CPU ms in each stall > 50 ms
    #: GUI-thread CPU ms between two heartbeats: the stall this process itself causes,
    #: whatever the machine's load (a stall minus the time spent waiting for a core/the GIL).
    work: list[float] = []
    last_cpu = [time.thread_time()]

    def beat() -> None:
        last_beat[0] = time.monotonic()
        now = clock.nsecsElapsed() / 1e6
        cpu = time.thread_time()
        if last[0]:
            gap = max(0.0, now - last[0] - 10.0)
            gaps.append(gap)
            work.append((cpu - last_cpu[0]) * 1000.0)
            if gap > 50:
                busy.append(work[-1])
        last[0] = now
        last_cpu[0] = cpu

    hb = QTimer()
    hb.setInterval(10)
    hb.timeout.connect(beat)

    def run_for(seconds: float) -> None:
        """Run the Qt event loop (as the app does) for ``seconds``."""
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    def cpu_tree() -> tuple[float, float]:
        """(this process, its children) CPU seconds so far."""
        t = proc.cpu_times()
        own = t.user + t.system
        kids = 0.0
        for c in proc.children(recursive=True):
            try:
                ct = c.cpu_times()
                kids += ct.user + ct.system
            except psutil.Error:
                pass
        return own, kids

    # baseline: idle window
    clock.start()
    hb.start()
    c0 = cpu_tree()
    t0 = time.monotonic()
    run_for(args.baseline)
    c1 = cpu_tree()
    base_gaps, gaps[:] = list(gaps), []
    base_busy, busy[:] = list(busy), []
    base_work, work[:] = list(work), []
    base_cpu = (c1[0] - c0[0]) / (time.monotonic() - t0) * 100

    # session
    w.ui.camera_btn.setChecked(True)
    if args.fake:
        from app.model import Frame, Meters, State, Turn

        assistant.emit_state(State.LISTENING)
        seq = [0]

        def feed() -> None:
            f = source.latest()
            if f is not None and f.seq != seq[0]:
                seq[0] = f.seq
                assistant.frame = Frame(f.image, f.t_ns, f.seq)

        t_feed = QTimer()
        t_feed.timeout.connect(feed)
        t_feed.start(15)
        import cv2

        n = [0]

        def script() -> None:
            n[0] += 1
            i = n[0]
            text = "word " * (i % 40)
            assistant.emit_turn(Turn(i // 40, "assistant", text, partial=i % 40 != 39))
            assistant.current_meters = Meters(-30 + (i % 10), -20, 30)
            if i % 20 == 0:
                f = source.latest()
                if f is not None:
                    assistant.emit_frame_sent(cv2.imencode(".jpg", f.image)[1].tobytes())

        t_script = QTimer()
        t_script.timeout.connect(script)
        t_script.start(50)  # 20 transcript deltas/s
    else:
        w.toggle_connection()
        deadline = time.monotonic() + args.connect_timeout
        while time.monotonic() < deadline and w.ui.state_label.text() != "Ready — say something":
            run_for(0.05)
        print(f"connected: {w.ui.state_label.text()!r} after {time.monotonic() - t0:.1f} s")
        gaps[:] = []
        busy[:] = []
        work[:] = []
    c0 = cpu_tree()
    threads0 = {t.id: t.user_time + t.system_time for t in proc.threads()}
    t0 = time.monotonic()
    asked = 0
    questions = [
        "What do you see on my desk?",
        "What colour is the mug?",
        "What does the sign say?",
        "Is there a QR code?",
    ]
    while time.monotonic() - t0 < args.duration:
        if not args.fake and (time.monotonic() - t0) // 20 >= asked:
            assistant.send_text(questions[asked % len(questions)])
            asked += 1
        run_for(0.5)
    c1 = cpu_tree()
    elapsed = time.monotonic() - t0
    threads1 = {t.id: t.user_time + t.system_time for t in proc.threads()}
    names = {t.native_id: t.name for t in threading.enumerate()}
    names[proc.pid] = "GUI (main)"
    per_thread = sorted(
        ((threads1[i] - threads0.get(i, 0.0), names.get(i, f"native {i}")) for i in threads1),
        reverse=True,
    )
    sess_gaps = list(gaps)
    sess_busy = list(busy)
    sess_work = list(work)
    hb.stop()
    turns = w.ui.transcript.turns()
    print(
        f"session: {elapsed:.0f} s, preview frames shown {w.ui.preview.frames_shown}, "
        f"sent-frame thumbnails {w.ui.thumbs.sent_total}, transcript turns {len(turns)}, "
        f"final state {w.ui.state_label.text()!r}"
    )
    print(f"heartbeat stall, idle window (baseline): {fmt(base_gaps)}")
    print(f"heartbeat stall, session + preview:      {fmt(sess_gaps)}")
    print(
        f"stalls > 50 ms: baseline {sum(g > 50 for g in base_gaps)}, "
        f"session {sum(g > 50 for g in sess_gaps)}; > 100 ms: baseline "
        f"{sum(g > 100 for g in base_gaps)}, session {sum(g > 100 for g in sess_gaps)}"
    )
    print(
        f"model events: {w.events.pushed} published, {w.events.deliveries} deliveries to the "
        f"GUI thread ({w.events.deliveries / max(elapsed, 1e-9):.1f}/s; at most one per "
        f"{FRAME_MS} ms frame)"
    )
    print(
        "GUI thread's own CPU during each stall > 50 ms (the rest of the stall is waiting for a "
        f"core or the GIL): baseline {fmt(base_busy)}; session {fmt(sess_busy)}; stalls where "
        f"the GUI thread itself computed > 50 ms: {sum(b > 50 for b in sess_busy)}"
    )
    print(
        "GUI-thread CPU between heartbeats (work stall, independent of the machine's load): "
        f"baseline {fmt(base_work)}; session {fmt(sess_work)}; > 50 ms: "
        f"{sum(x > 50 for x in sess_work)}, > 100 ms: {sum(x > 100 for x in sess_work)}"
    )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print(
        f"CPU (% of one core): idle window {base_cpu:.1f}%; during the session: app "
        f"{(c1[0] - c0[0]) / elapsed * 100:.1f}%, offline server (children) "
        f"{(c1[1] - c0[1]) / elapsed * 100:.1f}%"
    )
    watching.clear()
    print("CPU by thread during the session (% of one core), top 6:")
    for cpu_s, name in per_thread[:6]:
        print(f"  {cpu_s / elapsed * 100:5.1f}%  {name}")
    if stall_sites:
        print("GUI thread location when the heartbeat was > 100 ms late (top 6):")
        for site, n in stall_sites.most_common(6):
            print(f"  {n:4d}× {site}")
    if args.fake:
        t_feed.stop()
        t_script.stop()
    w.close()
    if args.fake:
        source.stop()
    else:
        assistant.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--fake", action="store_true", help="fake assistant instead of the real one")
    p.add_argument("--duration", type=float, default=120.0, help="session seconds (120)")
    p.add_argument("--baseline", type=float, default=10.0, help="idle-window seconds (10)")
    p.add_argument("--launch-runs", type=int, default=5)
    p.add_argument("--connect-timeout", type=float, default=300.0)
    p.add_argument("--offscreen", action="store_true", help="QT_QPA_PLATFORM=offscreen")
    p.add_argument(f"--{SESSION_CHILD}", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if getattr(args, SESSION_CHILD):
        return session_child(args)

    xvfb = None
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if args.offscreen:
        env["QT_QPA_PLATFORM"] = "offscreen"
    else:
        xvfb, display = start_xvfb()
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb")
    try:
        print(
            f"platform: {env['QT_QPA_PLATFORM']}; assistant: "
            f"{'fake + FileSource desk.mp4' if args.fake else 'real (offline server)'}"
        )
        launch = bench_launch(args.launch_runs, env)
        print(f"launch → window painted, bare QWidget (baseline): {fmt(launch['baseline'])}")
        print(f"launch → window painted, VoiceCam:                {fmt(launch['voicecam'])}")
        child = [
            sys.executable,
            __file__,
            f"--{SESSION_CHILD}",
            "--duration",
            str(args.duration),
            "--baseline",
            str(args.baseline),
            "--connect-timeout",
            str(args.connect_timeout),
        ]
        if args.fake:
            child.append("--fake")
        return subprocess.run(child, cwd=REPO, env=env).returncode
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)


if __name__ == "__main__":
    raise SystemExit(main())
