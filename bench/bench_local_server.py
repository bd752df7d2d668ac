"""Benchmark the embedded offline server (prints figures; not a pass/fail test).

    .venv/bin/python bench/bench_local_server.py [--quick] [--turns 100]

Starts the real ``voicecam-server`` CLI and measures, with the official openai SDK as client:

1. cold start: process start → READY line (and each PROGRESS line);
2. for each shared utterance streamed in real time (20 ms appends) at silence_duration_ms 500
   and 300: end of speech (from utterances.json) → speech_stopped → transcript → first audio
   delta → response.done, p50/p95;
3. response.cancel → response.done(cancelled), p50/p95, against a baseline round trip
   (conversation.item.retrieve → conversation.item.retrieved) measured in the same run;
4. server RSS after warm-up and its growth over ``--turns`` spoken text turns (10 connections).

Targets on the 2-core dev machine: first audio ≤ 1.0 s p50 / ≤ 1.4 s p95 after end of speech at
500 ms; RSS ≤ 900 MB; growth ≤ 20 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from openai import AsyncOpenAI

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dsp.pcm import read_wav  # noqa: E402
from dsp.resample import resample  # noqa: E402

MEDIA = REPO.parent / "shared" / "media"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def line(name: str, values: list[float], unit: str = "s") -> str:
    if not values:
        return f"  {name:<34} n=0"
    return (
        f"  {name:<34} p50 {pct(values, 50):6.3f}{unit}  p95 {pct(values, 95):6.3f}{unit}"
        f"  min {min(values):6.3f}  max {max(values):6.3f}  n={len(values)}"
    )


class Server:
    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(16)
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "realtime.local.server", "--token", self.token],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.progress: list[tuple[float, str]] = []
        self.url = ""
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            t = time.monotonic() - self.t0
            self.progress.append((t, raw.strip()))
            if raw.startswith("VOICECAM-SERVER READY "):
                self.url = raw.split()[-1]
                break
            if raw.startswith("VOICECAM-SERVER ERROR "):
                raise SystemExit(raw)
        self.ready_s = time.monotonic() - self.t0
        threading.Thread(target=lambda: [None for _ in self.proc.stdout or []], daemon=True).start()
        self.port = int(self.url.split(":")[2].split("/")[0])
        self.ps = psutil.Process(self.proc.pid)

    def rss_mb(self) -> float:
        return self.ps.memory_info().rss / 1e6

    def client(self) -> AsyncOpenAI:
        return AsyncOpenAI(api_key=self.token, base_url=f"http://127.0.0.1:{self.port}/v1")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


async def recv(conn: Any, timeout: float = 60) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(conn.recv_bytes(), timeout))


async def until(conn: Any, etype: str) -> list[dict[str, Any]]:
    got = []
    while True:
        ev = await recv(conn)
        got.append(ev)
        if ev["type"] == etype:
            return got


async def image(conn: Any) -> None:
    data = (MEDIA / "video" / "desk.png").read_bytes()
    await conn.conversation.item.create(
        item={
            "type": "message",
            "role": "user",
            "content": [
                {
                    "type": "input_image",
                    "image_url": "data:image/png;base64," + base64.b64encode(data).decode(),
                }
            ],
        }
    )
    await until(conn, "conversation.item.done")


def last_done_after(timeline: list[tuple[float, dict[str, Any]]], index: int) -> bool:
    """A response.created after ``index`` and its response.done have both arrived."""
    if index < 0:
        return False
    created = {e["response"]["id"] for _, e in timeline[index:] if e["type"] == "response.created"}
    done = {e["response"]["id"] for _, e in timeline[index:] if e["type"] == "response.done"}
    return bool(created) and created <= done


def last_turn_marks(timeline: list[tuple[float, dict[str, Any]]]) -> dict[str, float]:
    """Arrival times of the last turn's speech_stopped, transcript, first audio, response.done."""
    commits = [
        i for i, (_, e) in enumerate(timeline) if e["type"] == "input_audio_buffer.committed"
    ]
    if not commits:
        return {}
    item = timeline[commits[-1]][1]["item_id"]
    marks: dict[str, float] = {}
    for t, e in timeline:
        kind = e["type"]
        if kind == "input_audio_buffer.speech_stopped" and e["item_id"] == item:
            marks["speech_stopped"] = t
        elif kind == "conversation.item.input_audio_transcription.completed" and (
            e["item_id"] == item
        ):
            marks["transcript"] = t
    after = timeline[commits[-1] :]
    resp = next((e["response"]["id"] for _, e in after if e["type"] == "response.created"), None)
    for t, e in after:
        if e.get("response_id") == resp and e["type"] == "response.output_audio.delta":
            marks.setdefault("first_audio", t)
        if e["type"] == "response.done" and e["response"]["id"] == resp:
            marks["done"] = t
    return marks


async def spoken_turns(
    server: Server, files: list[dict[str, Any]], silence_ms: int
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {
        k: [] for k in ("speech_stopped", "transcript", "first_audio", "done")
    }
    async with server.client().realtime.connect(model="voicecam-local") as conn:
        await recv(conn)
        await conn.session.update(
            session={
                "type": "realtime",
                "audio": {
                    "input": {
                        "transcription": {"model": "whisper-1"},
                        "turn_detection": {"type": "server_vad", "silence_duration_ms": silence_ms},
                    }
                },
            }
        )
        await until(conn, "session.updated")
        await image(conn)
        for u in files:
            pcm16, _ = read_wav(MEDIA / "speech" / u["file"])
            pcm = resample(pcm16, 16000, 24000)
            step = 48 * 20
            timeline: list[tuple[float, dict[str, Any]]] = []
            state = {"streaming": True}

            async def reader(
                timeline: list[tuple[float, dict[str, Any]]] = timeline,
                state: dict[str, bool] = state,
            ) -> None:
                """Until the stream has ended and the response to its last turn is done (a
                pause inside an utterance may close an extra turn first: only the last counts)."""
                last_commit = -1
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        ev = await recv(conn, 0.8)
                    except TimeoutError:
                        if not state["streaming"] and last_done_after(timeline, last_commit):
                            return
                        continue
                    timeline.append((time.monotonic(), ev))
                    if ev["type"] == "input_audio_buffer.committed":
                        last_commit = len(timeline) - 1
                print(
                    "    !! turn incomplete after 120 s; events:",
                    [e["type"] for _, e in timeline],
                    flush=True,
                )

            task = asyncio.create_task(reader())
            t0 = time.monotonic()
            for n, i in enumerate(range(0, len(pcm), step)):
                delay = t0 + n * 0.02 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await conn.input_audio_buffer.append(
                    audio=base64.b64encode(pcm[i : i + step]).decode()
                )
            state["streaming"] = False
            await task
            end_of_speech = t0 + u["speech_end_ms"] / 1000
            marks = last_turn_marks(timeline)
            turns = sum(1 for _, e in timeline if e["type"] == "input_audio_buffer.committed")
            row = [f"turns={turns}"]
            for k in out:
                if k in marks:
                    out[k].append(marks[k] - end_of_speech)
                    row.append(f"{k}={marks[k] - end_of_speech:+.3f}")
            print(f"    [{silence_ms} ms] {u['file']:<26} " + " ".join(row), flush=True)
    return out


async def cancel_latency(server: Server, trials: int) -> tuple[list[float], list[float], int]:
    cancel, baseline, late = [], [], 0
    async with server.client().realtime.connect(model="voicecam-local") as conn:
        await recv(conn)
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "id": "item_probe",
                "content": [{"type": "input_text", "text": "hello"}],
            }
        )
        await until(conn, "conversation.item.done")
        for _ in range(trials):
            t = time.monotonic()
            await conn.conversation.item.retrieve(item_id="item_probe")
            await until(conn, "conversation.item.retrieved")
            baseline.append(time.monotonic() - t)
            await conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [
                        {
                            "type": "input_text",
                            "text": STORY,
                        }
                    ],
                }
            )
            await until(conn, "conversation.item.done")
            await conn.response.create()
            # Alternate: cancel while it thinks (at response.created) or while it speaks.
            point = "response.created" if len(baseline) % 2 else "response.output_audio.delta"
            await until(conn, point)
            t = time.monotonic()
            await conn.response.cancel()
            got = await until(conn, "response.done")
            if got[-1]["response"]["status"] != "cancelled":
                err = await until(conn, "error")  # finished before the cancel arrived
                del err
                continue
            cancel.append(time.monotonic() - t)
            try:
                extra = await recv(conn, 0.5)
                late += 1
                print("    event after cancel:", extra["type"])
            except TimeoutError:
                pass
    return cancel, baseline, late


STORY = "Tell me a story about a robot who learns to paint, in four sentences."
QUESTIONS = [
    "What is twelve times seven?",
    "Tell me something nice about the sea.",
    "What does the QR code say?",
    "Say hello to Ana.",
    "What time is it?",
]


async def memory_turns(server: Server, turns: int) -> tuple[float, float, float]:
    per_conn = 10
    rss_warm = rss_after = 0.0
    t_start = time.monotonic()
    done = 0
    while done < turns:
        async with server.client().realtime.connect(model="voicecam-local") as conn:
            await recv(conn)
            await image(conn)
            for _ in range(per_conn):
                if done >= turns:
                    break
                await conn.conversation.item.create(
                    item={
                        "type": "message",
                        "role": "user",
                        "content": [
                            {"type": "input_text", "text": QUESTIONS[done % len(QUESTIONS)]}
                        ],
                    }
                )
                await until(conn, "conversation.item.done")
                await conn.response.create()
                await until(conn, "response.done")
                done += 1
                if done == per_conn:
                    rss_warm = server.rss_mb()
    rss_after = server.rss_mb()
    return rss_warm, rss_after, time.monotonic() - t_start


def load_probe() -> str:
    """Machine load baseline for reading the figures: load average and the wall time of a
    fixed single-threaded workload (≈ 0.10 s on an idle core of the dev machine)."""
    t = time.perf_counter()
    x = 0
    for i in range(2_000_000):
        x += i * i % 7
    wall = time.perf_counter() - t
    one, five, _ = os.getloadavg()
    return (
        f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores; probe {wall:.3f} s"
    )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="piper utterances only")
    ap.add_argument("--turns", type=int, default=100)
    ap.add_argument("--cancels", type=int, default=10)
    args = ap.parse_args()
    utts = [
        u for u in json.loads((MEDIA / "speech" / "utterances.json").read_text()) if u.get("text")
    ]
    if args.quick:
        utts = [u for u in utts if u.get("voice") == "piper" and "noise" not in u]

    print("baseline:", load_probe())
    server = Server()
    try:
        print("cold start")
        for t, text in server.progress:
            print(f"  {t:6.2f}s  {text}")
        print(f"  ready after {server.ready_s:.2f} s; RSS at ready {server.rss_mb():.0f} MB")
        results = {}
        for silence in (500, 300):
            print(f"spoken turns, silence_duration_ms={silence} (real-time streaming)")
            results[silence] = await spoken_turns(server, utts, silence)
        for silence, r in results.items():
            print(f"after end of speech, silence_duration_ms={silence}:")
            for k, v in r.items():
                print(line(k, v))
        print(f"cancel ({args.cancels} trials)")
        cancel, baseline, late = await cancel_latency(server, args.cancels)
        print(line("round trip baseline (retrieve)", [b * 1000 for b in baseline], "ms"))
        print(line("response.cancel → response.done", [c * 1000 for c in cancel], "ms"))
        print(f"  events after the cancelled response.done: {late}")
        print(f"memory over {args.turns} spoken text turns (10 per connection)")
        warm, after, secs = await memory_turns(server, args.turns)
        print(
            f"  RSS after 10 turns {warm:.0f} MB, after {args.turns} turns {after:.0f} MB, "
            f"growth {after - warm:+.1f} MB ({secs:.0f} s)"
        )
        print("baseline at the end:", load_probe())
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
