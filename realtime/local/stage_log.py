"""Where a turn's time goes: timestamped stage marks for benchmarks (off unless asked for).

With ``$VOICECAM_STAGE_LOG`` set to a file, ``mark(stage, **fields)`` appends one JSON line
``{"t": <time.monotonic() seconds>, "stage": ..., **fields}``; without it, ``mark`` returns at
once. ``bench/bench_turns.py`` sets it, reads the lines each clip produced and prints, per
stage, how long after the real end of speech it happened (``time.monotonic`` is the system's
monotonic clock, shared by the bench and the server processes on Linux).

Stages (one turn, in order): ``silence`` (speculative transcription started), ``stt_start`` /
``stt_done`` (a Whisper decode got the model after waiting ``wait_ms`` / finished),
``live_start`` / ``live_done`` / ``live_skip`` (a streaming re-decode), ``ask`` (a semantic_vad
checkpoint), ``acoustic`` (Smart Turn answered), ``words`` (the judged transcript is ready),
``scored`` (the words' score is ready), ``judged``, ``commit``, ``context`` (a response's
request is built), ``first_piece`` (the brain's first text), ``first_sentence`` (queued for
speech), ``tts_done`` (the first sentence is synthesised).

Thread: any (one lock around the append). Never logs audio, text the user said, or keys.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

ENV = "VOICECAM_STAGE_LOG"
_lock = threading.Lock()


def enabled() -> bool:
    """Whether marks are written (``$VOICECAM_STAGE_LOG`` is set)."""
    return bool(os.environ.get(ENV))


def mark(stage: str, **fields: Any) -> None:
    """Append ``stage`` with the current monotonic time (a no-op without ``$VOICECAM_STAGE_LOG``).
    ``fields``: small JSON-serialisable values (durations in ms, sample counts, labels)."""
    path = os.environ.get(ENV)
    if not path:
        return
    line = json.dumps({"t": time.monotonic(), "stage": stage, **fields})
    with _lock:
        try:
            with open(path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError:
            pass
