"""Session recording: one SQLite file per session, written by a background thread, read back
for replay, export and re-runs.

Error tree::

    RecordingError        the recorder stopped (disk full, folder not writable, ...); reported,
                          never raised into the code that records
    SessionFileError      a file could not be read as a session (missing, corrupt, truncated,
                          not a session file, newer schema)

Modules: ``schema`` (tables, version), ``writer`` (``SessionRecorder``), ``reader``
(``SessionFile``), ``listing`` (browse/delete sessions), ``scrub`` (secret redaction),
``records`` (the rows read back). The recorder derives nothing: turns, latency and usage rows
are written as the conversation core reports them (``app.core_record``); files written while an
older recorder derived them read the same way.
"""

from __future__ import annotations

from realtime.recording.errors import RecordingError, SessionFileError

__all__ = ["RecordingError", "SessionFileError"]
