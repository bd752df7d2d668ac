"""Long mutation fuzz of the session file reader (``realtime.recording.reader.SessionFile``).

    .venv/bin/python bench/fuzz_session_reader.py [--cases 100000] [--seed 1]

The seed is a complete one-turn session recorded through the real ``SessionRecorder`` (every
table populated). Each case mutates it — at the byte level (overwrite runs with random or
"interesting" bytes, flip bits, truncate, append, duplicate or zero whole pages) or at the SQL
level (a random value of a random type in a random column, a dropped or emptied table, a
changed schema version) — writes it to a tmpfs file and reads everything back (metadata,
duration, wire, turns, latency, usage, marks, frames, both audio tracks, the timeline).

Acceptable outcomes: the file reads, or ``SessionFileError``. Anything else is an unhandled
exception: printed (first 5 with tracebacks) and counted; the exit status is 1 if any.
The bounded CI version of this is ``tests/realtime/recording/test_damaged_files.py``.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.realtime.recording import fuzzing  # noqa: E402

INTERESTING = [
    b"\x00",
    b"\xff",
    b"\x7f",
    b"\x80",
    b"\x00\x00\x00\x00",
    b"\xff\xff\xff\xff",
    b"\x7f\xff\xff\xff\xff\xff\xff\xff",
    b"\x80\x00\x00\x00\x00\x00\x00\x00",
]


def byte_case(rng: random.Random, seed: bytes, page: int) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 6)):
        op = rng.random()
        if not data:
            data += rng.randbytes(rng.randint(0, 200))
            continue
        p = rng.randrange(len(data))
        if op < 0.30:
            data[p : p + 1] = bytes([rng.randrange(256)])
        elif op < 0.45:
            data[p] ^= 1 << rng.randrange(8)
        elif op < 0.60:
            v = rng.choice(INTERESTING)
            data[p : p + len(v)] = v
        elif op < 0.70:
            n = rng.randint(1, 64)
            data[p : p + n] = rng.randbytes(n)
        elif op < 0.78:
            del data[p:]
        elif op < 0.84:
            data += rng.randbytes(rng.randint(1, 300))
        elif op < 0.90:  # zero a whole page
            start = (p // page) * page
            data[start : start + page] = bytes(min(page, len(data) - start))
        elif op < 0.95:  # copy one page over another
            n_pages = max(1, len(data) // page)
            a, b = rng.randrange(n_pages) * page, rng.randrange(n_pages) * page
            data[b : b + page] = data[a : a + page]
        else:  # header fields (page size, counts, schema cookie, ...)
            q = rng.randrange(16, 100)
            if q < len(data):
                data[q] = rng.randrange(256)
    return bytes(data)


def sql_case(rng: random.Random) -> list[tuple[str, str, int, object]]:
    values: list[object] = [
        None,
        0,
        -1,
        1 << 62,
        -(1 << 63),
        2**63 - 1,
        3.5,
        float("nan"),
        float("inf"),
        "",
        "in",
        "out",
        "user",
        "assistant",
        "{",
        "[]",
        "null",
        '"x"',
        "1e999",
        b"",
        b"\x00",
        rng.randbytes(rng.randint(0, 50)),
        "x" * rng.randint(0, 100),
        rng.randint(-(10**12), 10**12),
        rng.random() * 10 ** rng.randint(-5, 20),
        "\ud7ff\u0000",
    ]
    ops: list[tuple[str, str, int, object]] = []
    for _ in range(rng.randint(1, 4)):
        r = rng.random()
        if r < 0.8:
            table = rng.choice(sorted(fuzzing.COLUMNS))
            ops.append(("update", table, rng.randrange(9), rng.choice(values)))
        elif r < 0.88:
            ops.append(("drop", rng.choice(fuzzing.TABLES), 0, None))
        elif r < 0.95:
            ops.append(("delete", rng.choice(fuzzing.TABLES), 0, None))
        else:
            ops.append(("version", "", rng.randint(-2, 5), None))
    return ops


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sql-share", type=float, default=0.3)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        tmpdir = Path(tmp)
        seed = fuzzing.make_seed(tmpdir / "seed.voicecam")
        page = sqlite3.connect(tmpdir / "seed.voicecam").execute("PRAGMA page_size").fetchone()[0]
        print(
            f"seed session: {len(seed)} bytes, page size {page}; {args.cases} cases, "
            f"seed {args.seed}",
            flush=True,
        )
        path = tmpdir / "case.voicecam"
        outcomes: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        unhandled = 0
        t0 = time.perf_counter()
        for i in range(args.cases):
            kind = "sql" if rng.random() < args.sql_share else "bytes"
            kinds[kind] += 1
            try:
                if kind == "sql":
                    fuzzing.apply_sql(path, seed, sql_case(rng))
                else:
                    path.write_bytes(byte_case(rng, seed, page))
                outcomes[fuzzing.run_case(path)] += 1
            except Exception as exc:
                unhandled += 1
                outcomes["UNHANDLED " + type(exc).__name__] += 1
                if unhandled <= 5:
                    print(f"--- case {i} ({kind}): unhandled {type(exc).__name__}: {exc}")
                    traceback.print_exc(limit=6)
            if (i + 1) % 10_000 == 0:
                rate = (i + 1) / (time.perf_counter() - t0)
                print(f"  {i + 1} cases, {rate:.0f}/s, unhandled so far {unhandled}", flush=True)
        elapsed = time.perf_counter() - t0
    print(
        f"cases: {args.cases} ({kinds['bytes']} byte-level, {kinds['sql']} SQL-level) "
        f"in {elapsed:.0f} s ({args.cases / elapsed:.0f}/s)"
    )
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print(f"unhandled exceptions: {unhandled}")
    return 1 if unhandled else 0


if __name__ == "__main__":
    sys.exit(main())
