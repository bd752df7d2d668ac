"""Answer evaluation of the offline assistant: does it answer the question that was asked?

    .venv/bin/python bench/eval_answers.py [--mode typed|spoken|both] [--only CATEGORY]
                                           [--set main|heldout] [--llm-url URL [--llm-model M]]

Starts the real ``voicecam-server`` CLI and talks to it with the official openai SDK. Every
case is a short dialogue in a fresh session (setup turns, then the question), optionally with a
camera frame from ``../shared/media/video`` (``desk.png``, or a frame of ``desk.mp4``). Each
question has a check on the answer's transcript (and, for "slower", on the audio length).
Modes: *typed* (``input_text``) and *spoken* (the question synthesized with piper, 16 kHz, sent
as ``input_audio`` push-to-talk through the server's own speech-to-text).

Prints per category and mode the pass rate, every failure with what was heard and answered,
and the routing time (``intent.classify`` p50/p95 over all questions). Targets: ≥ 90 % typed,
≥ 85 % spoken; camera answers never name things that are not in the picture.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
from openai import AsyncOpenAI

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.answer_cases import MEDIA, Case, Context, heldout_cases, main_cases  # noqa: E402
from dsp.resample import resample  # noqa: E402
from realtime.local.intent import classify  # noqa: E402

# --------------------------------------------------------------------------- the server


class Server:
    """The real ``voicecam-server`` CLI on a free port (stdout parsed for READY)."""

    def __init__(self, extra: list[str]) -> None:
        self.token = secrets.token_urlsafe(16)
        cmd = [sys.executable, "-m", "realtime.local.server", "--token", self.token, *extra]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        url = ""
        for raw in self.proc.stdout:
            if raw.startswith("VOICECAM-SERVER READY "):
                url = raw.split()[-1]
                break
            if raw.startswith("VOICECAM-SERVER ERROR "):
                raise SystemExit(raw)
        if not url:
            raise SystemExit("voicecam-server exited before READY")
        threading.Thread(target=lambda: [None for _ in self.proc.stdout or []], daemon=True).start()
        self.port = int(url.split(":")[2].split("/")[0])

    def client(self) -> AsyncOpenAI:
        return AsyncOpenAI(api_key=self.token, base_url=f"http://127.0.0.1:{self.port}/v1")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def frame_jpeg(spec: str) -> bytes:
    if "@" in spec:
        name, at = spec.split("@")
        cap = cv2.VideoCapture(str(MEDIA / "video" / name))
        cap.set(cv2.CAP_PROP_POS_MSEC, float(at) * 1000)
        ok, image = cap.read()
        cap.release()
        if not ok:
            raise SystemExit(f"cannot read {spec}")
    else:
        image = cv2.imread(str(MEDIA / "video" / spec))
    ok, jpg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return jpg.tobytes()


class Voice:
    """Piper (the server's own voice package) speaking the questions, as 24 kHz PCM16."""

    def __init__(self) -> None:
        from realtime.local.models import load_piper

        self.piper = load_piper()
        self.rate = int(self.piper.config.sample_rate)
        self.cache: dict[str, bytes] = {}

    def pcm24k(self, text: str) -> bytes:
        if text not in self.cache:
            pcm = b"".join(c.audio_int16_bytes for c in self.piper.synthesize(text))
            pad = b"\0\0" * (self.rate * 3 // 10)
            self.cache[text] = resample(pad + pcm + pad, self.rate, 24000)
        return self.cache[text]


async def _until(conn: Any, etype: str, seen: list[dict[str, Any]]) -> dict[str, Any]:
    while True:
        ev = json.loads(await asyncio.wait_for(conn.recv_bytes(), 120))
        seen.append(ev)
        if ev["type"] == etype:
            return ev


@dataclass
class Turn:
    heard: str
    answer: str
    audio_bytes: int


async def _turn(conn: Any, text: str, voice: Voice | None) -> Turn:
    seen: list[dict[str, Any]] = []
    if voice is None:
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": text}],
            }
        )
        await _until(conn, "conversation.item.done", seen)
    else:
        pcm = voice.pcm24k(text)
        step = 24000 * 2 // 10
        for i in range(0, len(pcm), step):
            await conn.input_audio_buffer.append(audio=base64.b64encode(pcm[i : i + step]).decode())
        await conn.input_audio_buffer.commit()
        await _until(conn, "input_audio_buffer.committed", seen)
    await conn.response.create()
    await _until(conn, "response.done", seen)
    heard = text
    if voice is not None:
        heard = next(
            (e["transcript"] for e in seen if e["type"].endswith("transcription.completed")), ""
        )
        if not heard:
            ev = await _until(conn, "conversation.item.input_audio_transcription.completed", seen)
            heard = ev["transcript"]
    answer = next(
        (e["transcript"] for e in seen if e["type"] == "response.output_audio_transcript.done"), ""
    )
    audio = sum(
        len(base64.b64decode(e["delta"]))
        for e in seen
        if e["type"] == "response.output_audio.delta"
    )
    return Turn(heard.strip(), answer.strip(), audio)


@dataclass
class Result:
    case: Case
    mode: str
    ok: bool
    heard: str
    answer: str


async def run_case(server: Server, case: Case, voice: Voice | None) -> Result:
    client = server.client()
    async with client.realtime.connect(model="voicecam-local") as conn:
        await _until(conn, "session.created", [])
        session: dict[str, Any] = {
            "type": "realtime",
            "audio": {
                "input": {
                    "transcription": {"model": "whisper-1", "language": "en"},
                    "turn_detection": None,
                }
            },
        }
        await conn.session.update(session=session)
        await _until(conn, "session.updated", [])
        if case.frame:
            url = "data:image/jpeg;base64," + base64.b64encode(frame_jpeg(case.frame)).decode()
            await conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_image", "image_url": url}],
                }
            )
            await _until(conn, "conversation.item.done", [])
        previous: Turn | None = None
        for text in case.setup:
            previous = await _turn(conn, text, voice)
        now = dt.datetime.now()
        last = await _turn(conn, case.question, voice)
    ratio = last.audio_bytes / previous.audio_bytes if previous and previous.audio_bytes else 0.0
    ctx = Context(case.question, previous.answer if previous else "", ratio, now)
    try:
        ok = bool(case.check(last.answer, ctx))
    except Exception:
        ok = False
    return Result(case, "spoken" if voice else "typed", ok, last.heard, last.answer)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def routing_times(cases: list[Case], rounds: int = 50) -> tuple[float, float]:
    times: list[float] = []
    texts = [t for c in cases for t in (*c.setup, c.question)]
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter()
            classify(text)
            times.append((time.perf_counter() - t0) * 1000)
    return pct(times, 50), pct(times, 95)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=("typed", "spoken", "both"), default="both")
    ap.add_argument("--only", default="", help="run one category")
    ap.add_argument(
        "--set",
        choices=("main", "heldout"),
        default="main",
        help="main: the 48 public questions; heldout: 27 wordings not used to tune routing",
    )
    ap.add_argument("--llm-url", default="")
    ap.add_argument("--llm-model", default="")
    args = ap.parse_args()
    chosen = main_cases() if args.set == "main" else heldout_cases()
    cases = [c for c in chosen if not args.only or c.category == args.only]
    extra = ["--llm-url", args.llm_url] if args.llm_url else []
    if args.llm_model:
        extra += ["--llm-model", args.llm_model]
    p50, p95 = routing_times(cases)
    print(f"cases: {len(cases)}; routing (intent.classify): p50 {p50:.3f} ms, p95 {p95:.3f} ms")
    t0 = time.monotonic()
    server = Server(extra)
    print(f"server ready in {time.monotonic() - t0:.1f} s")
    modes = ["typed", "spoken"] if args.mode == "both" else [args.mode]
    voice = Voice() if "spoken" in modes else None
    results: list[Result] = []
    try:
        for mode in modes:
            t1 = time.monotonic()
            for case in cases:
                results.append(await run_case(server, case, voice if mode == "spoken" else None))
            print(f"{mode}: {len(cases)} cases in {time.monotonic() - t1:.1f} s")
    finally:
        server.stop()
    categories = list(dict.fromkeys(c.category for c in cases))
    print(f"\n{'category':<12}" + "".join(f"{m:>16}" for m in modes))
    for cat in [*categories, "ALL"]:
        row = f"{cat:<12}"
        for mode in modes:
            rs = [r for r in results if r.mode == mode and (cat == "ALL" or r.case.category == cat)]
            good = sum(r.ok for r in rs)
            row += f"{good:>6}/{len(rs):<3} {100 * good / max(1, len(rs)):5.1f}%"
        print(row)
    failures = [r for r in results if not r.ok]
    if failures:
        print("\nfailures:")
    for r in failures:
        heard = f" heard {r.heard!r}" if r.mode == "spoken" else ""
        print(f"  [{r.mode} {r.case.category}] {r.case.question!r}{heard} -> {r.answer!r}")


if __name__ == "__main__":
    asyncio.run(main())
