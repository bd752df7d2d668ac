"""Who is told when a conversation's recording stops, cannot start, or resumes.

``RecordingNotices`` is what ``app.compose.build_recorder`` needs besides the folder: the
callback for a failure (the recorder's sentence: what stopped or could not start, why, and what
happens next), the callback for a resumption after a full disk (the new file), and the sentence
telling a person how to retry when waiting for space will not help (a folder that cannot be
written). Each front end words the retry its own way:

- the window (``app.gui.adapter``) publishes ``RecordingChanged(on, path, error)`` and a
  ``NoticeChanged`` for a resumption; retry: another sessions folder in the settings;
- the headless CLI (``cli_notices``) prints one ``voicecam: …`` line on stderr for each;
  retry: run again with another ``--record`` folder.

The conversation is never affected. Callbacks run on the recorder's writer thread or its
watcher thread (``realtime.recording.resilient``): they must be quick and must not raise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from realtime.recording.errors import RecordingError

__all__ = ["CLI_RETRY_HINT", "WINDOW_RETRY_HINT", "RecordingNotices", "cli_notices"]

WINDOW_RETRY_HINT = "Choose a writable sessions folder in the settings to record."
CLI_RETRY_HINT = "To record, run again with --record pointing to a writable folder."


@dataclass(frozen=True)
class RecordingNotices:
    """See the module docstring. ``on_error``: recording stopped or could not start (the
    error's text is one sentence with what happens next); ``on_resumed``: recording goes on
    in the new file at this path."""

    on_error: Callable[[RecordingError], None] | None = None
    on_resumed: Callable[[Path], None] | None = None
    retry_hint: str = WINDOW_RETRY_HINT


def cli_notices(err: TextIO | None = None) -> RecordingNotices:
    """Notices printed as one ``voicecam: …`` line each on ``err`` (default: the
    ``sys.stderr`` of the moment, i.e. the CLI's scrubbing stream). One write per line."""

    def say(line: str) -> None:
        stream = err or sys.stderr
        stream.write(line + "\n")
        stream.flush()

    def failed(error: RecordingError) -> None:
        say(f"voicecam: {error}")

    def resumed(path: Path) -> None:
        say(f"voicecam: Recording resumed into {path}.")

    return RecordingNotices(on_error=failed, on_resumed=resumed, retry_hint=CLI_RETRY_HINT)
