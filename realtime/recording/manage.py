"""Sessions a person can manage: rename, and a retention rule applied at start.

* :func:`rename_session` stores a title in the session's metadata (``meta.title``, scrubbed);
  the file keeps its name, so links (search index, replay) stay valid.
* :func:`apply_retention` deletes the sessions a :class:`RetentionRule` no longer keeps —
  older than ``keep_days``, then the oldest until the rest fit in ``keep_bytes`` — and their
  search-index entries. It never touches a file that is not a ``*.voicecam`` session, nor one
  in ``protect`` (the session being recorded), and reports what it did.

Deleting one session: :func:`realtime.recording.listing.delete_session`.
Qt-free; call from a worker thread (each file is opened).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from realtime.recording import schema
from realtime.recording.errors import SessionFileError
from realtime.recording.listing import delete_session
from realtime.recording.reader import SessionFile
from realtime.recording.scrub import scrub_text
from realtime.recording.search import SearchIndex

__all__ = [
    "MAX_TITLE_CHARS",
    "RetentionReport",
    "RetentionRule",
    "apply_retention",
    "rename_session",
    "session_title",
]

MAX_TITLE_CHARS = 200


def _clean_title(title: str) -> str:
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in title)
    text = " ".join(text.split())
    if not text:
        raise ValueError("a session title must not be empty")
    if len(text) > MAX_TITLE_CHARS:
        raise ValueError(f"a session title has at most {MAX_TITLE_CHARS} characters")
    return scrub_text(text)


def rename_session(
    path: str | os.PathLike[str], title: str, index: SearchIndex | None = None
) -> str:
    """Give a session a title (control characters removed, secrets scrubbed); returns the title
    stored. Raises ValueError for an empty/too long title, SessionFileError for a bad file."""
    p = Path(path)
    clean = _clean_title(title)
    with SessionFile(p, check=False):
        pass  # it is a session file we can read
    try:
        conn = sqlite3.connect(p, isolation_level=None, timeout=5.0)
        try:
            conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('title', ?)", (json.dumps(clean),)
            )
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise SessionFileError(f"{p}: cannot be renamed ({exc})") from None
    if index is not None:
        index.set_title(p, clean)
    return clean


def session_title(path: str | os.PathLike[str]) -> str:
    """The session's title, or "" when it has none."""
    with SessionFile(path, check=False) as sf:
        title = sf.metadata.values.get("title")
    return title if isinstance(title, str) else ""


@dataclass(frozen=True)
class RetentionRule:
    """Keep sessions started within ``keep_days`` days and at most ``keep_bytes`` bytes in all
    (newest kept first). None: no limit of that kind."""

    keep_days: float | None = None
    keep_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.keep_days is not None and not self.keep_days > 0:
            raise ValueError(f"keep_days must be > 0, got {self.keep_days}")
        if self.keep_bytes is not None and self.keep_bytes < 0:
            raise ValueError(f"keep_bytes must be >= 0, got {self.keep_bytes}")


@dataclass(frozen=True)
class RetentionReport:
    deleted: tuple[Path, ...]
    freed_bytes: int
    kept: int
    #: Sessions that should have gone but could not be deleted (message per file).
    errors: tuple[str, ...]


def _size(p: Path) -> int:
    total = 0
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            total += Path(str(p) + suffix).stat().st_size
    return total


def _started(p: Path) -> dt.datetime:
    """Start time (UTC) from the file; its modification time when unreadable."""
    try:
        with SessionFile(p, check=False) as sf:
            t = sf.metadata.started_at
        if t is not None:
            return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
    except SessionFileError:
        pass
    try:
        return dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC)
    except OSError:
        return dt.datetime.now(dt.UTC)


def apply_retention(
    directory: str | os.PathLike[str],
    rule: RetentionRule,
    *,
    now: dt.datetime | None = None,
    protect: Collection[str | os.PathLike[str]] = (),
    index: SearchIndex | None = None,
) -> RetentionReport:
    """Delete what ``rule`` does not keep (see module docstring). ``now``: UTC, for tests."""
    folder = Path(directory)
    if rule.keep_days is None and rule.keep_bytes is None:
        return RetentionReport((), 0, 0, ())
    now = now or dt.datetime.now(dt.UTC)
    protected = {Path(p).resolve() for p in protect}
    try:
        paths = [
            p
            for p in folder.iterdir()
            if p.suffix == schema.FILE_SUFFIX and p.is_file() and not p.name.startswith(".")
        ]
    except OSError:
        return RetentionReport((), 0, 0, ())
    sessions = sorted(((_started(p), _size(p), p) for p in paths), reverse=True)  # newest first
    cutoff = now - dt.timedelta(days=rule.keep_days) if rule.keep_days is not None else None
    doomed: list[tuple[Path, int]] = []
    # protected sessions are kept whatever their size, so they use up the budget first
    kept_bytes = sum(size for _, size, p in sessions if p.resolve() in protected)
    kept = sum(1 for _, _, p in sessions if p.resolve() in protected)
    for started, size, p in sessions:
        if p.resolve() in protected:
            continue
        too_old = cutoff is not None and started < cutoff
        too_big = rule.keep_bytes is not None and kept_bytes + size > rule.keep_bytes
        if too_old or too_big:
            doomed.append((p, size))
        else:
            kept_bytes += size
            kept += 1
    deleted: list[Path] = []
    errors: list[str] = []
    freed = 0
    for p, size in doomed:
        try:
            delete_session(p, index=index)
        except SessionFileError as exc:
            errors.append(str(exc))
            kept += 1
            continue
        deleted.append(p)
        freed += size
    return RetentionReport(tuple(deleted), freed, kept, tuple(errors))
