"""``ResilientRecorder``: recording that says when it stops and comes back when it can.

A ``SessionRecorder`` that fails (the folder cannot be written, the disk fills up) stops for
good and reports once. This wrapper owns the policy around it:

- every failure is reported through ``on_error`` with the recorder's sentence (what stopped
  and why) plus what happens next: for a full disk "recording resumes into a new file once
  space is freed", for a folder that cannot be written the caller's ``retry_hint`` (how to
  retry: another folder);
- after a full disk, a watcher thread checks the free space of the folder every
  ``retry_every_s``; once ``min_free_bytes`` are free it starts a new file in the same folder
  (its metadata names the file it continues) and reports it through ``on_resumed``. A file that
  fails again at once is closed quietly and the watch goes on;
- the file that failed stays as it was: everything committed before the failure is readable.

It implements ``app.ports.RecordingPort`` (the typed ``RecorderPort`` with its one argument
order, plus ``path``/``set_enabled``/``close``) and the rest of ``SessionRecorder``'s surface,
each method typed (``SessionRecorder``'s own signature, via ``_forward``) and forwarded to the
current file's recorder, whose argument checks apply
(arguments in another order are refused there, never reordered); secrets, the enabled switch
and metadata given here are replayed into each new file.

Thread: any (as ``SessionRecorder``). ``on_error``/``on_resumed`` run on the failing recorder's
writer thread or on the watcher thread; they must not block for long.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from realtime.recording.errors import RecordingError
from realtime.recording.writer import RecorderStatus, SessionRecorder

RESUME_HINT = "Recording resumes into a new file once space is freed."


class RecorderFactory(Protocol):
    """Makes one file's recorder (default: ``SessionRecorder``)."""

    def __call__(
        self,
        *,
        directory: Path,
        metadata: Mapping[str, object],
        on_error: Callable[[RecordingError], None],
    ) -> SessionRecorder: ...


def free_bytes(folder: Path) -> int:
    """Free space of the file system holding ``folder`` (or its nearest existing parent)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return 0


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _forward(
    method: Callable[Concatenate[SessionRecorder, _P], _R],
) -> Callable[Concatenate[ResilientRecorder, _P], _R]:
    """A ``ResilientRecorder`` method with ``method``'s exact signature that calls it on the
    current file's recorder (looked up at each call: the file changes after a resume)."""
    name = method.__name__

    @functools.wraps(method)
    def forwarded(self: ResilientRecorder, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        bound: Callable[_P, _R] = getattr(self._current, name)
        return bound(*args, **kwargs)

    return forwarded


class ResilientRecorder:
    """See the module docstring. ``directory`` is the folder new files are made in."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        metadata: Mapping[str, object] | None = None,
        on_error: Callable[[RecordingError], None] | None = None,
        on_resumed: Callable[[Path], None] | None = None,
        retry_hint: str = "Choose a writable folder and start a new conversation to record.",
        retry_every_s: float = 2.0,
        min_free_bytes: int = 16 * 1024 * 1024,
        make: RecorderFactory = SessionRecorder,
        free_space: Callable[[Path], int] = free_bytes,
    ) -> None:
        self.directory = Path(directory)
        self._metadata = dict(metadata or {})
        self._on_error = on_error
        self._on_resumed = on_resumed
        self._retry_hint = retry_hint
        self._retry_every_s = retry_every_s
        self._min_free = min_free_bytes
        self._make = make
        self._free_space = free_space
        self._lock = threading.Lock()
        self._secrets: list[str] = []
        self._enabled = True
        self._extra_meta: dict[str, object] = {}
        self._closed = threading.Event()
        self._watcher: threading.Thread | None = None
        self._waiting_for_space = False
        self.failures: list[RecordingError] = []
        self.files: list[Path] = []
        self._current = self._open(None)

    # ------------------------------------------------------------------ policy
    def _open(self, continues: Path | None) -> SessionRecorder:
        meta = dict(self._metadata)
        if continues is not None:
            meta["continues"] = continues.name
        rec = self._make(directory=self.directory, metadata=meta, on_error=self._failed)
        with self._lock:
            secrets, enabled, extra = list(self._secrets), self._enabled, dict(self._extra_meta)
        for secret in secrets:
            rec.add_secret(secret)
        if extra:
            rec.set_metadata(**extra)
        if not enabled:
            rec.set_enabled(False)
        if rec.path is not None:
            self.files.append(rec.path)
        return rec

    def _failed(self, error: RecordingError) -> None:
        """A recorder's on_error (its writer thread)."""
        with self._lock:
            if self._waiting_for_space or self._closed.is_set():
                return  # a retry that failed at once: stay quiet, keep watching
            self.failures.append(error)
            retry = error.reason == "disk_full"
            self._waiting_for_space = retry
        hint = RESUME_HINT if retry else self._retry_hint
        if self._on_error is not None:
            self._on_error(RecordingError(f"{error} {hint}", error.reason))
        if retry:
            self._start_watcher()

    def _start_watcher(self) -> None:
        """Start the one watcher thread (it lives until ``close()``)."""
        with self._lock:
            if self._watcher is not None or self._closed.is_set():
                return
            self._watcher = threading.Thread(
                target=self._watch, name="voicecam-recorder-retry", daemon=True
            )
            self._watcher.start()

    def _watch(self) -> None:
        """Watcher thread: while waiting for space, try a new file once enough is free."""
        while not self._closed.wait(self._retry_every_s):
            with self._lock:
                waiting = self._waiting_for_space
            if not waiting or self._free_space(self.directory) < self._min_free:
                continue
            failed = self._current
            rec = self._open(failed.path)
            if rec.status.state == "failed" or self._closed.is_set():
                rec.close()
                continue
            self._current = rec
            with self._lock:
                self._waiting_for_space = False
            failed.close()
            if self._on_resumed is not None and rec.path is not None:
                self._on_resumed(rec.path)

    # ------------------------------------------------------------------ SessionRecorder surface
    @property
    def path(self) -> Path | None:
        return self._current.path

    @property
    def status(self) -> RecorderStatus:
        return self._current.status

    @property
    def error(self) -> RecordingError | None:
        return self._current.error

    @property
    def metadata(self) -> dict[str, object]:
        return self._current.metadata

    def add_secret(self, value: str) -> None:
        with self._lock:
            self._secrets.append(value)
        self._current.add_secret(value)

    def set_enabled(self, enabled: bool) -> None:
        with self._lock:
            self._enabled = enabled
        self._current.set_enabled(enabled)

    def set_metadata(self, **values: object) -> None:
        with self._lock:
            self._extra_meta.update(values)
        self._current.set_metadata(**values)

    # Each file's recorder checks its own arguments; these only pick the current file.
    on_wire = _forward(SessionRecorder.on_wire)
    record_mic = _forward(SessionRecorder.record_mic)
    record_playback = _forward(SessionRecorder.record_playback)
    record_reply = _forward(SessionRecorder.record_reply)
    record_frame = _forward(SessionRecorder.record_frame)
    record_turn = _forward(SessionRecorder.record_turn)
    record_latency = _forward(SessionRecorder.record_latency)
    record_usage = _forward(SessionRecorder.record_usage)
    record_mark = _forward(SessionRecorder.record_mark)

    def close(self, timeout_s: float = 10.0) -> RecorderStatus:
        """Stop watching, then close the current file (idempotent)."""
        self._closed.set()
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(timeout_s)
        return self._current.close(timeout_s)

    def __enter__(self) -> ResilientRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
