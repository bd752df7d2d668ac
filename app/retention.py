"""Keeping the sessions folder tidy: the retention rule at start, and no empty sessions.

- :func:`retention_rule`: the settings' ``keep_days`` (0 = forever) and ``keep_gb`` (0 = no
  limit) as a ``realtime.recording.manage.RetentionRule`` (None when both are off).
- :func:`apply_retention_at_start`: applies it to the recordings folder — sessions older than
  ``keep_days`` go, then the oldest until the rest fit in ``keep_gb`` — with their search-index
  entries; called by the window (``app.gui.main``, on a worker, before any conversation can
  record) and by ``voicecam --headless`` before it connects. Files that are not sessions are
  never touched.
- :func:`discard_if_empty`: a session with nothing in it (a connect that failed: no speech, no
  reply, no frame, no typed message) is deleted when its recording closes, so the browser does
  not fill up with "0:00 (no question)" rows.

Blocking (each file is opened): call from a worker thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from app.config import Settings
from realtime.recording.errors import SessionFileError
from realtime.recording.manage import RetentionReport, RetentionRule, apply_retention

__all__ = [
    "apply_retention_at_start",
    "describe",
    "discard_if_empty",
    "retention_rule",
    "start_retention",
]

log = logging.getLogger(__name__)
GB = 1024**3
#: Tables whose rows make a session worth keeping (the wire log and metadata alone do not).
_CONTENT = ("mic", "playback", "frames", "turns")


def retention_rule(settings: Settings) -> RetentionRule | None:
    if settings.keep_days <= 0 and settings.keep_gb <= 0:
        return None
    return RetentionRule(
        keep_days=float(settings.keep_days) if settings.keep_days > 0 else None,
        keep_bytes=int(settings.keep_gb * GB) if settings.keep_gb > 0 else None,
    )


def apply_retention_at_start(settings: Settings) -> RetentionReport | None:
    """Apply the saved rule to the recordings folder (None when no rule is set)."""
    rule = retention_rule(settings)
    if rule is None:
        return None
    from app.session_search import session_index

    folder = settings.recordings_path()
    try:
        index = session_index(folder) if folder.is_dir() else None
    except SessionFileError:
        index = None  # the next sync drops the deleted sessions' entries
    return apply_retention(folder, rule, index=index)


def describe(report: RetentionReport | None) -> str:
    """One sentence for the status bar / stderr, or "" when nothing was deleted."""
    if report is None or (not report.deleted and not report.errors):
        return ""
    n = len(report.deleted)
    text = (
        f"Retention: deleted {n} old session{'s' if n != 1 else ''} "
        f"({report.freed_bytes / 1024**2:.1f} MB)."
    )
    if report.errors:
        text += f" {len(report.errors)} could not be deleted: {report.errors[0]}"
    return text


def start_retention(
    settings: Settings, on_done: Callable[[str], None] | None = None
) -> threading.Thread:
    """Run :func:`apply_retention_at_start` on a daemon thread; ``on_done(sentence)`` (on that
    thread) with :func:`describe`'s sentence, "" when nothing was deleted."""

    def run() -> None:
        try:
            text = describe(apply_retention_at_start(settings))
        except Exception as exc:  # housekeeping must never stop the app
            log.warning("retention not applied: %s", exc)
            text = f"Retention not applied: {exc}"
        if text:
            log.info("%s", text)
        if on_done is not None:
            on_done(text)

    t = threading.Thread(target=run, name="voicecam-retention", daemon=True)
    t.start()
    return t


def discard_if_empty(path: Path | None) -> bool:
    """Delete the closed session ``path`` if nothing was said, typed, played or shown in it;
    True when deleted. A file that cannot be read is left alone."""
    if path is None or not path.is_file():
        return False
    from app.sessions import delete_session
    from realtime.recording.reader import SessionFile

    try:
        with SessionFile(path, check=False) as sf:
            counts = sf.table_counts()
        if any(counts.get(t, 0) for t in _CONTENT):
            return False
        delete_session(path)
    except SessionFileError as exc:
        log.warning("empty session %s not removed: %s", path, exc)
        return False
    return True
