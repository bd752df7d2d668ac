"""The two errors of the recording package (see the package docstring for the tree)."""

from __future__ import annotations


class RecordingError(Exception):
    """Recording stopped. Carried in the recorder's status and error callback, never raised
    into the code calling ``record_*``/``on_wire``. ``str()`` is a sentence a person can act on."""


class SessionFileError(Exception):
    """A file cannot be read as a VoiceCam session. ``str()`` names the file and the problem."""
