"""The writer thread's side of ``SessionRecorder``: creating the file, scrubbing and inserting
batches, finalising, and turning storage failures into ``RecordingError`` sentences.

Everything here runs on the recorder's writer thread only (the connection is bound to it).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from realtime.recording import schema
from realtime.recording.errors import RecordingError
from realtime.recording.scrub import Scrubber

SQL: Mapping[str, str] = {
    "meta": "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
    "wire": "INSERT INTO wire(t_ns, direction, is_binary, payload) VALUES (?, ?, ?, ?)",
    "mic": "INSERT INTO mic(t_ns, rate_hz, raw, pcm) VALUES (?, ?, ?, ?)",
    "playback": "INSERT INTO playback(t_ns, item_id, rate_hz, position_ms, pcm) "
    "VALUES (?, ?, ?, ?, ?)",
    "frames": "INSERT INTO frames(t_ns, sent, reason, jpeg) VALUES (?, ?, ?, ?)",
    "turns": "INSERT INTO turns(t_ns, role, item_id, text, t_start_ns, t_end_ns, source, "
    "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "latency": "INSERT INTO latency(t_ns, item_id, metric, value_ms) VALUES (?, ?, ?, ?)",
    "usage": "INSERT INTO usage(t_ns, response_id, "
    + ", ".join(schema.USAGE_FIELDS)
    + ", cost_usd) VALUES (?, ?, "
    + ", ".join("?" * len(schema.USAGE_FIELDS))
    + ", ?)",
    "marks": "INSERT INTO marks(t_ns, kind, detail) VALUES (?, ?, ?)",
}
#: Tables whose last column is bulk data (counted in ``bytes_written``).
BULK_TABLES = frozenset({"wire", "mic", "playback", "frames"})


def describe(exc: BaseException, doing: str, where: Path | None) -> RecordingError:
    """A sentence a person can act on for a storage failure (``doing`` is "creating" when
    recording could not start, "writing" when it stopped)."""
    text = str(exc)
    head = "Recording could not start" if doing == "creating" else "Recording stopped"
    full = isinstance(exc, sqlite3.OperationalError) and "full" in text.lower()
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
        full = True
    if full:
        return RecordingError(
            f"{head}: the disk is full while {doing} {where}. "
            "Free some space; the conversation continues without recording.",
            "disk_full",
        )
    if isinstance(exc, NotADirectoryError) or (
        isinstance(exc, FileExistsError) and where is not None and not where.parent.is_dir()
    ):
        return RecordingError(
            f"{head}: {_blocking_file(where)} is a file, not a folder, so {where} cannot be "
            "created. Choose another folder; the conversation continues without recording.",
            "not_writable",
        )
    readonly = isinstance(exc, OSError) and exc.errno == errno.EROFS
    if readonly or isinstance(exc, PermissionError) or "readonly" in text.lower().replace(" ", ""):
        why = "read-only file system" if readonly else "permission denied"
        return RecordingError(
            f"{head}: cannot write {where} ({why}). Choose a writable folder; the "
            "conversation continues without recording.",
            "not_writable",
        )
    return RecordingError(
        f"{head}: error while {doing} {where}: {text}. "
        "The conversation continues without recording."
    )


def _blocking_file(where: Path | None) -> Path | None:
    """The nearest ancestor of ``where`` that exists and is not a folder."""
    if where is None:
        return None
    for parent in where.parents:
        if parent.exists():
            return parent if not parent.is_dir() else where.parent
    return where.parent


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents with mode 0700 (``Path.mkdir(parents=True)``
    would give the parents the umask's 0755)."""
    missing: list[Path] = []
    p = folder
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=0o700)
            os.chmod(d, 0o700)  # mkdir's mode is masked by the umask


def create(path: Path, meta: Mapping[str, object], scrubber: Scrubber) -> sqlite3.Connection:
    """Create the file atomically: schema and metadata are written under a hidden temporary
    name, then hard-linked to the final name (never overwriting), so a file with the final
    name is always a readable session, even after ``kill -9`` during creation. The folder is
    created 0700, the file 0600. Returns a WAL-mode connection owned by the calling thread."""
    make_private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute(f"PRAGMA application_id={schema.APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={schema.SCHEMA_VERSION}")
            conn.executescript(schema.DDL)
            conn.execute("BEGIN")
            for key, value in meta.items():
                conn.execute(SQL["meta"], (key, scrubber.text(json.dumps(value))))
            conn.execute("COMMIT")
        finally:
            conn.close()
        try:
            os.link(tmp, path)
        except OSError as exc:  # no hard links here (FAT, some FUSE): plain rename
            if exc.errno == errno.EEXIST or path.exists():
                raise
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def clean(scrubber: Scrubber, table: str, row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Scrub the text fields of a row."""
    s = scrubber
    if table == "wire":
        t, d, b, payload = row
        return (t, d, b, s.data(payload) if isinstance(payload, bytes) else s.text(payload))
    if table == "meta":
        return (row[0], s.text(row[1]))
    if table == "turns":
        return (*row[:3], s.text(row[3]), *row[4:])
    if table == "marks":
        return (row[0], s.text(row[1]), s.text(row[2]))
    if table == "frames":
        return (row[0], row[1], s.text(row[2]), row[3])
    return row


def insert_batch(
    conn: sqlite3.Connection, scrubber: Scrubber, batch: list[tuple[str, tuple[Any, ...], int]]
) -> int:
    """Scrub and insert ``(table, row, size)`` items in one transaction; returns the bulk bytes
    committed. Rolls back and re-raises on failure."""
    if not batch:
        return 0
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for table, row, _ in batch:
        grouped.setdefault(table, []).append(clean(scrubber, table, row))
    conn.execute("BEGIN")
    try:
        for table, rows in grouped.items():
            conn.executemany(SQL[table], rows)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    return sum(n for table, _, n in batch if table in BULK_TABLES)


def finalise(conn: sqlite3.Connection, end_mono_ns: int) -> None:
    """Clean end: the end time, then a checkpoint back to a single self-contained file."""
    conn.execute(SQL["meta"], ("end_mono_ns", json.dumps(end_mono_ns)))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
