"""Is the audio device lost, or is the computer just too busy? — a pure decision class.

:class:`StreamWatchdog` has no clock, thread or I/O: the engine thread calls :meth:`check` on
every ``process()`` with the current time and the stream's counters (``audio.duplex.DuplexIO``),
and gets a :class:`Verdict` with a :class:`Reason`.

Why: the old rule ("no callback for ``device_timeout_ms`` → device lost") fired 15 times in one
loaded run (two busy processes on both cores, load average 7–11) on a device that was fine: a
starved process runs neither the PortAudio callback *nor* the engine thread, so when the engine
thread finally runs, the last callback looks old. Silence only counts as evidence while the
engine itself is running on time:

* **silence seen on time**: the sum, over ticks that saw no new callback, of the time since the
  previous tick capped at ``tick_cap_ms`` (a tick that comes late adds only the cap: the process
  was starved, the device is not to blame). The device is ``LOST`` when that sum reaches
  ``timeout_ms`` *and* the wall-clock silence does too (``NO_CALLBACKS``);
* ``STREAM_FINISHED`` / ``STREAM_INACTIVE``: PortAudio says so — lost at once;
* ``NEVER_STARTED``: no first callback within ``startup_timeout_ms`` (measured the same way).

Every tick also feeds :class:`Health`, the status line's truth: ``STRUGGLING`` while, in the last
``window_ms``, the engine ran late (``LATE_TICKS``), the device under/overflowed or the ring
dropped blocks (``XRUNS``), or callbacks paused longer than ``gap_ms`` (``CALLBACK_GAPS``);
``OK`` otherwise. Engine thread only.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

__all__ = ["Health", "HealthState", "Reason", "StreamCounters", "StreamWatchdog", "Verdict"]

_MS = 1_000_000


class Reason(enum.StrEnum):
    RUNNING = "running"
    STARVED = "starved"
    NO_CALLBACKS = "no-callbacks"
    NEVER_STARTED = "never-started"
    STREAM_FINISHED = "stream-finished"
    STREAM_INACTIVE = "stream-inactive"
    LATE_TICKS = "late-ticks"
    XRUNS = "xruns"
    CALLBACK_GAPS = "callback-gaps"

    @property
    def text(self) -> str:
        return _TEXT[self]


_TEXT = {
    Reason.RUNNING: "audio is running",
    Reason.STARVED: "no audio for a while, but the computer is too busy to tell: waiting",
    Reason.NO_CALLBACKS: "no audio from the device",
    Reason.NEVER_STARTED: "the device never started delivering audio",
    Reason.STREAM_FINISHED: "the audio stream ended",
    Reason.STREAM_INACTIVE: "the audio stream stopped",
    Reason.LATE_TICKS: "audio is struggling: the computer is busy (audio processing runs late)",
    Reason.XRUNS: "audio is struggling: sound dropped out (the computer is busy)",
    Reason.CALLBACK_GAPS: "audio is struggling: the sound device waited for the computer",
}


class HealthState(enum.StrEnum):
    OK = "ok"
    STRUGGLING = "struggling"
    LOST = "lost"


@dataclass(frozen=True)
class StreamCounters:
    """A snapshot of ``DuplexIO``'s counters (read on the engine thread)."""

    callbacks: int
    last_callback_ns: int
    xruns: int  # device under/overflows + ring drops, cumulative
    active: bool = True
    finished: bool = False


@dataclass(frozen=True)
class Verdict:
    lost: bool
    reason: Reason
    silent_ms: float  # wall-clock since the last callback (or since opening)
    silent_on_time_ms: float  # the part that counts as evidence


@dataclass(frozen=True)
class Health:
    state: HealthState
    reason: Reason
    detail: str = ""

    @property
    def text(self) -> str:
        return f"{self.reason.text} ({self.detail})" if self.detail else self.reason.text


class StreamWatchdog:
    """Device-loss decisions and audio health for one open stream (see the module docstring)."""

    def __init__(
        self,
        opened_ns: int,
        *,
        timeout_ms: int = 1000,
        startup_timeout_ms: int = 5000,
        tick_ms: int = 10,
        tick_cap_ms: int = 50,
        window_ms: int = 5000,
        late_tick_ms: int = 100,
        gap_ms: int = 60,
    ) -> None:
        self.timeout_ns = timeout_ms * _MS
        self.startup_ns = startup_timeout_ms * _MS
        self.tick_ns = tick_ms * _MS
        self.cap_ns = tick_cap_ms * _MS
        self.window_ns = window_ms * _MS
        self.late_ns = late_tick_ms * _MS
        self.gap_ns = gap_ms * _MS
        self._opened = opened_ns
        self._last_tick: int | None = None
        self._callbacks = 0
        self._xruns = 0
        self._last_cb_ns = opened_ns
        self._silent_on_time = 0
        self._late: deque[int] = deque()
        self._xrun_times: deque[int] = deque()
        self._gaps: deque[int] = deque()
        self.late_ticks = 0
        self.starved_silences = 0

    def check(self, now_ns: int, c: StreamCounters) -> Verdict:
        """Engine thread, every ``process()``: is the device lost? Also updates :meth:`health`."""
        dt = now_ns - self._last_tick if self._last_tick is not None else self.tick_ns
        self._last_tick = now_ns
        if dt > self.late_ns:
            self.late_ticks += 1
            self._late.append(now_ns)
        if c.xruns != self._xruns:
            self._xruns = c.xruns
            self._xrun_times.append(now_ns)
        if c.callbacks != self._callbacks:
            if c.last_callback_ns - self._last_cb_ns > self.gap_ns and self._callbacks:
                self._gaps.append(now_ns)
            self._callbacks = c.callbacks
            self._last_cb_ns = c.last_callback_ns
            self._silent_on_time = 0
        else:
            self._silent_on_time += min(dt, self.cap_ns)
        self._expire(now_ns)
        silent = now_ns - (self._last_cb_ns if self._callbacks else self._opened)
        if c.finished:
            return Verdict(True, Reason.STREAM_FINISHED, silent / _MS, self._silent_on_time / _MS)
        if not c.active:
            return Verdict(True, Reason.STREAM_INACTIVE, silent / _MS, self._silent_on_time / _MS)
        limit = self.timeout_ns if self._callbacks else self.startup_ns
        on_time = self._silent_on_time
        if silent >= limit and on_time >= limit:
            why = Reason.NO_CALLBACKS if self._callbacks else Reason.NEVER_STARTED
            return Verdict(True, why, silent / _MS, on_time / _MS)
        if silent >= limit:
            self.starved_silences += 1
            return Verdict(False, Reason.STARVED, silent / _MS, on_time / _MS)
        return Verdict(False, Reason.RUNNING, silent / _MS, on_time / _MS)

    def health(self) -> Health:
        """What the status line should say, from the last ``window_ms`` of ticks."""
        if self._late:
            return Health(HealthState.STRUGGLING, Reason.LATE_TICKS, f"{len(self._late)} late")
        if self._xrun_times:
            n = len(self._xrun_times)
            return Health(HealthState.STRUGGLING, Reason.XRUNS, f"{n} dropouts")
        if self._gaps:
            return Health(HealthState.STRUGGLING, Reason.CALLBACK_GAPS, f"{len(self._gaps)} gaps")
        return Health(HealthState.OK, Reason.RUNNING)

    def _expire(self, now_ns: int) -> None:
        for q in (self._late, self._xrun_times, self._gaps):
            while q and q[0] < now_ns - self.window_ns:
                q.popleft()
