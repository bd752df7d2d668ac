"""Shared by the bounded fuzz test and ``bench/fuzz_session_reader.py``.

A small but complete session file is the seed; each case mutates it either at the byte level
(overwrite runs, flip bits, truncate, append garbage) or at the SQL level (store a random value
of a random type in a random column, drop a table, change the schema version), then reads
everything back. The only acceptable outcomes are success and ``SessionFileError``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hypothesis import strategies as st

from realtime.recording.errors import SessionFileError
from realtime.recording.reader import SessionFile
from realtime.recording.schema import TABLES
from tests.realtime.recording.synth import write_session

COLUMNS: dict[str, list[str]] = {
    "meta": ["key", "value"],
    "wire": ["t_ns", "direction", "is_binary", "payload"],
    "mic": ["t_ns", "rate_hz", "raw", "pcm"],
    "playback": ["t_ns", "item_id", "rate_hz", "position_ms", "pcm"],
    "frames": ["t_ns", "sent", "reason", "jpeg"],
    "turns": ["t_ns", "role", "item_id", "text", "t_start_ns", "t_end_ns", "source", "status"],
    "latency": ["t_ns", "item_id", "metric", "value_ms"],
    "usage": ["t_ns", "response_id", "input_tokens", "cost_usd"],
    "marks": ["t_ns", "kind", "detail"],
}


def make_seed(path: Path) -> bytes:
    """A one-turn session with every table populated, a few tens of KB."""
    path.unlink(missing_ok=True)
    write_session(path, turns=1, max_question_ms=300, max_reply_ms=200, frame_side=48)
    con = sqlite3.connect(path)
    con.execute("VACUUM")
    con.close()
    return path.read_bytes()


byte_ops = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(0, 1 << 20), st.binary(min_size=1, max_size=16)),
        st.tuples(st.just("flip"), st.integers(0, 1 << 20), st.integers(0, 7)),
        st.tuples(st.just("truncate"), st.integers(0, 1 << 20), st.just(0)),
        st.tuples(st.just("append"), st.just(0), st.binary(max_size=64)),
    ),
    min_size=1,
    max_size=6,
)

sql_values = st.one_of(
    st.none(),
    st.integers(-(1 << 63), (1 << 63) - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=40),
    st.sampled_from(["in", "out", "user", "assistant", '{"a":', "[1,2]", "null"]),
)

sql_ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("update"), st.sampled_from(sorted(COLUMNS)), st.integers(0, 8), sql_values
        ),
        st.tuples(st.just("drop"), st.sampled_from(TABLES), st.just(0), st.none()),
        st.tuples(st.just("version"), st.just(""), st.integers(-2, 5), st.none()),
        st.tuples(st.just("delete"), st.sampled_from(TABLES), st.just(0), st.none()),
    ),
    min_size=1,
    max_size=4,
)


def apply_bytes(seed: bytes, ops: list[tuple[str, int, object]]) -> bytes:
    data = bytearray(seed)
    for op, pos, arg in ops:
        if not data and op != "append":
            continue
        p = pos % max(1, len(data))
        if op == "set":
            assert isinstance(arg, bytes)
            data[p : p + len(arg)] = arg
        elif op == "flip":
            assert isinstance(arg, int)
            data[p] ^= 1 << arg
        elif op == "truncate":
            del data[p:]
        else:
            assert isinstance(arg, bytes)
            data += arg
    return bytes(data)


def apply_sql(path: Path, seed: bytes, ops: list[tuple[str, str, int, object]]) -> None:
    path.write_bytes(seed)
    con = sqlite3.connect(path)
    try:
        for op, table, n, value in ops:
            if op == "update":
                cols = COLUMNS[table]
                col = cols[n % len(cols)]
                con.execute(
                    f"UPDATE {table} SET {col} = ? WHERE rowid IN "
                    f"(SELECT rowid FROM {table} LIMIT 1 OFFSET ?)",
                    (value, n % 3),
                )
            elif op == "drop":
                con.execute(f"DROP TABLE IF EXISTS {table}")
            elif op == "delete":
                con.execute(f"DELETE FROM {table}")
            else:
                con.execute(f"PRAGMA user_version = {n}")
        con.commit()
    except sqlite3.Error:
        pass  # a mutation SQLite itself refuses (NOT NULL): keep what was applied
    finally:
        con.close()


def read_all(path: Path) -> None:
    """Open and read every part of a session; raises only ``SessionFileError`` if it's bad."""
    with SessionFile(path) as sf:
        _ = sf.metadata
        _ = sf.duration_ms
        for _w in sf.wire_messages():
            pass
        sf.turns()
        sf.latencies()
        sf.usage()
        sf.marks()
        _ = sf.total_cost_usd
        for _f in sf.frames():
            pass
        sf.mic_track()
        sf.playback_track(rate_hz=16000)
        sf.timeline()
        sf.table_counts()


def run_case(path: Path, read: bool = True) -> str:
    """'ok' or 'error' (SessionFileError); anything else propagates (an unhandled bug)."""
    try:
        read_all(path)
    except SessionFileError:
        return "error"
    return "ok"
