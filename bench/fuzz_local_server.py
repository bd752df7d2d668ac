"""Long mutation fuzz of the offline server's per-message handling (``Connection.handle``).

    .venv/bin/python bench/fuzz_local_server.py [--cases 100000] [--seed 1] [--reset-every 300]

The real ``realtime.local.connection.Connection`` is driven in-process (no socket) with the real
local models (loaded once: Whisper, piper, rapidocr, SmolLM2) and the real shared executor, so
valid turns, images and responses really run. Seeds are valid GA client events of every type
(including image URLs that are file paths, which must be refused); each case mutates one
(replace/delete/retype fields at any depth, damage base64 and data URLs, cut/flip the JSON text,
binary frames, invalid UTF-8, deep nesting) and hands it to ``Connection.handle``. Connections are
long-lived (replaced every ``--reset-every`` cases) so state-dependent paths (active responses,
truncation of real items, VAD turns) are reached.

Checked for every case: no exception escapes ``handle()``; no exception reaches the event loop's
handler from a background task; every reply is an OpenAI-shaped server event (validated with the
official SDK's types, ``tests.realtime.sdk_validators.validate_openai_server``); and the session
keeps running (a sentinel ``conversation.item.retrieve`` after every case must be answered with
an ``error`` event echoing its ``event_id``).

Prints the number of cases, replies (by type), refusals, and the failures (all must be 0):
unhandled exceptions, background exceptions, invalid replies, a session that stopped answering,
and internal errors the server's own safety net turned into ``server_error`` events (a bug
caught, e.g. a handler raising TypeError; the server prints "handler failed on …" on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import io
import json
import random
import re
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fuzz_mutations import Mutator, seed_events  # noqa: E402
from realtime.local.brain import Brain  # noqa: E402
from realtime.local.connection import Connection  # noqa: E402
from realtime.local.models import Models, load_all  # noqa: E402
from tests.realtime.sdk_validators import validate_openai_server  # noqa: E402


class Harness:
    """One in-process ``Connection`` at a time, its replies validated as they are sent.

    Thread: the asyncio loop running ``run``. ``failures`` lists (kind, detail) of every problem.
    """

    def __init__(self, models: Models, executor: concurrent.futures.Executor) -> None:
        self.models = models
        self.brain = Brain(models)
        self.executor = executor
        self.replies: Counter[str] = Counter()
        self.error_codes: Counter[str] = Counter()
        self.failures: list[tuple[str, str]] = []
        self.conn: Connection | None = None
        self._sentinel_answers: set[str] = set()

    async def _send(self, text: str) -> None:
        try:
            event = json.loads(text)
            validate_openai_server(event)
        except Exception as exc:
            self.failures.append(("invalid reply", f"{exc!r}: {text[:300]}"))
            return
        self.replies[event["type"]] += 1
        if event["type"] == "error":
            self.error_codes[str(event["error"].get("code"))] += 1
            if event["error"].get("code") == "server_error":  # the server's safety net
                self.failures.append(("internal error", str(event["error"].get("message"))))
            eid = event["error"].get("event_id")
            if isinstance(eid, str) and eid.startswith("sentinel_"):
                self._sentinel_answers.add(eid)

    def loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        detail = "".join(traceback.format_exception(exc)) if exc else str(context.get("message"))
        self.failures.append(("background exception", detail[-1500:]))

    async def new_connection(self) -> None:
        if self.conn is not None:
            await self.conn.close()
        self.conn = Connection(
            send_text=self._send,
            models=self.models,
            brain=self.brain,
            executor=self.executor,
            model_name="fuzz",
        )
        await self.conn.start()

    async def case(self, n: int, raw: str | bytes) -> None:
        assert self.conn is not None
        try:
            await self.conn.handle(raw)
        except Exception:
            self.failures.append(
                ("unhandled exception", f"{raw[:300]!r}\n{traceback.format_exc()[-2000:]}")
            )
        await asyncio.sleep(0)
        sid = f"sentinel_{n}"
        await self.conn.handle(
            json.dumps({"type": "conversation.item.retrieve", "item_id": sid, "event_id": sid})
        )
        if sid not in self._sentinel_answers:
            self.failures.append(("session stopped answering", f"after {raw[:300]!r}"))
        self._sentinel_answers.discard(sid)


async def run(cases: int, seed: int, reset_every: int, models: Models) -> tuple[Harness, int]:
    rng = random.Random(seed)
    seeds = seed_events(rng)
    mutator = Mutator(rng)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=6, thread_name_prefix="fz")
    h = Harness(models, executor)
    asyncio.get_running_loop().set_exception_handler(h.loop_exception)
    await h.new_connection()
    done = 0
    t0 = time.monotonic()
    for n in range(cases):
        if n and n % reset_every == 0:
            await h.new_connection()
        await h.case(n, mutator.case(rng.choice(seeds)))
        done += 1
        if n % 10000 == 0 and n:
            print(f"  {n} cases, {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
    # Let responses and transcriptions in flight finish (their events are validated too).
    await asyncio.sleep(2.0)
    assert h.conn is not None
    await h.conn.close()
    await asyncio.sleep(0.5)
    executor.shutdown(wait=True, cancel_futures=True)
    return h, done


def _signature(kind: str, detail: str) -> str:
    """A short, stable description of a failure, to group repeats."""
    lines = [ln for ln in detail.splitlines() if ln.strip()]
    if kind == "invalid reply":
        for i, ln in enumerate(lines):
            if ln.startswith("`"):
                return (
                    ln.strip()
                    + " "
                    + (lines[i + 1].strip().split(" [")[0] if i + 1 < len(lines) else "")
                )
        return lines[0][:120] if lines else ""
    where = [ln.strip() for ln in lines if ln.strip().startswith("File ")]
    last = re.sub(r"'[^']*'|\"[^\"]*\"", "…", lines[-1]) if lines else ""
    return (last[:120] if lines else "") + (" @ " + where[-1][-80:] if where else "")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--reset-every", type=int, default=300)
    args = p.parse_args(argv)
    t0 = time.monotonic()
    models = load_all(lambda what: print(f"  {what}", file=sys.stderr), with_llm=True)
    print(f"models loaded in {time.monotonic() - t0:.1f} s", flush=True)
    t1 = time.monotonic()
    h, done = asyncio.run(run(args.cases, args.seed, args.reset_every, models))
    dt = time.monotonic() - t1
    kinds = Counter(kind for kind, _ in h.failures)
    out = io.StringIO()
    print(f"cases: {done} ({done / dt:.0f}/s, {dt:.0f} s)", file=out)
    print(f"replies: {sum(h.replies.values())} events, {len(h.replies)} types", file=out)
    for etype, count in h.replies.most_common():
        print(f"  {etype}: {count}", file=out)
    print("refusals (error codes):", file=out)
    for code, count in h.error_codes.most_common():
        print(f"  {code}: {count}", file=out)
    print(f"unhandled exceptions: {kinds['unhandled exception']}", file=out)
    print(f"background exceptions: {kinds['background exception']}", file=out)
    print(f"invalid replies (not OpenAI-shaped): {kinds['invalid reply']}", file=out)
    print(f"session stopped answering: {kinds['session stopped answering']}", file=out)
    print(
        f"internal errors caught by the server's safety net (server_error): "
        f"{kinds['internal error']}",
        file=out,
    )
    signatures: Counter[tuple[str, str]] = Counter()
    examples: dict[tuple[str, str], str] = {}
    for kind, detail in h.failures:
        sig = (kind, _signature(kind, detail))
        signatures[sig] += 1
        examples.setdefault(sig, detail)
    for (kind, sig), count in signatures.most_common():
        print(f"{kind} x{count}: {sig}", file=out)
    print(out.getvalue(), end="")
    for (kind, sig), detail in examples.items():
        print(f"--- first {kind} ({sig}):\n{detail[-1200:]}\n", file=sys.stderr)
    return 1 if h.failures else 0


if __name__ == "__main__":
    sys.exit(main())
