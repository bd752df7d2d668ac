"""The background worker of the streaming re-decodes (``live_transcript``) and its own Whisper.

The re-decodes of the utterance in progress only serve the transcription deltas; the turn's
judged/final transcript and the reply come first. They used to share the one Whisper model
(``Models.whisper``, behind ``whisper_lock``) with those: a re-decode started just before the
voice stopped held Whisper for 0.3-1.1 s (measured, 2 shared cores) while the judged transcript
of the turn's end waited for it, and a Whisper decode cannot be interrupted (its 30 s encoder
pass is most of the cost, so stopping between encoder and decoder would save little).

So the re-decodes run on a second copy of Whisper tiny.en (~40 MB) whose compute runs at the
lowest CPU priority (``nice`` +19, Linux): it is loaded by a short-lived thread that lowers its
own priority first, and the threads the model starts (CTranslate2's worker and its OpenMP team,
which do all the arithmetic, without the GIL) inherit it. A re-decode in flight then only takes
the CPU time the turn's transcript, the turn model, the language model and piper leave idle, and
it never holds ``whisper_lock``. The re-decode worker itself (Python, holding the GIL between
those calls) keeps the normal priority: a starved GIL holder would stall the event loop. Where
the priority cannot be lowered (not Linux) or the copy fails to load, ``background_whisper()``
is None and the re-decodes fall back to the shared model, skipped while it is busy.

Thread: ``shared_worker()``/``load_low_priority()`` from any thread; ``background_whisper()``
on the worker only.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import threading
from typing import Any

from realtime.local.models import ModelLoadError, load_whisper

#: Niceness of the threads the re-decodes' Whisper copy computes on (19: lowest).
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


def load_low_priority() -> Any | None:
    """A Whisper copy whose compute threads run at priority ``NICE``, or None when the
    priority cannot be lowered or the model does not load (reported on stderr). Blocks
    ~0.5 s; the calling thread keeps its own priority. Thread: any."""
    box: list[Any] = [None]

    def load() -> None:
        if not _lower_priority():
            return  # a copy at normal priority would only compete with the reply
        try:
            box[0] = load_whisper()
        except ModelLoadError as exc:
            print(
                f"voicecam-server: live transcription shares Whisper ({exc})",
                file=sys.stderr,
                flush=True,
            )

    loader = threading.Thread(target=load, name="voicecam-live-stt-load")
    loader.start()
    loader.join()
    return box[0]


def shared_worker() -> concurrent.futures.ThreadPoolExecutor:
    """The one re-decode thread of this process (created on first use, never shut down)."""
    global _worker
    with _lock:
        if _worker is None:
            _worker = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="voicecam-live-stt"
            )
        return _worker


def background_whisper() -> Any | None:
    """The re-decodes' low-priority Whisper copy (``load_low_priority``, on the first call),
    or None when it is unavailable (then decode with the shared model). Thread: the worker
    only (``shared_worker``)."""
    if not _model:
        _model.append(load_low_priority())
    return _model[0]


def warm() -> None:
    """Load the copy on the worker now (in the background), not at the first re-decode."""
    shared_worker().submit(background_whisper)
