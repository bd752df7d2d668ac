"""Recording overhead: CPU while recording and MB per minute of conversation, camera on.

    .venv/bin/python bench/bench_recording.py [--seconds 60] [--reply-share 0.5]

Drives a ``SessionRecorder`` in real time with the data of a live OpenAI-protocol session:

* microphone: 20 ms PCM16 chunks at 16 kHz (``record_mic``) and the matching
  ``input_audio_buffer.append`` JSON (24 kHz, base64) as outgoing wire messages;
* assistant (``--reply-share`` of the time): ``response.output_audio.delta`` JSON every 100 ms
  (24 kHz, base64) as incoming wire messages and 20 ms played chunks (``record_playback``);
* camera on: one 768 px JPEG sent to the model per second (plus its ``conversation.item.create``
  message with the base64 image) and one 320 px preview frame per second (desk.mp4 frames).

The same loop runs twice: a baseline without the recorder (building the same messages) and
with it. Prints: process CPU (% of one core) for both, the difference, the writer thread's own
CPU, the caller-side cost of the record calls (p50/p95/p99 µs), bytes on disk and MB/minute.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from realtime.recording.writer import SessionRecorder  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"


def jpegs(side: int, n: int = 10) -> list[bytes]:
    import cv2

    cap = cv2.VideoCapture(str(MEDIA / "video" / "desk.mp4"))
    out: list[bytes] = []
    while len(out) < n:
        ok, img = cap.read()
        if not ok:
            break
        h, w = img.shape[:2]
        s = side / max(h, w)
        img = cv2.resize(img, (int(w * s), int(h * s)))
        out.append(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return out or [b"\xff\xd8" + bytes(30000)]


def thread_cpu_s(native_id: int | None) -> float:
    if native_id is None:
        return 0.0
    import psutil

    for t in psutil.Process().threads():
        if t.id == native_id:
            return float(t.user_time + t.system_time)
    return 0.0


def run(seconds: float, reply_share: float, rec: SessionRecorder | None) -> dict[str, float]:
    rng = np.random.default_rng(1)
    speech16 = (rng.standard_normal(16000 * 2) * 3000).astype(np.int16).tobytes()
    speech24 = (rng.standard_normal(24000 * 2) * 3000).astype(np.int16).tobytes()
    sent, previews = jpegs(768), jpegs(320)
    call_us: list[float] = []
    cpu0, t_start = time.process_time(), time.monotonic()
    tick = 0
    while True:
        target = t_start + tick * 0.02
        now_s = time.monotonic()
        if now_s - t_start >= seconds:
            break
        if target > now_s:
            time.sleep(target - now_s)
        t = time.monotonic_ns()
        sec = tick // 50
        replying = (sec % 10) < reply_share * 10
        off = (tick * 640) % (len(speech16) - 640)
        mic = speech16[off : off + 640]
        up = speech24[(tick * 960) % (len(speech24) - 960) :][:960]
        msg_out = json.dumps(
            {
                "type": "input_audio_buffer.append",
                "event_id": f"e{tick}",
                "audio": base64.b64encode(up).decode(),
            }
        )
        batch: list[tuple[str, tuple[object, ...]]] = [
            ("mic", (mic, 16000, t)),
            ("wire", ("out", msg_out, t)),
        ]
        if replying:
            if tick % 5 == 0:
                delta = speech24[(tick * 960) % (len(speech24) - 4800) :][:4800]
                msg_in = json.dumps(
                    {
                        "type": "response.output_audio.delta",
                        "item_id": "a",
                        "response_id": "r",
                        "output_index": 0,
                        "content_index": 0,
                        "delta": base64.b64encode(delta).decode(),
                    }
                )
                batch.append(("wire", ("in", msg_in, t)))
            batch.append(("play", ("a", up, 24000, (tick % 500) * 20, t)))
        if tick % 50 == 0:
            jpeg = sent[sec % len(sent)]
            item = json.dumps(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [
                            {
                                "type": "input_image",
                                "image_url": "data:image/jpeg;base64,"
                                + base64.b64encode(jpeg).decode(),
                            }
                        ],
                    },
                }
            )
            batch += [
                ("frame", (jpeg, t, True, "tick")),
                ("wire", ("out", item, t)),
                ("frame", (previews[sec % len(previews)], t, False, "preview")),
            ]
        if rec is not None:
            for kind, args in batch:
                c0 = time.perf_counter()
                if kind == "mic":
                    rec.record_mic(*args)  # type: ignore[arg-type]
                elif kind == "wire":
                    rec.on_wire(*args)  # type: ignore[arg-type]
                elif kind == "play":
                    rec.record_playback(*args)  # type: ignore[arg-type]
                else:
                    rec.record_frame(*args)  # type: ignore[arg-type]
                call_us.append((time.perf_counter() - c0) * 1e6)
        tick += 1
    wall = time.monotonic() - t_start
    cpu = time.process_time() - cpu0
    q = statistics.quantiles(call_us, n=100) if len(call_us) > 100 else [0.0] * 99
    return {
        "wall": wall,
        "cpu": cpu,
        "p50": q[49],
        "p95": q[94],
        "p99": q[98],
        "calls": float(len(call_us)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--reply-share", type=float, default=0.5)
    args = ap.parse_args()
    base = run(args.seconds, args.reply_share, None)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.voicecam"
        rec = SessionRecorder(path, metadata={"backend": "openai", "model": "gpt-realtime"})
        writer = next(t for t in threading.enumerate() if t.name == "voicecam-recorder")
        w0 = thread_cpu_s(writer.native_id)
        res = run(args.seconds, args.reply_share, rec)
        w1 = thread_cpu_s(writer.native_id)
        c0 = time.process_time()
        status = rec.close()
        close_cpu = time.process_time() - c0
        size = path.stat().st_size
    minutes = res["wall"] / 60
    print(
        f"recording {args.seconds:.0f} s of conversation in real time, camera on "
        f"(1 sent 768 px + 1 preview 320 px frame/s), assistant speaking "
        f"{args.reply_share:.0%} of the time; state {status.state}"
    )
    print(f"baseline (same loop, no recorder): CPU {base['cpu'] / base['wall']:.1%} of one core")
    print(
        f"with recorder:                     CPU {res['cpu'] / res['wall']:.1%} of one core "
        f"(+{(res['cpu'] / res['wall'] - base['cpu'] / base['wall']):.1%})"
    )
    print(
        f"writer thread alone:               CPU {(w1 - w0) / res['wall']:.1%} of one core; "
        f"final close/checkpoint {close_cpu * 1000:.0f} ms CPU"
    )
    print(
        f"record_* call on the caller's thread: p50 {res['p50']:.1f} µs, p95 {res['p95']:.1f} "
        f"µs, p99 {res['p99']:.1f} µs over {res['calls']:.0f} calls"
    )
    print(
        f"file: {size / 1e6:.1f} MB for {res['wall']:.0f} s → {size / 1e6 / minutes:.1f} MB per "
        f"minute"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
