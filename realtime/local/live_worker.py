"""The background worker of the streaming re-decodes (``live_transcript``) and its own Whisper.

The re-decodes of the utterance in progress only serve the transcription deltas; the turn's
judged/final transcript and the reply come first. They used to share the one Whisper model
(``Models.whisper``, behind ``whisper_lock``) with those: a re-decode started just before the
voice stopped held Whisper for 0.3-1.1 s (measured, 2 shared cores) while the judged transcript
of the turn's end waited for it, and a Whisper decode cannot be interrupted (its 30 s encoder
pass is most of the cost, so stopping between encoder and decoder would save little).

So the re-decodes run on a second copy of Whisper tiny.en (~40 MB) loaded on ONE worker
thread that lowers its own priority first (``nice`` +19 on Linux): the threads the model
starts (CTranslate2's worker and its OpenMP team) inherit it, so a re-decode in flight only
takes the CPU time the turn's transcript, the turn model, the language model and piper leave
idle, and it never holds ``whisper_lock``. Where the priority cannot be lowered (not Linux)
or the copy fails to load, ``background_whisper()`` is None and the re-decodes fall back to
the shared model, skipped while it is busy.

Thread: ``shared_worker()`` from any thread; ``background_whisper()`` ON THE WORKER only.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import threading
from typing import Any

from realtime.local.models import ModelLoadError, load_whisper

#: Niceness of the re-decode worker and of the threads its Whisper copy starts (19: lowest).
NICE = 19

_lock = threading.Lock()
_worker: concurrent.futures.ThreadPoolExecutor | None = None
#: The worker's Whisper copy: unset (not tried yet), the model, or None (unavailable).
_model: list[Any] = []


def _lower_priority() -> bool:
    """Lower the calling thread's priority (Linux: per-thread nice). Whether it worked."""
    if not sys.platform.startswith("linux"):
        return False  # elsewhere PRIO_PROCESS with a thread id would name a process
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(NICE, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError:
        return False
    return True


def _init_worker() -> None:
    if not _lower_priority():
        _model.append(None)  # a copy at normal priority would only compete with the reply


def shared_worker() -> concurrent.futures.ThreadPoolExecutor:
    """The one re-decode thread of this process (created on first use, never shut down)."""
    global _worker
    with _lock:
        if _worker is None:
            _worker = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="voicecam-live-stt", initializer=_init_worker
            )
        return _worker


def background_whisper() -> Any | None:
    """The worker's low-priority Whisper copy, loaded on the first call (~0.5 s), or None when
    it is unavailable (then decode with the shared model). Thread: the worker only."""
    if not _model:
        try:
            _model.append(load_whisper())
        except ModelLoadError as exc:
            print(
                f"voicecam-server: live transcription shares Whisper ({exc})",
                file=sys.stderr,
                flush=True,
            )
            _model.append(None)
    return _model[0]


def warm() -> None:
    """Load the copy on the worker now (in the background), not at the first re-decode."""
    shared_worker().submit(background_whisper)
