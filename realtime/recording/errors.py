"""The two errors of the recording package (see the package docstring for the tree)."""

from __future__ import annotations

from typing import Literal

RecordingFailure = Literal["disk_full", "not_writable", "too_slow", "other"]


class RecordingError(Exception):
    """Recording stopped. Carried in the recorder's status and error callback, never raised
    into the code calling ``record_*``/``on_wire``. ``str()`` is a sentence a person can act on;
    ``reason`` classifies it (``disk_full`` may pass once space is freed; ``not_writable``
    needs another folder)."""

    def __init__(self, message: str, reason: RecordingFailure = "other") -> None:
        super().__init__(message)
        self.reason: RecordingFailure = reason


class SessionFileError(Exception):
    """A file cannot be read as a VoiceCam session. ``str()`` names the file and the problem."""
