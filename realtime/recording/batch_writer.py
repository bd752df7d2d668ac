"""``BatchWriter``: the queue and writer thread under ``writer.SessionRecorder``.

Threading contract: ``_put`` (any thread) only enqueues an immutable row under a short lock; one
daemon thread (``voicecam-recorder``) owns the SQLite connection, scrubs secrets and commits
batches at least every ``commit_interval_s``. ``close()`` (any thread, idempotent) flushes,
finalises and joins it. Failures (folder not writable, disk full, writer too far behind) set the
state to ``"failed"`` and call ``on_error`` once on the writer thread; nothing raises into
callers. Timestamps are ``time.monotonic_ns()`` values of this process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import queue
import secrets as _secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self

from realtime.recording import _store, schema
from realtime.recording.errors import RecordingError
from realtime.recording.scrub import Scrubber
from realtime.recording.search import IndexedTurn, SearchIndex

RecorderState = Literal["starting", "recording", "paused", "failed", "closed"]

_Item = tuple[str, tuple[Any, ...], int]
_CLOSE: _Item = ("__close__", (), 0)


def default_sessions_dir() -> Path:
    """``<platformdirs user data dir>/voicecam/sessions`` (not created here)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("voicecam", appauthor=False)) / "sessions"


def app_version() -> str:
    try:
        from importlib.metadata import version

        return version("voicecam")
    except Exception:
        return "unknown"


@dataclass(frozen=True)
class RecorderStatus:
    """A snapshot for the GUI indicator (poll it; it is cheap)."""

    state: RecorderState
    path: Path | None
    error: RecordingError | None
    #: Payload bytes committed to the file so far.
    bytes_written: int
    #: Records dropped because recording was paused or had failed.
    dropped: int
    #: Records waiting for the writer thread.
    queued: int


class BatchWriter:
    """Owns the session file's queue, writer thread and status counters (see the module
    docstring); ``SessionRecorder`` adds the typed ``record_*`` methods on top."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        directory: str | os.PathLike[str] | None = None,
        metadata: Mapping[str, object] | None = None,
        secrets: tuple[str, ...] | list[str] = (),
        commit_interval_s: float = 0.2,
        on_error: Callable[[RecordingError], None] | None = None,
        max_pending_bytes: int = 256 * 1024 * 1024,
        clock: Callable[[], int] = time.monotonic_ns,
        search_index: SearchIndex | None = None,
    ) -> None:
        self._clock = clock
        self._index = search_index
        #: The last search-index failure (the recording itself carries on; ``sync`` repairs).
        self.index_error: Exception | None = None
        self._scrubber = Scrubber(list(secrets))
        self._interval = max(0.01, min(commit_interval_s, 0.25))
        self._on_error = on_error
        self._max_pending = max_pending_bytes
        self._q: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards the counters/state below (short sections only)
        self._state: RecorderState = "starting"
        self._error: RecordingError | None = None
        self._accepting = True
        self._enabled = True
        self._pending_bytes = 0
        self._queued = 0
        self._dropped = 0
        self._bytes_written = 0
        self._played = False
        self._reply_source_noted = False
        self._bad_calls: set[str] = set()
        self.start_mono_ns = clock()
        start_wall = dt.datetime.now(dt.UTC)
        if path is not None:
            self._path: Path | None = Path(path)
        else:
            folder = Path(directory) if directory is not None else default_sessions_dir()
            stamp = start_wall.strftime("%Y-%m-%d_%H-%M-%S")
            self._path = folder / f"{stamp}_{_secrets.token_hex(3)}{schema.FILE_SUFFIX}"
        safe: dict[str, object] = {}
        for key, value in dict(metadata or {}).items():
            try:
                safe[str(key)] = json.loads(json.dumps(value))
            except (TypeError, ValueError):
                safe[str(key)] = str(value)
        meta: dict[str, object] = {
            "backend": "",
            "model": "",
            "voice": "",
            **safe,
            "schema_version": schema.SCHEMA_VERSION,
            "app_version": app_version(),
            "started_at": start_wall.isoformat(),
            "start_mono_ns": self.start_mono_ns,
        }
        self._meta: dict[str, object] = {}
        self._opened = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(meta,), name="voicecam-recorder", daemon=True
        )
        self._thread.start()
        self._opened.wait(10.0)

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def status(self) -> RecorderStatus:
        with self._lock:
            return RecorderStatus(
                self._state,
                self._path,
                self._error,
                self._bytes_written,
                self._dropped,
                self._queued,
            )

    def close(self, timeout_s: float = 10.0) -> RecorderStatus:
        """Flush, finalise (single-file, non-WAL) and stop the writer. Idempotent."""
        with self._lock:
            self._accepting = False
        if self._thread.is_alive():
            self._q.put(_CLOSE)
            self._thread.join(timeout_s)
        return self.status

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writer thread

    def _put(self, table: str, row: tuple[Any, ...], size: int, *, force: bool = False) -> None:
        with self._lock:
            if not self._accepting or (not self._enabled and not force):
                self._dropped += 1
                return
            self._queued += 1
            self._pending_bytes += size
            over = self._pending_bytes > self._max_pending
        if over:
            self._fail(
                RecordingError(
                    "Recording stopped: the disk is too slow to keep up "
                    f"({self._max_pending // (1024 * 1024)} MB waiting). "
                    "The conversation continues.",
                    "too_slow",
                )
            )
            return
        if table == "meta":
            with self._lock:
                self._meta[row[0]] = json.loads(row[1])
        self._q.put((table, row, size))

    def _fail(self, error: RecordingError) -> None:
        with self._lock:
            if self._state in ("failed", "closed"):
                return
            self._state = "failed"
            self._error = error
            self._accepting = False
        if self._on_error is not None:
            with contextlib.suppress(Exception):
                self._on_error(error)

    def _flush(self, conn: sqlite3.Connection, batch: list[_Item]) -> None:
        size = _store.insert_batch(conn, self._scrubber, batch)
        with self._lock:
            self._bytes_written += size
        index, path = self._index, self._path
        if index is not None and path is not None:
            turns = [
                IndexedTurn(
                    ((row[4] if row[4] is not None else row[0]) - self.start_mono_ns) / 1e6,
                    str(row[1]),
                    str(row[6]),
                    self._scrubber.text(str(row[3])),
                )
                for table, row, _ in batch
                if table == "turns"
            ]
            if turns:
                self._indexed(lambda: index.add_turns(path, turns))

    def _indexed(self, call: Callable[[], object]) -> None:
        """Run a search-index update; a failure is kept in ``index_error``, never raised."""
        try:
            call()
        except Exception as exc:  # sqlite3.Error, OSError: the index is rebuilt by sync()
            self.index_error = exc

    def _run(self, meta: dict[str, object]) -> None:
        try:
            assert self._path is not None
            conn = _store.create(self._path, meta, self._scrubber)
            with self._lock:
                self._meta.update(meta)
            index, path, started = self._index, self._path, str(meta.get("started_at", ""))
            if index is not None:
                self._indexed(lambda: index.begin_session(path, started))
        except Exception as exc:  # OSError, sqlite3.Error, ... : never kill the thread
            self._fail(_store.describe(exc, "creating", self._path))
            self._opened.set()
            self._drain_forever()
            return
        with self._lock:
            if self._state == "starting":
                self._state = "recording"
        self._opened.set()
        batch: list[_Item] = []
        deadline: float | None = None
        closing = False
        finalised = False
        try:
            while not closing:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    item = self._q.get(timeout=timeout)
                except queue.Empty:
                    item = None
                if item is _CLOSE:
                    closing = True
                elif item is not None:
                    with self._lock:
                        self._queued -= 1
                        self._pending_bytes -= item[2]
                    if self._state == "failed":
                        continue
                    batch.append(item)
                    if deadline is None:
                        deadline = time.monotonic() + self._interval
                    continue_batch = time.monotonic() < deadline and len(batch) < 5000
                    if continue_batch:
                        continue
                if self._state != "failed":
                    self._flush(conn, batch)
                batch = []
                deadline = None
            if self._state != "failed":
                _store.finalise(conn, self._clock())
                finalised = True
        except Exception as exc:  # OSError, sqlite3.Error, MemoryError, ...
            self._fail(_store.describe(exc, "writing", self._path))
        finally:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            with self._lock:
                if self._state != "failed":
                    self._state = "closed"
                self._accepting = False
        if finalised and index is not None:
            self._indexed(lambda: index.end_session(path))
        if not closing:
            self._drain_forever()

    def _drain_forever(self) -> None:
        """After a failure: discard what callers still enqueue until close()."""
        while True:
            item = self._q.get()
            if item is _CLOSE:
                return
            with self._lock:
                self._queued -= 1
                self._pending_bytes -= item[2]
                self._dropped += 1
