"""Searching every recorded session (a Qt-free facade over ``realtime.recording.search``).

- :func:`session_index` — the sessions folder's full-text index, one per folder per process,
  brought up to date with the files on first use (``SearchIndex.sync``: new or changed files
  indexed, deleted ones dropped; rebuilt when the index file is missing or damaged). The
  recorder feeds it as turns are written (``app.compose.build_recorder``).
- :func:`search_sessions` — hits for what a person typed, newest first.
- ``voicecam search "QUERY" [--json] [--folder DIR] [--limit N]`` (:func:`search_main`): one
  line per hit (``date  m:ss  speaker  snippet  file``), or a JSON array; exit 0 with hits,
  1 with none, 2 for bad arguments.

Every call opens files: use a worker thread in a UI. Errors a person can act on are
``SessionFileError``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from realtime.recording.errors import SessionFileError
from realtime.recording.search import MARK_END, MARK_START, SearchHit, SearchIndex

__all__ = [
    "MARK_END",
    "MARK_START",
    "SearchHit",
    "SessionHit",
    "clock",
    "local_time",
    "search_main",
    "search_sessions",
    "session_index",
]

_indexes: dict[Path, SearchIndex] = {}
_lock = threading.Lock()


def session_index(folder: str | Path) -> SearchIndex:
    """The index of ``folder`` (created with the folder if missing), synced on first use in
    this process. Raises ``SessionFileError`` when it cannot be opened."""
    key = Path(folder).expanduser().resolve()
    with _lock:
        index = _indexes.get(key)
        if index is not None:
            return index
        try:
            index = SearchIndex(key)
            index.sync()
        except Exception as exc:  # sqlite3 / OS errors: one actionable sentence
            raise SessionFileError(
                f"The search index in {key} cannot be opened ({exc}). Check that the folder "
                "is writable; the index is rebuilt from the sessions if you delete "
                "search-index.sqlite3."
            ) from None
        _indexes[key] = index
        return index


def forget_indexes() -> None:
    """Close every open index (tests, and before a folder is removed)."""
    with _lock:
        for index in _indexes.values():
            index.close()
        _indexes.clear()


@dataclass(frozen=True)
class SessionHit:
    """One hit as a front end shows it: ``snippet`` with the matched words between
    ``MARK_START``/``MARK_END``; ``t_ms`` into the session (where replay starts)."""

    path: Path
    title: str
    started_at: str
    t_ms: float
    speaker: str
    typed: bool
    snippet: str

    @property
    def plain_snippet(self) -> str:
        return self.snippet.replace(MARK_START, "").replace(MARK_END, "")

    def as_json(self) -> dict[str, object]:
        return {
            "session": str(self.path),
            "title": self.title,
            "started_at": self.started_at,
            "t_ms": round(self.t_ms, 1),
            "speaker": self.speaker,
            "typed": self.typed,
            "snippet": self.plain_snippet,
        }


def _hit(h: SearchHit) -> SessionHit:
    speaker = "You" if h.role == "user" else "Assistant"
    return SessionHit(h.path, h.title, h.started_at, h.t_ms, speaker, h.source == "text", h.snippet)


def search_sessions(folder: str | Path, query: str, limit: int = 50) -> list[SessionHit]:
    """Up to ``limit`` hits for ``query`` in ``folder``'s sessions, newest first (worker)."""
    return [_hit(h) for h in session_index(folder).search(query, limit)]


def local_time(iso: str) -> str:
    """``2026-12-05T05:15:00+00:00`` → ``2026-12-05 06:15`` in local time ("?" if unknown)."""
    import datetime as dt

    try:
        t = dt.datetime.fromisoformat(iso)
    except ValueError:
        return "?"
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone().strftime("%Y-%m-%d %H:%M")


def clock(ms: float) -> str:
    s = max(0, int(ms // 1000))
    return f"{s // 60}:{s % 60:02d}"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="voicecam search",
        description="Search what was said and typed in every recorded session.",
    )
    p.add_argument("query", help='words to find (all must occur); "a phrase" in quotes')
    p.add_argument("--json", action="store_true", help="print the hits as a JSON array")
    p.add_argument(
        "--folder", type=Path, default=None, help="sessions folder (default: the saved setting)"
    )
    p.add_argument("--limit", type=int, default=50, help="at most N hits (default 50)")
    return p


def search_main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """``voicecam search`` (see module docstring)."""
    out = out or sys.stdout
    p = _parser()
    args = p.parse_args(argv)
    if not args.query.strip():
        p.error("the query is empty: give the words to find")
    if args.limit < 1:
        p.error("--limit must be at least 1")
    folder = args.folder
    if folder is None:
        from app.config import Settings, SettingsError

        try:
            folder = Settings.load().recordings_path()
        except SettingsError as exc:
            print(f"voicecam: {exc}", file=sys.stderr)
            return 2
    if not Path(folder).is_dir():
        print(f"voicecam: {folder}: no sessions folder (nothing recorded yet?)", file=sys.stderr)
        return 1
    try:
        hits = search_sessions(folder, args.query, args.limit)
    except SessionFileError as exc:
        print(f"voicecam: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump([h.as_json() for h in hits], out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        for h in hits:
            date = local_time(h.started_at)
            typed = " (typed)" if h.typed else ""
            print(
                f"{date}  {clock(h.t_ms)}  {h.speaker}{typed}: {h.plain_snippet}  [{h.path.name}]",
                file=out,
            )
        if not hits:
            print(f"no session mentions {args.query!r}", file=sys.stderr)
    return 0 if hits else 1
