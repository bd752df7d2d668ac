"""``SessionRecorder``: writes one session file from any thread without blocking it.

Threading contract: every public method may be called from any thread (engine thread,
PortAudio-free helper threads, the GUI thread). ``record_*``/``on_wire`` only enqueue an
immutable tuple (O(1), no I/O, no locks held by slow code); a dedicated writer thread owns the
SQLite connection, scrubs secrets, and commits batches at least every ``commit_interval_s``
(default 0.2 s, so at most ~250 ms of data is at risk in a crash). The file is SQLite in WAL
mode; after ``kill -9`` everything up to the last commit is readable.

Failure contract: nothing here raises into the caller. If the folder cannot be written, the
disk fills up, or the writer falls too far behind, recording stops: ``status.state`` becomes
``"failed"``, ``status.error`` holds a ``RecordingError`` with a sentence a person can act on,
``on_error`` (if given) is called once on the writer thread, and later ``record_*`` calls are
dropped (counted in ``status.dropped``). The conversation is unaffected.

Timestamps are ``time.monotonic_ns()`` values (``t_ns``/``t_mono_ns``) of this process.
Secrets: the recorder never receives headers; still, every text it stores goes through
``Scrubber`` (key shapes and any value registered with ``add_secret``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
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
from typing import Any, Literal, TypeVar, cast

from realtime.events import Usage
from realtime.pricing import estimate_cost_usd
from realtime.recording import _store, schema
from realtime.recording.errors import RecordingError
from realtime.recording.scrub import Scrubber
from realtime.recording.search import IndexedTurn, SearchIndex

RecorderState = Literal["starting", "recording", "paused", "failed", "closed"]

_Item = tuple[str, tuple[Any, ...], int]
_CLOSE: _Item = ("__close__", (), 0)


_F = TypeVar("_F", bound=Callable[..., None])


def _never_raises(method: _F) -> _F:
    """Recording must never break the caller: any exception becomes a dropped, marked call."""

    @functools.wraps(method)
    def wrapper(self: SessionRecorder, *args: Any, **kwargs: Any) -> None:
        try:
            method(self, *args, **kwargs)
        except Exception:
            with contextlib.suppress(Exception):
                self._bad_call(method.__name__)

    return cast(_F, wrapper)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_bytes(v: object) -> bool:
    return isinstance(v, bytes | bytearray | memoryview)


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


class SessionRecorder:
    """Records one session. Implements ``realtime.session.WireRecorder`` (``on_wire``).

    ``path``: the file to create (must not exist). Without it, a new file named after the UTC
    start time is created in ``directory`` (default ``default_sessions_dir()``). The folder is
    created 0700 and the file 0600. ``metadata`` (backend, model, voice, rates, ...) must be
    JSON-serialisable; schema version, app version and start times are added. ``free=True``
    in the metadata (a loopback server) makes every cost 0; otherwise costs are estimated from
    ``backend``/``model`` (``realtime.pricing``) unless given.
    """

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

    # ------------------------------------------------------------------ caller side (any thread)

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

    @property
    def error(self) -> RecordingError | None:
        return self._error

    @property
    def metadata(self) -> dict[str, object]:
        """The metadata written so far (a copy)."""
        with self._lock:
            return dict(self._meta)

    @_never_raises
    def add_secret(self, value: str) -> None:
        """Never store this exact value (e.g. the API key in use)."""
        self._scrubber.add_secret(value)

    @_never_raises
    def set_enabled(self, enabled: bool) -> None:
        """The user's off switch: while disabled nothing is stored (a mark records the gap)."""
        with self._lock:
            if enabled == self._enabled or self._state in ("failed", "closed"):
                return
            self._enabled = enabled
            self._state = "recording" if enabled else "paused"
        kind = "recording_resumed" if enabled else "recording_paused"
        self._put("marks", (self._clock(), kind, ""), 0, force=True)

    @_never_raises
    def set_metadata(self, **values: object) -> None:
        """Add/replace metadata keys (JSON-serialisable values)."""
        for key, value in values.items():
            try:
                text = json.dumps(value)
            except (TypeError, ValueError):
                text = json.dumps(str(value))
            self._put("meta", (str(key), text), len(text), force=True)

    @_never_raises
    def on_wire(
        self, direction: Literal["in", "out"], message: str | bytes, t_mono_ns: int
    ) -> None:
        """WireRecorder hook: one WebSocket message, as sent/received, at ``t_mono_ns``."""
        if direction not in ("in", "out"):
            return
        payload: str | bytes = (
            bytes(message) if isinstance(message, bytes | bytearray | memoryview) else str(message)
        )
        binary = isinstance(payload, bytes)
        self._put("wire", (t_mono_ns, direction, int(binary), payload), len(payload))

    @_never_raises
    def record_mic(self, pcm16: bytes, rate_hz: int, t_ns: int, raw: bool = False) -> None:
        """Microphone audio (PCM16 mono), ``t_ns`` = capture time of its first sample.
        ``raw=True`` is the unprocessed mic (only if the user opted in). Arguments in another
        order are refused (a ``recorder_bad_call`` mark), never reordered."""
        if not (_is_bytes(pcm16) and _is_int(rate_hz) and _is_int(t_ns)):
            self._bad_call("record_mic")
        elif pcm16:
            self._put("mic", (t_ns, rate_hz, int(bool(raw)), bytes(pcm16)), len(pcm16))

    @_never_raises
    def record_playback(
        self, item_id: str, pcm16: bytes, rate_hz: int, position_ms: int, t_ns: int
    ) -> None:
        """Reply audio as actually played: ``position_ms`` into item ``item_id``, first sample
        audible at ``t_ns``."""
        if not (_is_bytes(pcm16) and _is_int(rate_hz) and _is_int(t_ns)):
            self._bad_call("record_playback")
            return
        self._played = True
        if pcm16:
            row = (t_ns, str(item_id), rate_hz, int(position_ms), bytes(pcm16))
            self._put("playback", row, len(pcm16))

    @_never_raises
    def record_reply(
        self, item_id: str, pcm16: bytes, rate_hz: int, position_ms: int, t_ns: int
    ) -> None:
        """Reply audio as *received* (when the app cannot report what was played). Stored in
        the playback track only while ``record_playback`` has never been called; the track
        then lays the audio back to back from its arrival, which matches playback except
        for the jitter-buffer delay and audio cut off by barge-in. Same argument order as
        ``record_playback``."""
        if self._played or not (_is_bytes(pcm16) and _is_int(rate_hz) and _is_int(t_ns)):
            return
        if not self._reply_source_noted:
            self._reply_source_noted = True
            self.set_metadata(playback_source="received")
        if pcm16:
            row = (t_ns, str(item_id), rate_hz, int(position_ms), bytes(pcm16))
            self._put("playback", row, len(pcm16))

    @_never_raises
    def record_frame(self, jpeg: bytes, t_ns: int, sent: bool, reason: str = "") -> None:
        """A camera/screen frame: ``sent=True`` went to the model; ``False`` is a preview."""
        if not (_is_bytes(jpeg) and _is_int(t_ns)):
            self._bad_call("record_frame")
        elif jpeg:
            self._put("frames", (t_ns, int(bool(sent)), str(reason), bytes(jpeg)), len(jpeg))

    @_never_raises
    def record_turn(
        self,
        role: Literal["user", "assistant"],
        text: str,
        t_ns: int,
        item_id: str = "",
        *,
        t_start_ns: int | None = None,
        t_end_ns: int | None = None,
        source: str = "voice",
        status: str = "completed",
    ) -> None:
        """One finished transcript turn (the conversation core's turn model: see
        ``app.core_record``): ``t_ns`` when final, ``t_start_ns``/``t_end_ns`` when spoken."""
        if role not in ("user", "assistant") or not isinstance(text, str) or not _is_int(t_ns):
            self._bad_call("record_turn")
            return
        row = (t_ns, role, str(item_id), text, t_start_ns, t_end_ns, source, status)
        txt = text
        self._put("turns", row, len(txt))

    @_never_raises
    def record_latency(self, item_id: str, metric: str, value_ms: float, t_ns: int) -> None:
        """One latency figure (ms) of the reply ``item_id`` (``app.core_record.LATENCY_METRICS``:
        the conversation core measures; the recorder stores)."""
        if not (
            isinstance(item_id, str)
            and _is_int(t_ns)
            and isinstance(value_ms, int | float)
            and not isinstance(value_ms, bool)
        ):
            self._bad_call("record_latency")
            return
        self._put("latency", (t_ns, item_id, str(metric), float(value_ms)), 32)

    @_never_raises
    def record_usage(
        self, usage: Usage, t_ns: int, *, response_id: str = "", cost_usd: float | None = None
    ) -> None:
        """Token usage of one response; ``cost_usd=None`` estimates it from backend/model."""
        if cost_usd is None:
            with self._lock:
                backend = str(self._meta.get("backend", ""))
                model = str(self._meta.get("model", ""))
                free = self._meta.get("free") is True
            cost_usd = 0.0 if free else estimate_cost_usd(backend, model, usage)
        counts = tuple(int(getattr(usage, f)) for f in schema.USAGE_FIELDS)
        self._put("usage", (t_ns, str(response_id), *counts, cost_usd), 64)

    @_never_raises
    def record_mark(self, kind: str, detail: str, t_ns: int) -> None:
        """Something that happened to the session (reconnect, error, device lost...)."""
        if not _is_int(t_ns):
            self._bad_call("record_mark")
            return
        self._put("marks", (t_ns, str(kind), str(detail)), len(str(detail)))

    def close(self, timeout_s: float = 10.0) -> RecorderStatus:
        """Flush, finalise (single-file, non-WAL) and stop the writer. Idempotent."""
        with self._lock:
            self._accepting = False
        if self._thread.is_alive():
            self._q.put(_CLOSE)
            self._thread.join(timeout_s)
        return self.status

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _bad_call(self, method: str) -> None:
        """A call with arguments of the wrong types: dropped and counted, never raised."""
        with self._lock:
            self._dropped += 1
            first = method not in self._bad_calls
            self._bad_calls.add(method)
        if first:
            self.record_mark("recorder_bad_call", method, self._clock())

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
