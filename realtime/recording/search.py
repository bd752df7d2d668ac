"""Full-text search over every recorded session: an SQLite FTS5 index of transcripts and typed
messages, kept next to the sessions (``<sessions folder>/search-index.sqlite3``).

* **Updated as sessions are written**: ``SessionRecorder(search_index=...)`` calls
  :meth:`SearchIndex.begin_session`, :meth:`add_turns` (after each committed batch) and
  :meth:`end_session` from its writer thread.
* **Search order**: newest first (see :meth:`SearchIndex.search`).
* **Rebuilt if missing**: :meth:`SearchIndex.open` creates the file and indexes every session when
  it is missing or unreadable; :meth:`sync` (call at start) indexes new or changed session files
  and drops entries whose file is gone.
* **Deleted with its session**: :func:`realtime.recording.listing.delete_session` and
  :func:`apply_retention` call :meth:`remove_session`.

:meth:`search` takes what a person types (words, ``"a phrase"``; the last word matches as a
prefix) and returns :class:`SearchHit` values — session file, session title and start, the
turn's time in the session (ms, where replay should start), speaker and a snippet with the
matches between :data:`MARK_START`/:data:`MARK_END`. Query syntax never raises: FTS5 operators
typed by a person are treated as words.

Sessions are keyed by file *name* (the folder can move). Text is stored as it is in the session
file, which is already scrubbed of secrets.

Thread contract: one ``SearchIndex`` may be shared by threads (an internal lock serialises use
of its connection); several processes may use the same file (WAL, 5 s busy timeout).
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from realtime.recording import schema
from realtime.recording._store import make_private_dirs
from realtime.recording.errors import SessionFileError
from realtime.recording.reader import SessionFile

__all__ = [
    "INDEX_NAME",
    "MARK_END",
    "MARK_START",
    "IndexedTurn",
    "SearchHit",
    "SearchIndex",
    "SyncReport",
    "fts_query",
]

INDEX_NAME = "search-index.sqlite3"
INDEX_VERSION = 2
MARK_START = "\u2997"  # ⦗
MARK_END = "\u2998"  # ⦘

_DDL = """
CREATE TABLE IF NOT EXISTS sessions (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,     -- file name inside the sessions folder
    title      TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL DEFAULT '',  -- ISO 8601 UTC
    mtime_ns   INTEGER NOT NULL DEFAULT 0,
    size       INTEGER NOT NULL DEFAULT 0,
    live       INTEGER NOT NULL DEFAULT 0 -- 1 while the recorder is adding turns
);
CREATE VIRTUAL TABLE IF NOT EXISTS turns USING fts5(
    text, session_id UNINDEXED, t_ms UNINDEXED, role UNINDEXED, source UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4'                      -- search-as-you-type: the last word is a prefix
);
"""

_WORD = re.compile(r"\w+", re.UNICODE)
_PHRASE = re.compile(r'"([^"]*)"')


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression for what a person typed: every word must occur; ``"quoted
    words"`` must occur together; the last bare word also matches as a prefix. Empty when
    there is nothing to search for."""
    parts: list[str] = []
    for phrase in _PHRASE.findall(text):
        words = _WORD.findall(phrase)
        if words:
            parts.append('"' + " ".join(words) + '"')
    bare = _WORD.findall(_PHRASE.sub(" ", text))
    for i, word in enumerate(bare):
        last = i == len(bare) - 1 and not text.rstrip().endswith('"')
        parts.append(f'"{word}"' + ("*" if last else ""))
    return " ".join(parts)


@dataclass(frozen=True)
class IndexedTurn:
    """One turn to index: ``t_ms`` into the session, ``role`` user/assistant, ``source``
    voice/text (typed)."""

    t_ms: float
    role: str
    source: str
    text: str


@dataclass(frozen=True)
class SearchHit:
    path: Path
    title: str
    started_at: str
    t_ms: float
    role: str
    source: str
    snippet: str


@dataclass(frozen=True)
class SyncReport:
    indexed: int
    removed: int
    failed: tuple[str, ...]


class SearchIndex:
    """The index of one sessions folder (see module docstring)."""

    def __init__(self, directory: str | os.PathLike[str], path: Path | None = None) -> None:
        self.directory = Path(directory)
        self.path = path or self.directory / INDEX_NAME
        self._lock = threading.RLock()
        make_private_dirs(self.directory)  # 0700, the missing parents too (as the recorder)
        self.created = not self.path.exists()
        try:
            self._conn = self._connect()
        except sqlite3.DatabaseError:  # damaged: start again (it is only an index)
            self._discard_files()
            self.created = True
            self._conn = self._connect()

    @classmethod
    def open(cls, directory: str | os.PathLike[str]) -> SearchIndex:
        """The folder's index; built from every session file if it was missing or damaged."""
        index = cls(directory)
        if index.created:
            index.sync()
        return index

    def _connect(self) -> sqlite3.Connection:
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=5.0
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, INDEX_VERSION):
                raise sqlite3.DatabaseError(f"index version {version}")
            conn.executescript(_DDL)
            conn.execute(f"PRAGMA user_version={INDEX_VERSION}")
            conn.execute("SELECT count(*) FROM turns").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _discard_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(str(self.path) + suffix).unlink()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------

    def _session_id(self, name: str, *, title: str = "", started_at: str = "") -> int:
        row = self._conn.execute("SELECT id FROM sessions WHERE name = ?", (name,)).fetchone()
        if row is not None:
            return int(row[0])
        cur = self._conn.execute(
            "INSERT INTO sessions(name, title, started_at) VALUES (?, ?, ?)",
            (name, title, started_at),
        )
        return int(cur.lastrowid or 0)

    def _insert(self, sid: int, turns: Iterable[IndexedTurn]) -> None:
        self._conn.executemany(
            "INSERT INTO turns(text, session_id, t_ms, role, source) VALUES (?, ?, ?, ?, ?)",
            [(t.text, sid, float(t.t_ms), t.role, t.source) for t in turns if t.text.strip()],
        )

    def begin_session(self, path: Path, started_at: str, title: str = "") -> None:
        """A recording started (recorder's writer thread): its turns follow via add_turns."""
        with self._lock, self._tx():
            sid = self._session_id(path.name, title=title, started_at=started_at)
            self._conn.execute("DELETE FROM turns WHERE session_id = ?", (sid,))
            self._conn.execute("UPDATE sessions SET live = 1 WHERE id = ?", (sid,))

    def add_turns(self, path: Path, turns: list[IndexedTurn]) -> None:
        """Turns just committed to the session file ``path``."""
        if not turns:
            return
        with self._lock, self._tx():
            self._insert(self._session_id(path.name), turns)

    def end_session(self, path: Path) -> None:
        """The recording was finalised: remember the file's size/mtime so sync skips it."""
        with self._lock, self._tx():
            sid = self._session_id(path.name)
            st = _stat(path)
            self._conn.execute(
                "UPDATE sessions SET live = 0, mtime_ns = ?, size = ? WHERE id = ?",
                (st[0], st[1], sid),
            )

    def index_session(self, path: Path) -> int:
        """(Re)index one session file from disk; returns its number of turns indexed.
        Raises SessionFileError for an unreadable file."""
        st = _stat(path)
        with SessionFile(path, check=False) as sf:
            values = sf.metadata.values
            title = values.get("title")
            started = sf.metadata.started_at
            turns = [IndexedTurn(t.start_ms, t.role, t.source, t.text) for t in sf.turns()]
        with self._lock, self._tx():
            sid = self._session_id(path.name)
            self._conn.execute("DELETE FROM turns WHERE session_id = ?", (sid,))
            self._conn.execute(
                "UPDATE sessions SET title = ?, started_at = ?, mtime_ns = ?, size = ?, live = 0 "
                "WHERE id = ?",
                (
                    title if isinstance(title, str) else "",
                    started.isoformat() if started else "",
                    st[0],
                    st[1],
                    sid,
                ),
            )
            self._insert(sid, turns)
        return len(turns)

    def remove_session(self, path: Path) -> None:
        """Forget a session (it was deleted)."""
        with self._lock, self._tx():
            row = self._conn.execute(
                "SELECT id FROM sessions WHERE name = ?", (path.name,)
            ).fetchone()
            if row is not None:
                self._conn.execute("DELETE FROM turns WHERE session_id = ?", (row[0],))
                self._conn.execute("DELETE FROM sessions WHERE id = ?", (row[0],))

    def set_title(self, path: Path, title: str) -> None:
        with self._lock, self._tx():
            sid = self._session_id(path.name)
            self._conn.execute("UPDATE sessions SET title = ? WHERE id = ?", (title, sid))

    def sync(self) -> SyncReport:
        """Index session files that are new or changed since indexed (and not being recorded
        now), drop entries whose file is gone. Call at start, from a worker thread."""
        with self._lock:
            known = {
                str(r[0]): (int(r[1]), int(r[2]), bool(r[3]))
                for r in self._conn.execute("SELECT name, mtime_ns, size, live FROM sessions")
            }
        try:
            files = {
                p.name: p
                for p in self.directory.iterdir()
                if p.suffix == schema.FILE_SUFFIX and p.is_file()
            }
        except OSError:
            files = {}
        indexed, failed = 0, []
        for name, p in sorted(files.items()):
            seen = known.get(name)
            if seen is not None and (seen[2] or seen[:2] == _stat(p)):
                continue
            try:
                self.index_session(p)
                indexed += 1
            except SessionFileError as exc:
                failed.append(str(exc))
        gone = [name for name in known if name not in files]
        for name in gone:
            self.remove_session(self.directory / name)
        if indexed or gone:
            with self._lock:  # merge the index's segments: fewer b-trees to read per query
                self._conn.execute("INSERT INTO turns(turns) VALUES ('optimize')")
                with contextlib.suppress(sqlite3.OperationalError):  # busy: next time
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return SyncReport(indexed, len(gone), tuple(failed))

    # -- reading -------------------------------------------------------------------------

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Up to ``limit`` turns containing every word, newest first (the order turns were
        indexed: sessions by start time, turns by time). Newest-first rather than BM25 rank:
        ranking must score every match, which costs ~300 ms for a word in most of 40,000
        turns (``bench/bench_search.py``), while newest-first stops at ``limit``."""
        match = fts_query(query)
        if not match or limit <= 0:
            return []
        # the inner query lets FTS5 walk its index newest-first and stop at ``limit``
        sql = (
            "SELECT s.name, s.title, s.started_at, t.t_ms, t.role, t.source, t.snip FROM ("
            "SELECT rowid AS rid, session_id, t_ms, role, source, "
            f"snippet(turns, 0, '{MARK_START}', '{MARK_END}', '…', 16) AS snip "
            "FROM turns WHERE turns MATCH ? ORDER BY rowid DESC LIMIT ?"
            ") t JOIN sessions s ON s.id = t.session_id ORDER BY t.rid DESC"
        )
        with self._lock:
            try:
                rows = self._conn.execute(sql, (match, limit)).fetchall()
            except sqlite3.OperationalError:
                return []
        return [
            SearchHit(self.directory / r[0], r[1], r[2], float(r[3]), r[4], r[5], r[6])
            for r in rows
        ]

    def count(self) -> tuple[int, int]:
        """(sessions, turns) in the index."""
        with self._lock:
            s = self._conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
            t = self._conn.execute("SELECT count(*) FROM turns").fetchone()[0]
        return int(s), int(t)

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise


def _stat(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (0, 0)
    return (st.st_mtime_ns, st.st_size)
