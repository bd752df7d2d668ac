"""What a person does with one recorded session (a Qt-free facade for the Sessions browser):
rename it, share it as one scrubbed file, export it to WAV / MP4 / Markdown / SRT.

- :func:`rename` stores a title (also in the search index); the file keeps its name.
- :func:`share` writes a single self-contained ``*.voicecam`` copy with every secret this
  process knows scrubbed and the scrub verified (``realtime.recording.share``): the API keys
  in the environment or the keyring, the offline backend's token, any key seen this run.
- :func:`export_to` is ``voicecam export`` (``app.export``; format from the suffix).

Blocking (files are read and written): call from a worker thread. Errors carry a sentence a
person can act on: ``SessionFileError`` (the session), ``ValueError`` (a bad title),
``ShareError`` / ``app.export.ExportError`` (the target).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from realtime.recording.errors import SessionFileError
from realtime.recording.manage import rename_session
from realtime.recording.scrub import held_secrets
from realtime.recording.share import ExportError as ShareError
from realtime.recording.share import ExportReport, export_session

__all__ = [
    "EXPORT_FORMATS",
    "ExportReport",
    "SessionFileError",
    "ShareError",
    "export_to",
    "known_secrets",
    "rename",
    "share",
]

#: Export formats: (suffix, what a file dialog shows).
EXPORT_FORMATS = (
    (".mp4", "Video with sound (*.mp4)"),
    (".wav", "Audio (*.wav)"),
    (".md", "Transcript with images (*.md)"),
    (".srt", "Subtitles (*.srt)"),
)


def rename(path: str | Path, title: str) -> str:
    """Give the session a title; returns the title stored (cleaned, secrets scrubbed)."""
    from app.session_search import session_index

    p = Path(path)
    try:
        index = session_index(p.parent)
    except SessionFileError:
        index = None
    return rename_session(p, title, index)


def known_secrets() -> tuple[str, ...]:
    """Every secret value this process can know of: keys in the environment or the keyring,
    the ws:// backend's token, and values registered with ``hold_secret``."""
    from app.secrets import api_key

    found = set(held_secrets())
    for provider in ("openai", "gemini"):
        with contextlib.suppress(Exception):  # no key, or no keyring: nothing to scrub
            found.add(api_key(provider))
    token = os.environ.get("VOICECAM_BACKEND_TOKEN", "")
    if token:
        found.add(token)
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


def share(path: str | Path, out: str | Path) -> ExportReport:
    """The single-file shareable copy of a session, scrub verified (see module docstring)."""
    return export_session(path, out, secrets=known_secrets())


def export_to(
    path: str | Path, out: str | Path, progress: Callable[[float], None] | None = None
) -> Path:
    """Export to ``out`` (format from its suffix); ``progress(fraction)`` while an MP4 is
    encoded (on the calling thread)."""
    from app.export import export

    return export(path, out, progress)
