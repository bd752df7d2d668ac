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
import functools
import json
from collections.abc import Callable
from typing import Any, Literal, TypeVar, cast

from realtime.events import Usage
from realtime.pricing import estimate_cost_usd
from realtime.recording import schema
from realtime.recording.batch_writer import (
    BatchWriter,
    RecorderState,
    RecorderStatus,
    app_version,
    default_sessions_dir,
)
from realtime.recording.errors import RecordingError

__all__ = [
    "RecorderState",
    "RecorderStatus",
    "SessionRecorder",
    "app_version",
    "default_sessions_dir",
]

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


class SessionRecorder(BatchWriter):
    """Records one session. Implements ``realtime.session.WireRecorder`` (``on_wire``).

    ``path``: the file to create (must not exist). Without it, a new file named after the UTC
    start time is created in ``directory`` (default ``default_sessions_dir()``). The folder is
    created 0700 and the file 0600. ``metadata`` (backend, model, voice, rates, ...) must be
    JSON-serialisable; schema version, app version and start times are added. ``free=True``
    in the metadata (a loopback server) makes every cost 0; otherwise costs are estimated from
    ``backend``/``model`` (``realtime.pricing``) unless given.
    """

    # ------------------------------------------------------------------ caller side (any thread)

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

    # ------------------------------------------------------------------ internals

    def _bad_call(self, method: str) -> None:
        """A call with arguments of the wrong types: dropped and counted, never raised."""
        with self._lock:
            self._dropped += 1
            first = method not in self._bad_calls
            self._bad_calls.add(method)
        if first:
            self.record_mark("recorder_bad_call", method, self._clock())
