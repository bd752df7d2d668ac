"""How the conversation's recorder reports to the window, for ``app.gui.adapter``.

``RecordingReports`` turns the recorder's own reports (issue 17, items 1-3) into model events:
a failure as ``RecordingChanged(False, None, why)`` (the window says it in the status bar), a
resumption after a full disk as ``RecordingChanged(True, path)`` plus a notice naming the new
file. ``begin``/``started`` are called on the adapter's connect worker around building the
recorder; the reports come on the recorder's threads. One lock orders them, so a recorder that
failed at once is never shown as recording.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from app.gui.adapter_parts import SessionRecording
from app.model import ModelEvent, NoticeChanged, RecordingChanged
from app.recording_notes import WINDOW_RETRY_HINT, RecordingNotices


class RecordingReports:
    """The recording's state as the window hears it; ``publish`` sends the model events."""

    def __init__(self, publish: Callable[[ModelEvent], None]) -> None:
        self._publish = publish
        # Orders the recorder's own reports (its threads) after "recording on" (the connect
        # worker): a recorder that failed at once must not be shown as recording.
        self._lock = threading.Lock()
        self._error: str | None = None

    def begin(self) -> None:
        """Connect worker: a new recorder is about to be built; forget the last one's error."""
        with self._lock:
            self._error = None

    def started(self, path: Path | None) -> None:
        """Connect worker: the recorder is built; say "recording" unless it already failed."""
        with self._lock:
            if self._error is None:  # else it has said why it is not recording
                self._publish(RecordingChanged(True, str(path) if path else None))

    def notices(self) -> RecordingNotices:
        """The callbacks the recorder reports through (called on the recorder's threads)."""
        return RecordingNotices(
            on_error=self._failed,
            on_resumed=self._resumed,
            retry_hint=WINDOW_RETRY_HINT,
        )

    def _failed(self, error: Exception) -> None:
        """Recording stopped or could not start (recorder thread)."""
        with self._lock:
            self._error = str(error)
            self._publish(RecordingChanged(False, None, str(error)))

    def _resumed(self, path: Path) -> None:
        """The disk had room again: recording goes on in a new file (recorder thread)."""
        with self._lock:
            self._error = None
            self._publish(RecordingChanged(True, str(path)))
            self._publish(NoticeChanged(f"Recording resumed into {path}."))


def close_recording(rec: SessionRecording) -> None:
    """Close the conversation's recording; a session with nothing in it (a failed connect)
    is deleted rather than listed as "0:00 (no question)"."""
    from app.retention import discard_if_empty

    rec.close()
    discard_if_empty(rec.path)
