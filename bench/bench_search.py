"""Search every session: query time over 1,000 recorded sessions (target ≤ 50 ms per query).

    PYTHONPATH=$PWD python bench/bench_search.py [--sessions 1000] [--turns 40]

Builds ``--sessions`` real session files in a temporary folder: one is recorded through
``SessionRecorder``, the rest are copies whose turns get different text (Zipf-distributed
words from a 6,000-word vocabulary, 6–30 words a turn). Then ``SearchIndex.open`` builds the
FTS5 index from the files (the "rebuilt if missing" path, timed), and each query kind runs 30
times: p50/p95 in ms. Baseline in the same process: the same texts in a plain SQLite table
searched with ``LIKE '%word%'`` (what a search without an index costs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from realtime.recording.search import SearchIndex
from realtime.recording.writer import SessionRecorder

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "de", "ba", "po", "gu", "fe", "zi"]


def vocabulary(n: int, rng: np.random.Generator) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        k = int(rng.integers(2, 5))
        words.add("".join(SYLLABLES[int(i)] for i in rng.integers(0, len(SYLLABLES), k)))
    return sorted(words)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--turns", type=int, default=40)
    args = ap.parse_args()
    rng = np.random.default_rng(15)
    vocab = vocabulary(6000, rng)
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()

    def sentence() -> str:
        return " ".join(
            vocab[int(i)] for i in rng.choice(len(vocab), rng.integers(6, 31), p=weights)
        )

    folder = Path(tempfile.mkdtemp(prefix="bench_search_"))
    try:
        t0 = time.perf_counter()
        now = [1_000_000_000]
        template = folder / "s0000.voicecam"
        rec = SessionRecorder(template, metadata={"backend": "local"}, clock=lambda: now[0])
        for k in range(args.turns):
            now[0] += 2_000_000_000
            rec.record_turn("user" if k % 2 == 0 else "assistant", "x", now[0], t_start_ns=now[0])
        rec.close()
        texts: list[str] = []
        for s in range(args.sessions):
            p = folder / f"s{s:04d}.voicecam"
            if s:
                shutil.copy(template, p)
            conn = sqlite3.connect(p)
            ids = [r[0] for r in conn.execute("SELECT id FROM turns")]
            rows = [(sentence(), i) for i in ids]
            texts += [r[0] for r in rows]
            conn.executemany("UPDATE turns SET text = ? WHERE id = ?", rows)
            conn.commit()
            conn.close()
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = SearchIndex.open(folder)
        t_index = time.perf_counter() - t0
        n_sessions, n_turns = index.count()
        print(
            f"{n_sessions} sessions, {n_turns} turns; files built in {t_build:.1f} s, "
            f"index built from the files in {t_index:.1f} s "
            f"({(folder / 'search-index.sqlite3').stat().st_size / 1e6:.1f} MB)"
        )

        plain = sqlite3.connect(":memory:")
        plain.execute("CREATE TABLE t(text TEXT)")
        plain.executemany("INSERT INTO t VALUES (?)", [(x,) for x in texts])

        common, mid, rare = vocab[0], vocab[200], vocab[5000]
        queries = {
            "common word": common,
            "mid word": mid,
            "rare word": rare,
            "two words": f"{mid} {vocab[300]}",
            "prefix": vocab[1000][:4],
            "long prefix": vocab[0] + vocab[1][:1],
            "phrase": f'"{vocab[1]} {vocab[2]}"',
            "no hit": "zzzzqq",
        }
        print(f"{'query':<12} {'hits':>5} {'p50 ms':>8} {'p95 ms':>8}   baseline LIKE p50 ms")
        for name, q in queries.items():
            times = []
            hits = []
            for _ in range(30):
                t = time.perf_counter()
                hits = index.search(q, limit=50)
                times.append(time.perf_counter() - t)
            like = q.strip('"').split()[0]
            base = []
            for _ in range(3):
                t = time.perf_counter()
                plain.execute(
                    "SELECT text FROM t WHERE text LIKE ? LIMIT 50", (f"%{like}%",)
                ).fetchall()
                base.append(time.perf_counter() - t)
            ms = np.asarray(times) * 1000
            print(
                f"{name:<12} {len(hits):>5} {np.percentile(ms, 50):8.2f} "
                f"{np.percentile(ms, 95):8.2f}   {np.median(base) * 1000:8.2f}"
            )
        index.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
