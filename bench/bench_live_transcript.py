"""Streaming transcription in the offline server: how early the words arrive, and how soon the
completed transcript follows the turn's end (prints figures; not a test).

    .venv/bin/python bench/bench_live_transcript.py            # ~3 min: every turn clip
    .venv/bin/python bench/bench_live_transcript.py --kinds paused --voices piper

Starts the real ``voicecam-server`` CLI; the official openai SDK streams each shared turn clip
(``turns/turns.json``, kinds ``paused`` and ``complete`` by default) in real time, 20 ms appends,
then 1.5 s of silence, with ``semantic_vad`` (``create_response`` off, so nothing else competes
for the two cores) and input transcription on. Per clip, on the client's clock:

- ``first delta``: from the clip's speech start (``speech_start_ms``) to the first
  ``...input_audio_transcription.delta`` (the first stable words);
- ``words before commit``: the share of the completed transcript's words that arrived as deltas
  before ``input_audio_buffer.committed``;
- ``commit → completed``: from ``input_audio_buffer.committed`` to ``...completed``;
- ``speech end → completed``: from the clip's real end of speech to ``...completed``.

p50/p95 over the clips; for scale, one decode costs ~0.4 s on this machine
(``bench/bench_wer.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from openai import AsyncOpenAI

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dsp.pcm import read_wav  # noqa: E402
from dsp.resample import resample  # noqa: E402
from tests.realtime.local.conftest import start_server  # noqa: E402

TURNS = (REPO.parent / "shared" / "media" / "turns").resolve()
if not TURNS.is_dir():
    TURNS = Path("/work/shared/media/turns")
DELTA = "conversation.item.input_audio_transcription.delta"
COMPLETED = "conversation.item.input_audio_transcription.completed"
CHUNK_MS = 20


def _pct(xs: list[float]) -> str:
    if not xs:
        return "-"
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
    return f"p50 {statistics.median(xs):6.0f}   p95 {p95:6.0f}"


async def one_clip(conn: Any, entry: dict[str, Any]) -> dict[str, float]:
    """Stream one clip in real time; returns its figures (ms, or a share)."""
    pcm16, rate = read_wav(TURNS / entry["file"])
    assert rate == 16000
    pcm = resample(pcm16 + bytes(16000 * 2 * 3 // 2), 16000, 24000)
    step = 24 * 2 * CHUNK_MS
    events: list[tuple[float, dict[str, Any]]] = []
    done = asyncio.Event()

    async def receive() -> None:
        async for ev in conn:
            d = ev.model_dump() if hasattr(ev, "model_dump") else dict(ev)
            events.append((time.monotonic(), d))
            if d["type"] == COMPLETED:
                done.set()
                return

    reader = asyncio.ensure_future(receive())
    t0 = time.monotonic()
    for n, i in enumerate(range(0, len(pcm), step)):
        delay = t0 + n * CHUNK_MS / 1000 - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        await conn.input_audio_buffer.append(audio=base64.b64encode(pcm[i : i + step]).decode())
    await asyncio.wait_for(done.wait(), 60)
    await reader
    at = {d["type"]: t for t, d in reversed(events)}  # first time of each type
    completed = next(d for _t, d in events if d["type"] == COMPLETED)
    deltas = [
        (t, d) for t, d in events if d["type"] == DELTA and d["item_id"] == completed["item_id"]
    ]
    commit_t = at["input_audio_buffer.committed"]
    early = "".join(d["delta"] for t, d in deltas if t < commit_t)
    words = max(1, len(completed["transcript"].split()))
    out = {
        "commit → completed": (at[COMPLETED] - commit_t) * 1000,
        "speech end → completed": (at[COMPLETED] - t0) * 1000 - entry["speech_end_ms"],
        "words before commit": len(early.split()) / words,
    }
    if deltas:
        out["first delta"] = (deltas[0][0] - t0) * 1000 - entry["speech_start_ms"]
    return out


async def run(server: Any, entries: list[dict[str, Any]]) -> list[dict[str, float]]:
    client = AsyncOpenAI(api_key=server.token, base_url=server.base_url)
    results = []
    for entry in entries:
        async with client.realtime.connect(model="voicecam-local") as conn:
            await conn.session.update(
                session={
                    "type": "realtime",
                    "audio": {
                        "input": {
                            "transcription": {"model": "whisper-1", "language": "en"},
                            "turn_detection": {"type": "semantic_vad", "create_response": False},
                        }
                    },
                }
            )
            r = await one_clip(conn, entry)
            print(f"  {entry['file']:22} " + "  ".join(f"{k} {v:.2f}" for k, v in r.items()))
            results.append(r)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", default="paused,complete")
    ap.add_argument("--voices", default="piper,espeak")
    args = ap.parse_args()
    kinds, voices = set(args.kinds.split(",")), set(args.voices.split(","))
    entries = [
        e
        for e in json.loads((TURNS / "turns.json").read_text())
        if e["kind"] in kinds and e["voice"] in voices
    ]
    server = start_server()
    try:
        results = asyncio.run(run(server, entries))
    finally:
        server.stop()
    print(f"\n{len(results)} clips streamed in real time (semantic_vad, transcription on)")
    for key in ("first delta", "commit → completed", "speech end → completed"):
        xs = [r[key] for r in results if key in r]
        print(f"  {key:24} {_pct(xs)} ms   ({len(xs)} clips)")
    shares = [r["words before commit"] for r in results]
    print(f"  {'words before commit':24} mean {statistics.mean(shares):.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
