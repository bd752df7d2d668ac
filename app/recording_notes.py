"""The headless CLI's recorder: recording failures and resumptions said plainly on stderr.

``cli_recorder(folder, metadata)`` builds a ``ResilientRecorder`` in ``folder`` whose failures
print one ``voicecam: …`` line (what stopped or could not start, why, and what happens next or
how to retry) and whose resumption prints the new file's path. The conversation is never
affected. Lines are written from the recorder's threads; each is one write call.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from realtime.recording.errors import RecordingError
from realtime.recording.resilient import ResilientRecorder

CLI_RETRY_HINT = "To record, run again with --record pointing to a writable folder."


def cli_recorder(
    folder: Path,
    metadata: Mapping[str, object],
    *,
    err: TextIO | None = None,
    retry_every_s: float = 2.0,
    min_free_bytes: int = 16 * 1024 * 1024,
) -> ResilientRecorder:
    def say(line: str) -> None:
        stream = err or sys.stderr
        stream.write(line + "\n")
        stream.flush()

    def failed(error: RecordingError) -> None:
        say(f"voicecam: {error}")

    def resumed(path: Path) -> None:
        say(f"voicecam: Recording resumed into {path}.")

    return ResilientRecorder(
        folder,
        metadata=metadata,
        on_error=failed,
        on_resumed=resumed,
        retry_hint=CLI_RETRY_HINT,
        retry_every_s=retry_every_s,
        min_free_bytes=min_free_bytes,
    )
