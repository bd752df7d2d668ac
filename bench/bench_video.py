"""Video pipeline benchmark: per-frame cost at 720p, and CPU for a live preview + model feed.

Run:  .venv/bin/python bench/bench_video.py [--seconds 20] [--frames 240]
      .venv/bin/python bench/bench_video.py --cost [--minutes 10]   (part 3 only)

Part 1 — per-frame cost of read + resize + encode for desk.mp4 (1280×720, H.264):
  read (decode one frame), resize to 768 px (video.encode.resize_max_side; INTER_AREA shown for
  comparison), JPEG q80 with cv2.imencode vs simplejpeg, and the whole encode_frame(). p50/p95/p99
  in CPU ms of this process (wall time on this shared machine mostly measures other people's
  load), with a same-run baseline (a 2.7 MB frame copy) so noisy runs can be compared.

Part 2 — CPU of this process (user+sys, % of one core) while a 30 fps camera runs:
  the camera is the loopback MJPEG server (tests/fixtures/mjpeg.py) in a *separate* process, read
  by video.camera.CameraSource (720p MJPEG decode); a 30 Hz "preview" thread converts the newest
  frame as app/gui/preview.py does (INTER_AREA to a 640×360 widget + QImage copy); VideoFeed
  sends 1 fps to the model (continuous policy, polled every 100 ms). Target: ≤ 8 % of one core.
  Also measured: the same with desk.mp4 through FileSource (H.264 decode), and an idle baseline.

Part 3 (``--cost``) — what the camera costs with each frame policy, over a scripted session:
  a question every 30 s (5 s of speech, an 8 s spoken reply); the camera shows desk.png for
  3 min, qr.png for 2 min, desk.mp4 playing (real motion) for 2 min, then desk.png again, each
  with per-frame sensor noise, offered to the real ``video.pacing.Pacer`` every 200 ms with a
  real ``dhash``. Frames sent, and dollars for the session with the bundled price table —
  every turn re-bills the whole context (``realtime.budget``), so an early frame is paid for
  again on every later turn. Baseline in the same run: the same session without video.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import simplejpeg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from video.camera import CameraSource  # noqa: E402
from video.encode import encode_frame, resize_max_side  # noqa: E402
from video.feed import VideoFeed  # noqa: E402
from video.file import FileSource  # noqa: E402
from video.mjpeg import decode_jpeg  # noqa: E402
from video.pacing import Pacer, PacerConfig, Policy  # noqa: E402
from video.source import ThreadedSource  # noqa: E402

DESK = REPO.parent / "shared" / "media" / "video" / "desk.mp4"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def row(name: str, ms: list[float], base: float | None = None) -> None:
    p50 = pct(ms, 0.5)
    extra = f"  ({p50 / base:5.1f}× baseline)" if base else ""
    print(
        f"  {name:<34} p50 {p50:6.3f}  p95 {pct(ms, 0.95):6.3f}  p99 {pct(ms, 0.99):6.3f} ms{extra}"
    )


def timed(fn: Callable[[], object]) -> float:
    """CPU ms of this process (all threads) for one call: on a shared, loaded machine wall time
    mostly measures other people's work; CPU time measures ours."""
    t = time.process_time()
    fn()
    return (time.process_time() - t) * 1e3


def part1(n_frames: int) -> None:
    print(f"Per-frame cost, desk.mp4 1280×720 → 768×432, q80 ({n_frames} frames)")
    cap = cv2.VideoCapture(str(DESK))
    frames: list[np.ndarray] = []
    read_ms: list[float] = []
    while len(frames) < n_frames:
        t = time.process_time()
        ok, f = cap.read()
        if not ok:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        read_ms.append((time.process_time() - t) * 1e3)
        frames.append(f)
    cap.release()
    base = [timed(lambda f=f: f.copy()) for f in frames]
    b50 = pct(base, 0.5)
    row("baseline: copy one 720p frame", base)
    row("read (H.264 decode)", read_ms, b50)
    resized = []
    rs_ms = []
    for f in frames:
        t = time.process_time()
        resized.append(resize_max_side(f, 768))
        rs_ms.append((time.process_time() - t) * 1e3)
    row("resize 768 (area-int + cubic)", rs_ms, b50)
    area_ms = [
        timed(lambda f=f: cv2.resize(f, (768, 432), interpolation=cv2.INTER_AREA)) for f in frames
    ]
    row("resize 768 INTER_AREA (rejected)", area_ms, b50)
    cv_ms: list[float] = []
    sj_ms: list[float] = []
    for _ in range(3):  # interleaved, so both see the same machine load
        for s in resized:
            cv_ms.append(timed(lambda s=s: cv2.imencode(".jpg", s, [cv2.IMWRITE_JPEG_QUALITY, 80])))
            sj_ms.append(timed(lambda s=s: simplejpeg.encode_jpeg(s, 80, "BGR", "420", True)))
    row("encode cv2.imencode q80", cv_ms, b50)
    row("encode simplejpeg q80 fastdct", sj_ms, b50)
    for backend in ("cv2", "simplejpeg"):
        full = [timed(lambda f=f, b=backend: encode_frame(f, backend=b)) for f in frames]
        row(f"encode_frame() total, {backend}", full, b50)
    total = [r + e for r, e in zip(read_ms, [timed(lambda f=f: encode_frame(f)) for f in frames])]
    row("read + resize + encode (default)", total, b50)
    ratio = statistics.median(cv_ms) / statistics.median(sj_ms)
    print(f"  → cv2/simplejpeg encode time ratio (p50): {ratio:.3f}")
    jpegs = [cv2.imencode(".jpg", f, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes() for f in frames]
    ff = [
        timed(lambda j=j: cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR)) for j in jpegs
    ]
    tj = [timed(lambda j=j: decode_jpeg(j)) for j in jpegs]
    row("decode 720p JPEG cv2.imdecode", ff, b50)
    row("decode 720p JPEG simplejpeg (fast)", tj, b50)
    snap = [timed(lambda f=f: encode_frame(f, 1536, 90)) for f in frames[:60]]
    row("snapshot encode (1280×720 q90)", snap, b50)
    prev_fast = [
        timed(lambda f=f: cv2.resize(f, (640, 360), interpolation=cv2.INTER_AREA).copy())
        for f in frames
    ]
    row("preview 640×360 INTER_AREA (×2 exact)", prev_fast, b50)
    prev_slow = [
        timed(lambda f=f: cv2.resize(f, (600, 337), interpolation=cv2.INTER_AREA).copy())
        for f in frames
    ]
    row("preview 600×337 INTER_AREA (non-int)", prev_slow, b50)
    prev_lin = [
        timed(lambda f=f: cv2.resize(f, (600, 337), interpolation=cv2.INTER_LINEAR).copy())
        for f in frames
    ]
    row("preview 600×337 INTER_LINEAR", prev_lin, b50)
    sizes = [len(encode_frame(f).jpeg) for f in frames[::10]]
    print(f"  JPEG size at defaults: median {statistics.median(sizes) / 1024:.1f} KiB")


def cpu_percent(seconds: float, setup: Callable[[], Callable[[], None]]) -> tuple[float, str]:
    """CPU of this process (all threads) over ``seconds`` after ``setup`` started the load."""
    teardown = setup()
    time.sleep(1.0)  # warm up (open, first frames)
    c0, w0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    c1, w1 = time.process_time(), time.monotonic()
    info = teardown()
    return 100.0 * (c1 - c0) / (w1 - w0), str(info or "")


class Load:
    """Source + 30 Hz preview + 1 fps VideoFeed, each optional."""

    def __init__(self, make_source: Callable[[], ThreadedSource], preview: bool, feed: bool):
        self.make_source, self.preview, self.feed = make_source, preview, feed

    def __call__(self) -> Callable[[], str]:
        src = self.make_source()
        stop = threading.Event()
        stats = {"previews": 0, "sent": 0, "bytes": 0}
        feed = VideoFeed(src, Pacer(PacerConfig(policy=Policy.CONTINUOUS))) if self.feed else None
        if feed is None:
            src.start()

        def preview_loop() -> None:
            last = 0
            next_t = time.monotonic()
            while not stop.is_set():
                f = src.latest()
                if f is not None and f.seq != last:
                    last = f.seq
                    # what app/gui/preview.py does: INTER_AREA to the widget, copy into a
                    # QImage (BGR888) — a 640×360 widget here
                    cv2.resize(f.image, (640, 360), interpolation=cv2.INTER_AREA).copy()
                    stats["previews"] += 1
                next_t += 1 / 30
                stop.wait(max(0.0, next_t - time.monotonic()))

        def feed_loop() -> None:
            assert feed is not None
            while not stop.is_set():
                sent = feed.poll()
                if sent is not None:
                    stats["sent"] += 1
                    stats["bytes"] += len(sent.jpeg)
                stop.wait(0.1)

        threads = []
        if self.preview:
            threads.append(threading.Thread(target=preview_loop, daemon=True))
        if feed is not None:
            threads.append(threading.Thread(target=feed_loop, daemon=True))
        for t in threads:
            t.start()
        t_start = time.monotonic()

        def teardown() -> str:
            fps = src.measured_fps
            elapsed = time.monotonic() - t_start
            stop.set()
            for t in threads:
                t.join()
            if feed is not None:
                feed.close()
            else:
                src.stop()
            return (
                f"source {fps:4.1f} fps, preview {stats['previews'] / elapsed:4.1f}/s, "
                f"model {stats['sent'] / elapsed:4.2f} fps"
            )

        return teardown


def part2(seconds: float) -> None:
    print(f"\nCPU of this process, % of one core, {seconds:g} s each (target ≤ 8 %)")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.fixtures.mjpeg", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http://"):
            raise SystemExit(f"MJPEG server did not start: {url!r}")

        def cam() -> ThreadedSource:
            return CameraSource(url)

        def clip() -> ThreadedSource:
            return FileSource(DESK, loop=True)

        def idle() -> Callable[[], str]:
            return lambda: "sleeping"

        cases: list[tuple[str, Callable[[], Callable[[], str]]]] = [
            ("baseline: idle process", idle),
            ("MJPEG camera 720p30 only", Load(cam, preview=False, feed=False)),
            ("MJPEG camera + 30 fps preview", Load(cam, preview=True, feed=False)),
            ("MJPEG camera + preview + 1 fps model", Load(cam, preview=True, feed=True)),
            ("desk.mp4 (H.264) + preview + 1 fps model", Load(clip, preview=True, feed=True)),
        ]
        for name, setup in cases:
            cpu, info = cpu_percent(seconds, setup)
            print(f"  {name:<42} {cpu:5.1f} %   {info}")
    finally:
        server.terminate()
        server.wait(5)


def part_cost(minutes: float) -> None:
    from app.pricing import bills_every_frame
    from realtime.budget import rates_for
    from realtime.events import Usage
    from realtime.pricing import default_table
    from video.perceptual import dhash

    media = DESK.parent
    desk = cv2.imread(str(media / "desk.png"))
    qr = cv2.imread(str(media / "qr.png"))
    cap = cv2.VideoCapture(str(DESK))
    clip: list[np.ndarray] = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        clip.append(f)
    rng = np.random.default_rng(7)
    noise: dict[tuple[int, ...], list[np.ndarray]] = {}  # a pool of sensor noise per shape

    def view(t_s: float) -> np.ndarray:
        m = t_s / 60
        if m < 3 or m >= 7:
            img = desk
        elif m < 5:
            img = qr
        else:
            img = clip[int(t_s * 30) % len(clip)]
        pool = noise.setdefault(
            img.shape, [rng.normal(0, 3, img.shape).astype(np.float32) for _ in range(16)]
        )
        return np.clip(img + pool[int(rng.integers(16))], 0, 255).astype(np.uint8)

    s_ns, step = 1_000_000_000, 0.2
    duration = minutes * 60
    offers = [(i * step, dhash(view(i * step))) for i in range(int(duration / step))]
    questions = [q for q in range(5, int(duration), 30)]
    table = default_table()
    print(f"\nCamera cost per {minutes:g} min, one question every 30 s ({len(questions)} turns)")
    for provider, model in (("openai", "gpt-realtime"), ("gemini", "gemini-live-2.5-flash")):
        price = table.lookup(model)
        if price is None:
            print(f"  {model}: price unknown")
            continue
        rates = rates_for(provider)
        auto = "change-or-request" if bills_every_frame(provider, model, table) else "on-speech"
        print(f"  {model} (prices as of {table.as_of}; auto policy → {auto})")
        for policy in (None, Policy.ON_SPEECH, Policy.CHANGE_OR_REQUEST):
            frames_per_turn = [0] * len(questions)
            if policy is not None:
                pacer = Pacer(PacerConfig(policy=policy))
                qi = 0
                for seq, (t, fp) in enumerate(offers, start=1):
                    while qi < len(questions) and t >= questions[qi] + 5:
                        pacer.speech_stopped(int((questions[qi] + 5) * s_ns))
                        qi += 1
                    if qi < len(questions) and t >= questions[qi] and not pacer.speaking:
                        pacer.speech_started(int(questions[qi] * s_ns))
                    now = int(t * s_ns)
                    if pacer.offer(now, seq, now, fp).send and qi < len(questions):
                        frames_per_turn[qi] += 1
            usd = 0.0
            context = Usage()
            for n in frames_per_turn:
                audio_in = round(5 * rates.audio_input_per_s)
                audio_out = round(8 * rates.audio_output_per_s)
                images = n * rates.image_tokens
                new_in = Usage(
                    input_tokens=audio_in + images + 40,
                    input_audio_tokens=audio_in,
                    input_image_tokens=images,
                    input_text_tokens=40,
                )
                usage = (
                    context
                    + new_in
                    + Usage(
                        output_tokens=audio_out + 40,
                        output_audio_tokens=audio_out,
                        output_text_tokens=40,
                    )
                )
                usd += price.cost(usage)
                context = (
                    context
                    + new_in
                    + Usage(
                        input_tokens=audio_out + 40,
                        input_audio_tokens=audio_out,
                        input_text_tokens=40,
                    )
                )
            name = "no video (baseline)" if policy is None else str(policy)
            print(f"    {name:<20} {sum(frames_per_turn):4d} frames   ${usd:7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="per CPU case")
    parser.add_argument("--frames", type=int, default=240, help="frames for part 1")
    parser.add_argument("--cv-threads", type=int, default=None, help="cv2.setNumThreads(N)")
    parser.add_argument("--cpu-only", action="store_true", help="skip part 1")
    parser.add_argument("--cost", action="store_true", help="only part 3: camera cost per policy")
    parser.add_argument("--minutes", type=float, default=10.0, help="session length for --cost")
    args = parser.parse_args()
    if args.cost:
        part_cost(args.minutes)
        return
    if args.cv_threads is not None:
        cv2.setNumThreads(args.cv_threads)
    print(f"OpenCV {cv2.__version__}, simplejpeg {simplejpeg.__version__}")
    print(f"cv2 threads {cv2.getNumThreads()}, load average {os.getloadavg()[0]:.1f} (2 cores)")
    if not args.cpu_only:
        part1(args.frames)
    part2(args.seconds)


if __name__ == "__main__":
    main()
