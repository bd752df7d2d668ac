"""Browse and delete recorded sessions (Qt-free; the GUI's sessions browser uses this).

``list_sessions()`` reads every ``*.voicecam`` in a folder and returns one ``SessionSummary``
each, newest first. Unreadable files are listed too, with ``error`` set, so a person can see
and delete them. Call from a worker thread for large folders (each file is opened).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from realtime.recording import schema
from realtime.recording.errors import SessionFileError
from realtime.recording.reader import SessionFile
from realtime.recording.search import SearchIndex
from realtime.recording.writer import default_sessions_dir

__all__ = ["SessionSummary", "default_sessions_dir", "delete_session", "list_sessions", "summarize"]


@dataclass(frozen=True)
class SessionSummary:
    path: Path
    #: Start time (UTC); the file's modification time when unreadable.
    started_at: dt.datetime | None
    duration_ms: float
    backend: str
    model: str
    first_question: str
    #: First frame sent to the model (else the first preview), JPEG; None without camera.
    thumbnail_jpeg: bytes | None
    #: Summed per-response cost estimate in USD; None when unknown.
    cost_usd: float | None
    turns: int
    size_bytes: int
    #: True when the recording did not end cleanly (crash or still recording).
    unfinished: bool
    #: Why the file could not be read (then the other fields are defaults).
    error: str | None = None
    #: The title given with ``rename_session`` ("" when none: show ``first_question``).
    title: str = ""


def summarize(path: str | os.PathLike[str]) -> SessionSummary:
    """One session's summary; never raises for a bad file (``error`` is set instead)."""
    p = Path(path)
    try:
        size = p.stat().st_size
    except OSError:
        size = 0
    try:
        with SessionFile(p, check=False) as sf:
            md = sf.metadata
            thumb = next(iter(sf.frames(sent=True)), None) or next(iter(sf.frames()), None)
            turns = sf.turns()
            first = next((t.text.strip() for t in turns if t.role == "user" and t.text.strip()), "")
            return SessionSummary(
                path=p,
                started_at=md.started_at,
                duration_ms=sf.duration_ms,
                backend=md.backend,
                model=md.model,
                first_question=first,
                thumbnail_jpeg=thumb.jpeg if thumb is not None else None,
                cost_usd=sf.total_cost_usd,
                turns=len(turns),
                size_bytes=size,
                unfinished=md.end_mono_ns is None,
                title=str(md.values.get("title") or ""),
            )
    except SessionFileError as exc:
        try:
            mtime: dt.datetime | None = dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC)
        except OSError:
            mtime = None
        return SessionSummary(p, mtime, 0.0, "", "", "", None, None, 0, size, True, str(exc))


def list_sessions(directory: str | os.PathLike[str] | None = None) -> list[SessionSummary]:
    """Summaries of every session in ``directory`` (default: the user data folder), newest
    first. A missing folder gives an empty list."""
    folder = Path(directory) if directory is not None else default_sessions_dir()
    try:
        paths = [p for p in folder.iterdir() if p.suffix == schema.FILE_SUFFIX and p.is_file()]
    except OSError:
        return []
    summaries = [summarize(p) for p in paths]
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)

    def key(s: SessionSummary) -> dt.datetime:
        t = s.started_at
        if t is None:
            return epoch
        return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)

    summaries.sort(key=key, reverse=True)
    return summaries


def delete_session(path: str | os.PathLike[str], index: SearchIndex | None = None) -> None:
    """Delete a session file and its SQLite side files (``-wal``, ``-shm``, ``-journal``), and
    its entries in the search ``index`` (if given; an index failure is not an error here —
    ``SearchIndex.sync`` drops entries whose file is gone).

    Raises ``SessionFileError`` if the path is not a ``.voicecam`` file or cannot be removed.
    Do not delete a session that is still being recorded.
    """
    p = Path(path)
    if p.suffix != schema.FILE_SUFFIX:
        raise SessionFileError(f"{p}: not a session file (expected *{schema.FILE_SUFFIX})")
    if not p.is_file():
        raise SessionFileError(f"{p}: no such session file")
    try:
        p.unlink()
    except OSError as exc:
        raise SessionFileError(f"{p}: cannot be deleted ({exc.strerror or exc})") from None
    for side in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            Path(str(p) + side).unlink(missing_ok=True)
    if index is not None:
        with contextlib.suppress(Exception):
            index.remove_session(p)
