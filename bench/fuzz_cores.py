"""Long mutation fuzz of both protocol cores' receive path.

    .venv/bin/python bench/fuzz_cores.py [--cases 100000] [--seed 1] [--core openai|gemini|both]

Seeds are the golden server streams (``tests/realtime/golden``) plus one minimal message per
OpenAI server event type in the SDK. Each case mutates a seed (replace/delete/retype fields at
any depth, corrupt base64, change the event type, cut or flip bytes of the JSON text, send as a
binary frame, wrap in an array, …) and feeds it to a core. Cores are long-lived (reset every
500 cases) and get random commands in between, so state-dependent paths are exercised too.

Prints, per core: cases run, events produced, ProtocolViolations, unknown types, internal
errors (ProtocolViolation "internal error: …" = a bug caught by the safety net), unhandled
exceptions escaping ``receive()``/``send()`` (must be 0), and throughput.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import time
import traceback
import typing
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.json_mutation import CaseMix, TreeMutator  # noqa: E402
from realtime.events import (  # noqa: E402
    ActivityEnd,
    ActivityStart,
    AppendAudio,
    AppendImage,
    CancelResponse,
    ClearInput,
    Command,
    CommitInput,
    CreateResponse,
    ProtocolViolation,
    SendText,
    SessionConfig,
    Truncate,
    TurnDetection,
)
from realtime.gemini import GeminiCore  # noqa: E402
from realtime.openai import OpenAICore  # noqa: E402

GOLDEN = ROOT / "tests" / "realtime" / "golden"


def _shrink(value: Any) -> Any:
    """Cap long strings (audio) in seeds so each case stays cheap; keep them valid base64."""
    if isinstance(value, dict):
        return {k: _shrink(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shrink(v) for v in value]
    if isinstance(value, str) and len(value) > 400:
        return value[:400]
    return value


def _openai_types() -> list[str]:
    from openai.types.realtime import RealtimeServerEvent

    members = typing.get_args(typing.get_args(RealtimeServerEvent)[0])
    return sorted(typing.get_args(m.model_fields["type"].annotation)[0] for m in members)


def seeds(prefix: str) -> list[dict[str, Any]]:
    out = []
    for path in sorted(GOLDEN.glob(f"{prefix}_*.jsonl")):
        out += [_shrink(json.loads(line)) for line in path.read_text().splitlines()]
    return out


class Mutator(TreeMutator):
    """Damage to a golden server message, for a protocol core's ``receive()``."""

    mix = CaseMix(
        untouched=0.08,
        tree=0.78,
        text=0.93,
        raw_bytes=0.5,
        raw_texts=("", "null", "[]", "1", '"x"', "{" * 2000, "[" * 5000, "{}"),
        binary=0.3,
        bad_utf8=0.05,
    )

    def __init__(self, rng: random.Random, types: list[str], keys: list[str]) -> None:
        super().__init__(rng)
        self.types = types
        self.keys = keys

    def json_value(self, depth: int = 0) -> Any:
        r = self.rng
        kind = r.randrange(12 if depth < 3 else 8)
        if kind == 0:
            return None
        if kind == 1:
            return r.choice([True, False])
        if kind == 2:
            return r.choice([0, -1, 1, 2**31, -(2**63), 10**30, r.randrange(-1000, 100000)])
        if kind == 3:
            return r.choice([0.5, -0.0, 1e308, 1.5, float(r.randrange(100))])
        if kind == 4:
            return "".join(
                r.choice("aZ0 _-=+/\\\"'\u00e9\u4e2d\U0001f600\x00") for _ in range(r.randrange(12))
            )
        if kind == 5:
            return base64.b64encode(r.randbytes(r.randrange(0, 64))).decode()
        if kind == 6:
            return r.choice(self.types)
        if kind == 7:
            return r.choice(["10s", "1.5s", "-3s", "s", "1e9s", "0.0000001s", "99999999999999s"])
        if kind in (8, 9):
            return [self.json_value(depth + 1) for _ in range(r.randrange(4))]
        return {r.choice(self.keys): self.json_value(depth + 1) for _ in range(r.randrange(4))}


def random_command(rng: random.Random, rate_hz: int) -> Command:
    choices: list[Callable[[], Command]] = [
        lambda: AppendAudio(rng.randbytes(rng.choice([0, 2, 960, 4800, 4801])), rate_hz),
        lambda: AppendImage(rng.randbytes(rng.randrange(0, 32))),
        lambda: SendText("hi", respond=rng.random() < 0.5),
        lambda: CommitInput(),
        lambda: ClearInput(),
        lambda: CreateResponse(),
        lambda: CancelResponse(),
        lambda: Truncate(
            rng.choice(["item_A1", "item_A2", "item_1", "x"]), rng.randrange(-5, 3000)
        ),
        lambda: ActivityStart(),
        lambda: ActivityEnd(),
    ]
    return rng.choice(choices)()


def run(name: str, cases: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    if name == "openai":
        seed_msgs = seeds("openai") + [{"type": t, "event_id": "e"} for t in _openai_types()]
        types = [*_openai_types(), "response.audio.delta", "response.text.done", "bogus"]
        keys = sorted({k for m in seed_msgs for k in _all_keys(m)})

        def make() -> Any:
            return OpenAICore(beta=rng.random() < 0.2)

        rate = 24000
    else:
        seed_msgs = seeds("gemini")
        types = ["AUDIO", "TEXT", "ACTIVITY_START", "VAD_SIGNAL_TYPE_SOS", "audio/pcm;rate=24000"]
        keys = sorted({k for m in seed_msgs for k in _all_keys(m)} | {"voiceActivity", "thought"})

        def make() -> Any:
            return GeminiCore()

        rate = 16000
    mutator = Mutator(rng, types, keys)
    stats: Counter[str] = Counter()
    failures: list[str] = []
    core = make()
    t0 = time.perf_counter()
    for i in range(cases):
        if i % 500 == 0:
            stats["unknown"] += core.unknown_count
            core = make()
            mode = rng.choice(["server_vad", "semantic_vad", "none"])
            core.start(SessionConfig(turn_detection=TurnDetection(mode=mode)))
            core.messages()
        if rng.random() < 0.1:
            try:
                core.send(random_command(rng, rate))
            except Exception:
                stats["unhandled_send"] += 1
                failures.append(traceback.format_exc(limit=3))
            core.messages()
        message = mutator.case(rng.choice(seed_msgs))
        try:
            core.receive(message)
        except Exception:
            stats["unhandled"] += 1
            failures.append(traceback.format_exc(limit=3))
            continue
        for event in core.events():
            stats["events"] += 1
            if isinstance(event, ProtocolViolation):
                stats["violations"] += 1
                if event.reason.startswith("internal error"):
                    stats["internal_errors"] += 1
                    failures.append(f"{event.reason}: {event.raw_excerpt}")
                if len(event.raw_excerpt) > 200:
                    stats["long_excerpts"] += 1
        stats["cases"] += 1
    elapsed = time.perf_counter() - t0
    stats["unknown"] += core.unknown_count
    return {"stats": stats, "elapsed": elapsed, "failures": failures}


def _all_keys(value: Any) -> set[str]:
    keys: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            keys.add(k)
            keys |= _all_keys(v)
    elif isinstance(value, list):
        for v in value:
            keys |= _all_keys(v)
    return keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--core", choices=["openai", "gemini", "both"], default="both")
    args = parser.parse_args()
    bad = 0
    for name in ["openai", "gemini"] if args.core == "both" else [args.core]:
        result = run(name, args.cases, args.seed)
        s = result["stats"]
        rate = s["cases"] / result["elapsed"] if result["elapsed"] else 0.0
        print(
            f"{name}: cases={s['cases'] + s['unhandled']} events={s['events']} "
            f"violations={s['violations']} internal_errors={s['internal_errors']} "
            f"unhandled_exceptions={s['unhandled'] + s['unhandled_send']} "
            f"unknown_types={s['unknown']} long_excerpts={s['long_excerpts']} "
            f"time={result['elapsed']:.1f}s ({rate:,.0f} cases/s)"
        )
        for failure in result["failures"][:5]:
            print("  ", failure.strip().replace("\n", "\n   "))
        bad += s["unhandled"] + s["unhandled_send"] + s["internal_errors"] + s["long_excerpts"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
