"""``SessionDb``: open a session file read-only and query it without ever raising anything
but ``SessionFileError`` (the base of ``reader.SessionFile``).

Opening checks, in order: the file exists and has an SQLite header, SQLite can open it, it is
a VoiceCam session of a version this build reads, and (``check=True``) SQLite's quick integrity
check. Not thread-safe: one instance per thread.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

from realtime.recording import schema
from realtime.recording.errors import SessionFileError
from realtime.recording.records import SessionMetadata, _int

_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Longest session offset accepted (anything beyond is a damaged timestamp).
MAX_SESSION_MS = 12 * 3600 * 1000.0


class SessionDb:
    """An open session database: metadata, row queries and timestamp conversion."""

    def __init__(self, path: str | os.PathLike[str], *, check: bool = True) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._validate_header()
        self._conn = self._connect()
        try:
            self._check_identity(check)
            self.metadata = self._read_metadata()
        except BaseException:
            self.close()
            raise

    # -- opening ---------------------------------------------------------------------------

    def _err(self, problem: str) -> SessionFileError:
        return SessionFileError(f"{self.path}: {problem}")

    def _validate_header(self) -> None:
        try:
            if not self.path.exists():
                raise self._err("no such file")
            if not self.path.is_file():
                raise self._err("not a file")
            with self.path.open("rb") as f:
                head = f.read(100)
        except OSError as exc:
            raise self._err(f"cannot be read ({exc.strerror or exc})") from None
        if len(head) == 0:
            raise self._err("the file is empty, not a VoiceCam session")
        if not head.startswith(_SQLITE_MAGIC[: len(head)]) or len(head) < len(_SQLITE_MAGIC):
            raise self._err("not a VoiceCam session file (wrong format)")
        if len(head) < 100:
            raise self._err("the file is truncated (damaged session file)")

    def _connect(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        last: Exception | None = None
        for params in ("?mode=ro", "?mode=ro&immutable=1"):
            conn: sqlite3.Connection | None = None
            try:
                conn = sqlite3.connect(uri + params, uri=True, check_same_thread=False)
                conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
                return conn
            except (sqlite3.Error, ValueError) as exc:  # ValueError: undecodable text
                last = exc
                if conn is not None:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
        raise self._err(f"cannot be opened: the file is damaged or truncated ({last})")

    def _check_identity(self, check: bool) -> None:
        names = {str(r[0]) for r in self._q("SELECT name FROM sqlite_schema WHERE type='table'")}
        app_id = self._q("PRAGMA application_id")[0][0]
        if app_id != schema.APPLICATION_ID or "meta" not in names:
            raise self._err("an SQLite database, but not a VoiceCam session")
        version = self._q("PRAGMA user_version")[0][0]
        if isinstance(version, int) and version > schema.SCHEMA_VERSION:
            raise self._err(
                f"made by a newer VoiceCam (session format {version}; this version reads "
                f"up to {schema.SCHEMA_VERSION}): update VoiceCam to open it"
            )
        missing = [t for t in schema.TABLES if t not in names]
        if missing:
            raise self._err(f"damaged session file (missing tables: {', '.join(missing)})")
        if check:
            result = self._q("PRAGMA quick_check(5)")
            if not result or result[0][0] != "ok":
                raise self._err("the file is damaged or truncated (integrity check failed)")

    def _q(self, sql: str, args: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        if self._conn is None:
            raise self._err("the session file is closed")
        try:
            return list(self._conn.execute(sql, args).fetchall())
        except (sqlite3.Error, ValueError, OverflowError, MemoryError) as exc:
            raise self._err(f"the file is damaged or truncated ({exc})") from None

    def _iter(self, sql: str, args: Sequence[object] = ()) -> Iterator[tuple[Any, ...]]:
        if self._conn is None:
            raise self._err("the session file is closed")
        try:
            cur = self._conn.execute(sql, args)
            while True:
                rows = cur.fetchmany(256)
                if not rows:
                    return
                yield from rows
        except (sqlite3.Error, ValueError, OverflowError, MemoryError) as exc:
            raise self._err(f"the file is damaged or truncated ({exc})") from None

    def _read_metadata(self) -> SessionMetadata:
        values: dict[str, object] = {}
        for key, text in self._q("SELECT key, value FROM meta"):
            if not isinstance(key, str) or not isinstance(text, str):
                raise self._err("damaged metadata")
            try:
                values[key] = json.loads(text)
            except (ValueError, RecursionError):
                raise self._err(f"damaged metadata (key {key!r})") from None
        try:
            start = _int(values.get("start_mono_ns"), "start time")
            version = _int(values.get("schema_version"), "schema version")
            end_v = values.get("end_mono_ns")
            end = _int(end_v, "end time") if end_v is not None else None
        except ValueError as exc:
            raise self._err(f"damaged metadata ({exc})") from None
        if version > schema.SCHEMA_VERSION:
            raise self._err(f"made by a newer VoiceCam (session format {version})")
        started: dt.datetime | None = None
        if isinstance(values.get("started_at"), str):
            try:
                started = dt.datetime.fromisoformat(str(values["started_at"]))
            except ValueError:
                started = None

        def s(key: str) -> str:
            v = values.get(key, "")
            return v if isinstance(v, str) else str(v)

        return SessionMetadata(
            schema_version=version,
            backend=s("backend"),
            model=s("model"),
            voice=s("voice"),
            app_version=s("app_version"),
            started_at=started,
            start_mono_ns=start,
            end_mono_ns=end,
            values=values,
        )

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()
            self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------------

    def _ms(self, t_ns: object) -> float:
        t = _int(t_ns, "timestamp")
        ms = (t - self.metadata.start_mono_ns) / 1e6
        if not -60_000.0 <= ms <= MAX_SESSION_MS:
            raise ValueError(f"timestamp {ms:.0f} ms into the session is implausible")
        return ms

    def _rows(
        self, sql: str, convert: Callable[[tuple[Any, ...]], Any], what: str
    ) -> Iterator[Any]:
        for row in self._iter(sql):
            try:
                yield convert(row)
            except (ValueError, TypeError, OverflowError, UnicodeDecodeError) as exc:
                raise self._err(f"damaged {what} record ({exc})") from None
