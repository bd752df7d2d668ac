"""Benchmark the realtime session layer (prints figures; not a pass/fail test).

    .venv/bin/python bench/bench_session.py [--n 200] [--reconnects 30]

All on 127.0.0.1 against the scripted fake OpenAI provider (tests/fakes), real OpenAICore:

1. send overhead: ``RealtimeSession.send(AppendAudio(20 ms))`` → the fake has the message,
   p50/p95/p99, against a baseline measured in the same run: a raw websockets client sending
   the same JSON text to the same server;
2. receive path: fake pushes ``response.output_audio.delta`` (100 ms of PCM) → the app has
   the ``AudioDelta`` event, p50/p95/p99;
3. reconnect: connection lost (fault proxy resets it) → ``Reconnected`` (new socket, session
   confirmed, 2 context turns replayed), backoff delays excluded (base 0), p50/p95.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from websockets.asyncio.client import connect  # noqa: E402

from realtime import openai, openai_endpoint  # noqa: E402
from realtime.events import (  # noqa: E402
    AppendAudio,
    AudioDelta,
    Reconnected,
    SessionConfig,
    SessionReady,
    TranscriptDone,
)
from realtime.reconnect import Backoff, ReconnectingSession  # noqa: E402
from realtime.session import RealtimeSession  # noqa: E402
from tests.fakes.collect import EventCollector  # noqa: E402
from tests.fakes.fake_openai import FakeOpenAI, pcm_tone  # noqa: E402
from tests.fixtures.fault_proxy import FaultProxy  # noqa: E402

KEY = "sk-bench"


def figures(name: str, samples_s: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples_s)
    q = statistics.quantiles(ms, n=100)
    return (
        f"{name:<44} n={len(ms):4d}  p50 {q[49]:7.3f} ms  p95 {q[94]:7.3f} ms  p99 {q[98]:7.3f} ms"
    )


async def bench_send(n: int) -> None:
    pcm = b"\x01\x00" * 480  # 20 ms at 24 kHz
    async with FakeOpenAI(api_key=KEY, validate=False) as fake:
        ep = openai_endpoint.endpoint(KEY, "gpt-realtime", base_url=fake.base_url)
        session = RealtimeSession(openai.OpenAICore(), ep)
        await session.connect(SessionConfig())
        col = EventCollector(session)
        await col.next(SessionReady)
        conn = fake.current
        samples = []
        for _ in range(n):
            before = len(conn.raw)
            t0 = time.perf_counter()
            await session.send(AppendAudio(pcm, 24_000))
            await fake.wait_until(lambda b=before: len(conn.raw) > b)
            samples.append(time.perf_counter() - t0)
        # Baseline: the same bytes over a bare websockets client.
        text = json.dumps(
            {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}
        )
        raw = await connect(
            fake.url, additional_headers=[("Authorization", f"Bearer {KEY}")], proxy=None
        )
        await fake.wait_connections(2)
        conn2 = fake.connections[1]
        base = []
        for _ in range(n):
            before = len(conn2.raw)
            t0 = time.perf_counter()
            await raw.send(text)
            await fake.wait_until(lambda b=before: len(conn2.raw) > b)
            base.append(time.perf_counter() - t0)
        await raw.close()
        print(figures("send AppendAudio(20 ms) -> fake has it", samples))
        print(figures("  baseline: raw websockets send", base))
        print(f"  ratio p50: {statistics.median(samples) / statistics.median(base):.2f}x")

        # Receive path.
        delta = base64.b64encode(pcm_tone(100)).decode()
        recv = []
        for i in range(n):
            t0 = time.perf_counter()
            await fake.push(
                {
                    "type": "response.output_audio.delta",
                    "response_id": "r",
                    "item_id": f"item{i}",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": delta,
                },
                conn,
            )
            await col.next(AudioDelta)
            recv.append(time.perf_counter() - t0)
        print(figures("fake pushes audio delta -> AudioDelta event", recv))
        await session.close()


async def bench_reconnect(n: int) -> None:
    async with FakeOpenAI(api_key=KEY, validate=False) as fake, FaultProxy(fake.url) as proxy:
        ep = openai_endpoint.endpoint(KEY, "gpt-realtime", base_url=proxy.http_url + "/v1")
        rs = ReconnectingSession(
            lambda: RealtimeSession(openai.OpenAICore(), ep),
            backoff=Backoff(base_s=0.0, max_s=0.0, max_attempts=3, rng=random.Random(0)),
            stable_after_s=0.0,  # every drop is a fresh failure, not flapping
        )
        await rs.connect(SessionConfig())
        col = EventCollector(rs)
        await col.next(SessionReady)
        await fake.user_turn("Remember this.")
        await col.next(TranscriptDone)
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            proxy.drop_now()
            ev = await col.next(Reconnected)
            samples.append(time.perf_counter() - t0)
            assert ev.replayed_turns == 2
        print(figures("drop -> Reconnected (2 turns replayed)", samples))
        await rs.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--reconnects", type=int, default=30)
    args = ap.parse_args()
    asyncio.run(bench_send(args.n))
    asyncio.run(bench_reconnect(args.reconnects))


if __name__ == "__main__":
    main()
