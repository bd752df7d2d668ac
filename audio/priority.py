"""Scheduling priority for the threads that carry audio (issue 16 item 6: keep the deadline when
the computer is busy).

Which threads: the two PortAudio callback threads (``audio.split_stream``; each asks for itself
on its first call) and the sound server's client threads in this process (PulseAudio's ALSA
plugin runs one ``threaded-ml`` mainloop thread per stream; the callbacks hand every block to
it, so a real-time callback waiting on a starved mainloop gains nothing: measured here, the
output lost 160 of 1500 callbacks in 15 s with only the callbacks raised).

What is asked (``Priority``): ``REALTIME`` tries ``SCHED_FIFO`` at ``RT_PRIORITY`` and falls
back to ``NICE``; ``NICE`` tries nice -10 (a larger share of the CPU, never starving anyone);
``NORMAL`` asks nothing. A refusal (no ``CAP_SYS_NICE``, no ``RLIMIT_RTPRIO``, not Linux) is
never an error: the thread keeps what it had and the refusal is logged once per kind, at INFO.

Linux: ``sched_setscheduler`` and ``setpriority(PRIO_PROCESS, tid)`` act on one thread when
given a thread id (0: the calling thread). One or two syscalls per thread, once.
"""

from __future__ import annotations

import enum
import logging
import os
import threading

__all__ = ["RT_PRIORITY", "Priority", "raise_sound_server_threads", "raise_thread_priority"]

log = logging.getLogger(__name__)

RT_PRIORITY = 3
NICE = -10
#: thread names (``/proc/self/task/*/comm``) of the sound server's client threads
SOUND_SERVER_THREADS = ("threaded-ml",)

_said: set[str] = set()
_said_lock = threading.Lock()


class Priority(enum.StrEnum):
    NORMAL = "normal"
    NICE = "nice"
    REALTIME = "realtime"


def _refused(kind: str, exc: BaseException) -> None:
    with _said_lock:
        if kind in _said:
            return
        _said.add(kind)
    log.info("audio threads keep their priority: %s refused (%s)", kind, exc)


def raise_thread_priority(want: Priority, tid: int = 0) -> str:
    """Ask the OS for ``want`` for thread ``tid`` (0: the calling thread). Returns what was
    granted: ``"SCHED_FIFO 3"``, ``"nice -10"`` or ``"normal"``. Never raises."""
    if want is Priority.REALTIME:
        try:
            os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(RT_PRIORITY))
            return f"SCHED_FIFO {RT_PRIORITY}"
        except (AttributeError, OSError) as exc:
            _refused("SCHED_FIFO", exc)
    if want in (Priority.REALTIME, Priority.NICE):
        try:
            os.setpriority(os.PRIO_PROCESS, tid, NICE)
            return f"nice {NICE}"
        except (AttributeError, OSError) as exc:
            _refused(f"nice {NICE}", exc)
    return "normal"


def raise_sound_server_threads(want: Priority, done: set[int]) -> dict[int, str]:
    """Raise this process's sound-server client threads not in ``done`` (their ids are added).
    Returns thread id → what was granted. Never raises (no ``/proc``: nothing)."""
    granted: dict[int, str] = {}
    if want is Priority.NORMAL:
        return granted
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return granted
    for name in tids:
        tid = int(name)
        if tid in done:
            continue
        try:
            with open(f"/proc/self/task/{name}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in SOUND_SERVER_THREADS:
            done.add(tid)
            granted[tid] = raise_thread_priority(want, tid)
    return granted
