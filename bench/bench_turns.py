"""Benchmark turn-taking in the offline server (prints figures; not a pass/fail test).

    .venv/bin/python bench/bench_turns.py [--kinds paused,complete] [--eagerness auto]

Starts the real ``voicecam-server`` CLI; the official openai SDK streams every shared turn clip
(``../shared/media/turns/turns.json``) in real time (20 ms appends, then silence like a live
microphone until the reply is done), one fresh connection per clip, twice in the same run:
with ``semantic_vad`` and with ``server_vad`` at 500 ms (the baseline).

Prints per clip the turns it was cut into (and where), and per mode and kind:
- false cuts: paused clips whose turn ended inside the hesitation (a commit whose speech ended
  before the pause did);
- from the real end of speech (``speech_end_ms``) to turn end (``input_audio_buffer.committed``)
  → transcript (``...transcription.completed``) → first audio (``response.output_audio.delta``)
  → done (``response.done``), p50/p95;
- where the time went (the server's ``realtime.local.stage_log`` marks of the last turn, in
  seconds after the real end of speech): silence began (speculative decode started), its
  Whisper decode's start (after ``spec_wait``: Whisper busy, e.g. with a streaming re-decode)
  and end, the last checkpoint asked, Smart Turn's answer, the judged words, their score, the
  commit, the reply's request built, the first text piece, the first sentence, its speech.

Targets on the 2-core machine: false cuts ≤ 1 of 16; complete questions first audio ≤ 0.7 s p50,
≤ 1.1 s p95; paused questions first audio ≤ 0.9 s p50 after their real end. The machine's load
average is printed before and after (other jobs share the cores).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_local_server import Server, line, recv  # noqa: E402
from dsp.pcm import read_wav  # noqa: E402
from dsp.resample import resample  # noqa: E402

TURNS = REPO.parent / "shared" / "media" / "turns"
STEP_MS = 20
MARKS = ("turn_end", "transcript", "first_audio", "done")
#: Server stage marks of the last turn (``realtime.local.stage_log``), in turn order.
STAGES = (
    "silence",
    "spec_start",
    "spec_done",
    "ask",
    "acoustic",
    "words",
    "scored",
    "judged",
    "commit",
    "context",
    "first_piece",
    "first_sentence",
    "tts_done",
)
STAGE_LOG = Path(tempfile.gettempdir()) / f"bench_turns_stages_{os.getpid()}.jsonl"


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()
    except OSError:
        return "?"


def turn_detection(mode: str, eagerness: str) -> dict[str, Any]:
    if mode == "semantic_vad":
        return {"type": "semantic_vad", "eagerness": eagerness}
    return {"type": "server_vad", "silence_duration_ms": 500}


async def one_clip(
    server: Server, entry: dict[str, Any], detection: dict[str, Any]
) -> dict[str, Any]:
    """Stream one clip in real time on a fresh connection; returns its timeline's marks."""
    pcm16, rate = read_wav(TURNS / entry["file"])
    assert rate == 16000
    pcm = resample(pcm16, 16000, 24000)
    step = 48 * STEP_MS
    silence = bytes(step)
    timeline: list[tuple[float, dict[str, Any]]] = []
    log_from = STAGE_LOG.stat().st_size if STAGE_LOG.exists() else 0
    async with server.client().realtime.connect(model="voicecam-local") as conn:
        await recv(conn)
        await conn.session.update(
            session={
                "type": "realtime",
                "audio": {
                    "input": {
                        "transcription": {"model": "whisper-1"},
                        "turn_detection": detection,
                    }
                },
            }
        )
        while (await recv(conn))["type"] != "session.updated":
            pass
        done = asyncio.Event()

        async def reader() -> None:
            open_ids: set[str] = set()
            while True:
                ev = await recv(conn, 120)
                timeline.append((time.monotonic(), ev))
                if ev["type"] == "response.created":
                    open_ids.add(ev["response"]["id"])
                elif ev["type"] == "response.done":
                    open_ids.discard(ev["response"]["id"])
                    if not open_ids:
                        done.set()
                elif ev["type"] == "input_audio_buffer.speech_started":
                    done.clear()

        task = asyncio.create_task(reader())
        t0 = time.monotonic()
        n = 0
        clip_chunks = (len(pcm) + step - 1) // step
        # After the clip, keep sending silence (a live microphone) until the reply is done
        # and 1 s has passed without a new turn, at most 8 s.
        while True:
            delay = t0 + n * STEP_MS / 1000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            chunk = pcm[n * step : (n + 1) * step] if n < clip_chunks else silence
            await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
            n += 1
            tail_s = (n - clip_chunks) * STEP_MS / 1000
            if n >= clip_chunks and (tail_s > 8 or (done.is_set() and tail_s > 1.0)):
                break
        if not done.is_set():
            try:
                await asyncio.wait_for(done.wait(), 60)
            except TimeoutError:
                print(f"    !! {entry['file']}: no response.done", flush=True)
        task.cancel()
    marks = marks_of(entry, timeline, t0)
    marks.update(stages_of(read_stages(log_from), t0 + entry["speech_end_ms"] / 1000))
    return marks


def read_stages(offset: int) -> list[dict[str, Any]]:
    """The server's stage marks written since ``offset`` (bytes into the stage log)."""
    if not STAGE_LOG.exists():
        return []
    with STAGE_LOG.open(encoding="utf-8") as f:
        f.seek(offset)
        return [json.loads(raw) for raw in f if raw.strip()]


def stages_of(marks: list[dict[str, Any]], end: float) -> dict[str, Any]:
    """Each stage of the last committed turn, in seconds after ``end`` (the real end of speech);
    ``spec_wait`` is how long its speculative decode waited for Whisper (s), ``live_after`` when
    the last streaming re-decode ended (s after ``end``, if it ended after silence began)."""
    commits = [m for m in marks if m["stage"] == "commit"]
    if not commits:
        return {}
    t_commit = commits[-1]["t"]
    before = [m for m in marks if m["t"] <= t_commit]
    after = [m for m in marks if m["t"] >= t_commit]

    def last(stage: str, among: list[dict[str, Any]]) -> dict[str, Any] | None:
        hits = [m for m in among if m["stage"] == stage]
        return hits[-1] if hits else None

    def first(stage: str, among: list[dict[str, Any]]) -> dict[str, Any] | None:
        return next((m for m in among if m["stage"] == stage), None)

    out: dict[str, Any] = {"commit": t_commit - end}
    ask = last("ask", before)
    silence = last("silence", [m for m in before if ask is None or m["t"] <= ask["t"]])
    if silence is not None:
        out["silence"] = silence["t"] - end
        since = [m for m in before if m["t"] >= silence["t"]]
        spec = first("stt_start", since)
        if spec is not None:
            out["spec_start"] = spec["t"] - end
            out["spec_wait"] = spec["wait_ms"] / 1000
            done = first("stt_done", [m for m in since if m["t"] >= spec["t"]])
            if done is not None:
                out["spec_done"] = done["t"] - end
        live = last("live_done", since)
        if live is not None:
            out["live_after"] = live["t"] - end
    if ask is not None:
        out["ask"] = ask["t"] - end
        judging = [m for m in before if m["t"] >= ask["t"]]
        for stage in ("acoustic", "words", "scored", "judged"):
            hit = last(stage, judging)
            if hit is not None:
                out[stage] = hit["t"] - end
    for stage in ("context", "first_piece", "first_sentence", "tts_done"):
        hit = first(stage, after)
        if hit is not None:
            out[stage] = hit["t"] - end
    return out


def marks_of(
    entry: dict[str, Any], timeline: list[tuple[float, dict[str, Any]]], t0: float
) -> dict[str, Any]:
    """Turns (speech end ms of each commit) and the last turn's times after the real end."""
    stopped: dict[str, int] = {}
    commits: list[tuple[float, str]] = []
    heard: dict[str, str] = {}
    for t, e in timeline:
        if e["type"] == "input_audio_buffer.speech_stopped":
            stopped[e["item_id"]] = int(e["audio_end_ms"])
        elif e["type"] == "input_audio_buffer.committed":
            commits.append((t, e["item_id"]))
        elif e["type"] == "conversation.item.input_audio_transcription.completed":
            heard[e["item_id"]] = e["transcript"]
    out: dict[str, Any] = {
        "cuts": [stopped.get(item, -1) for _, item in commits],
        "heard": [heard.get(item, "?") for _, item in commits],
    }
    if not commits:
        return out
    end = t0 + entry["speech_end_ms"] / 1000
    t_commit, item = commits[-1]
    out["turn_end"] = t_commit - end
    resp = None
    for t, e in timeline:
        if t < t_commit:
            continue
        if e["type"] == "conversation.item.input_audio_transcription.completed" and (
            e["item_id"] == item
        ):
            out["transcript"] = t - end
        elif e["type"] == "response.created" and resp is None:
            resp = e["response"]["id"]
        elif e["type"] == "response.output_audio.delta" and e.get("response_id") == resp:
            out.setdefault("first_audio", t - end)
        elif e["type"] == "response.done" and e["response"]["id"] == resp:
            out["done"] = t - end
    return out


def false_cut(entry: dict[str, Any], marks: dict[str, Any]) -> bool:
    """The turn ended inside the hesitation: a commit whose speech ended before the pause did."""
    return entry["kind"] == "paused" and any(
        0 <= cut < entry["pause_end_ms"] for cut in marks["cuts"]
    )


async def run_mode(
    server: Server, entries: list[dict[str, Any]], mode: str, eagerness: str
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for entry in entries:
        marks = await one_clip(server, entry, turn_detection(mode, eagerness))
        results[entry["file"]] = marks
        times = " ".join(f"{k}={marks[k]:+.2f}" for k in MARKS if k in marks)
        stages = " ".join(
            f"{k}={marks[k]:+.2f}" for k in (*STAGES, "spec_wait", "live_after") if k in marks
        )
        flag = "  FALSE CUT" if false_cut(entry, marks) else ""
        print(
            f"  [{mode}] {entry['file']:<24} cuts at {marks['cuts']} ms {times}{flag}\n"
            f"      stages {stages}\n      heard {marks['heard']}",
            flush=True,
        )
    return results


def summary(entries: list[dict[str, Any]], results: dict[str, dict[str, Any]], mode: str) -> None:
    print(f"\n== {mode}")
    for kind in sorted({e["kind"] for e in entries}):
        group = [e for e in entries if e["kind"] == kind]
        if kind == "paused":
            cuts = sum(false_cut(e, results[e["file"]]) for e in group)
            print(f"  paused: false cuts {cuts} of {len(group)}")
        print(f"  {kind} (n={len(group)}), seconds after the real end of speech:")
        for k in MARKS:
            print(line(k, [results[e["file"]][k] for e in group if k in results[e["file"]]]))
        print("    where the time went (server stage marks of the last turn):")
        for k in (*STAGES, "spec_wait", "live_after"):
            print(line(k, [results[e["file"]][k] for e in group if k in results[e["file"]]]))


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kinds", default="paused,complete,backchannel,interrupt")
    ap.add_argument("--eagerness", default="auto")
    ap.add_argument("--modes", default="semantic_vad,server_vad")
    args = ap.parse_args()
    kinds = args.kinds.split(",")
    entries = [e for e in json.loads((TURNS / "turns.json").read_text()) if e["kind"] in kinds]
    print(f"load average before: {loadavg()}", flush=True)
    os.environ["VOICECAM_STAGE_LOG"] = str(STAGE_LOG)  # the server inherits it
    server = Server()
    print(f"server ready in {server.ready_s:.1f} s; {len(entries)} clips", flush=True)
    try:
        await one_clip(server, entries[0], turn_detection("semantic_vad", args.eagerness))  # warm
        all_results = {}
        for mode in args.modes.split(","):
            all_results[mode] = await run_mode(server, entries, mode, args.eagerness)
        for mode, results in all_results.items():
            summary(entries, results, mode)
    finally:
        server.stop()
        STAGE_LOG.unlink(missing_ok=True)
    print(f"\nload average after: {loadavg()}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
