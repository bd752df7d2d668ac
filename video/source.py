"""The ``FrameSource`` protocol and the threaded base every source builds on.

A source captures on its own daemon thread into a one-slot :class:`~video.frame.Mailbox`;
consumers poll :meth:`FrameSource.latest`. When the device/file/stream is missing or disappears the
source does not raise: it reports a :class:`~video.errors.CameraError` through
:meth:`FrameSource.errors` (once per outage), keeps retrying every ``retry_s`` seconds in the
background, and ``latest()`` returns None meanwhile (no stale frame). When it comes back, frames
flow again and :attr:`state` returns to ``LIVE``.

Thread contract: ``start``/``stop``/``latest``/``errors``/``measured_fps``/``state`` may be called
from any thread. The subclass hooks ``_open``/``_read``/``_close`` run only on the capture thread.
After ``stop()`` returns, no frame captured by that run can appear in the mailbox.
"""

from __future__ import annotations

import collections
import enum
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from video.errors import CameraError
from video.frame import Frame, Image, Mailbox

__all__ = ["Clock", "EndOfStream", "FpsMeter", "FrameSource", "SourceState", "ThreadedSource"]

Clock = Callable[[], int]
"""Returns monotonic nanoseconds (``time.monotonic_ns`` in production)."""


class SourceState(enum.StrEnum):
    STOPPED = "stopped"  # not started, or stopped
    OPENING = "opening"  # trying to open the device/file/stream
    LIVE = "live"  # delivering frames
    LOST = "lost"  # missing or disappeared; retrying in the background
    ENDED = "ended"  # a non-looping file reached its end


@runtime_checkable
class FrameSource(Protocol):
    """What the app and the feed need from any camera, file, URL or screen source."""

    @property
    def name(self) -> str:
        """A human-readable name (camera name, file name, redacted URL, "Screen 1", …)."""
        ...

    def start(self) -> None:
        """Start capturing on a background thread (idempotent; restartable after ``stop``)."""
        ...

    def stop(self) -> None:
        """Stop capturing, release the device, and forget the last frame (``latest()`` → None)."""
        ...

    def latest(self) -> Frame | None:
        """The newest frame, or None (not started, stopped, lost)."""
        ...

    @property
    def measured_fps(self) -> float:
        """Frames per second actually delivered over the last ~2 s (0.0 when none)."""
        ...

    @property
    def state(self) -> SourceState: ...

    def errors(self) -> list[CameraError]:
        """Errors since the last call (drained); one per outage, not one per retry."""
        ...


class EndOfStream(Exception):
    """Raised by ``_read`` when a non-looping file has no more frames."""


class FpsMeter:
    """Frames per second over a sliding window; thread-safe."""

    def __init__(self, clock: Clock, window_s: float = 2.0) -> None:
        self._clock = clock
        self._window_ns = int(window_s * 1e9)
        self._times: collections.deque[int] = collections.deque(maxlen=256)
        self._lock = threading.Lock()

    def tick(self, t_ns: int) -> None:
        with self._lock:
            self._times.append(t_ns)

    def reset(self) -> None:
        with self._lock:
            self._times.clear()

    @property
    def fps(self) -> float:
        now = self._clock()
        with self._lock:
            recent = [t for t in self._times if now - t <= self._window_ns]
        if len(recent) < 2 or recent[-1] == recent[0]:
            return 0.0
        return (len(recent) - 1) * 1e9 / (recent[-1] - recent[0])


class ThreadedSource(ABC):
    """Base class: capture thread, mailbox, fps meter, error events, background retry."""

    def __init__(self, name: str, *, retry_s: float = 2.0, clock: Clock = time.monotonic_ns):
        if retry_s <= 0:
            raise ValueError(f"retry_s must be > 0 seconds, got {retry_s}")
        self._name = name
        self._retry_s = retry_s
        self._clock = clock
        self._mailbox = Mailbox()
        self._meter = FpsMeter(clock)
        self._errors: collections.deque[CameraError] = collections.deque(maxlen=64)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._run_stop: threading.Event | None = None
        self._state = SourceState.STOPPED
        self._local = threading.local()  # per capture thread: its run's stop event

    # ------------------------------------------------------------------ public API

    @property
    def name(self) -> str:
        return self._name

    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def measured_fps(self) -> float:
        return self._meter.fps

    def latest(self) -> Frame | None:
        return self._mailbox.latest()

    def wait_frame(self, after_seq: int = 0, timeout_s: float = 5.0) -> Frame | None:
        """Block until a frame newer than ``after_seq`` exists (or timeout). For tests and tools."""
        return self._mailbox.wait_newer(after_seq, timeout_s)

    def errors(self) -> list[CameraError]:
        with self._lock:
            out = list(self._errors)
            self._errors.clear()
        return out

    def start(self) -> None:
        with self._lock:
            running = self._thread is not None and self._thread.is_alive()
            capturing = (
                running
                and self._run_stop is not None
                and not self._run_stop.is_set()
                # an ENDED file restarts even while its finished thread is still exiting
                and self._state is not SourceState.ENDED
            )
            if capturing:
                return
            if self._run_stop is not None:
                self._run_stop.set()  # an ended run: make sure its thread can't publish
            previous = self._thread if running else None
            stop = threading.Event()
            self._run_stop = stop
            self._state = SourceState.OPENING
            self._thread = threading.Thread(
                target=self._run, args=(stop, previous), name=f"video:{self._name}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout_s: float = 1.0) -> None:
        """Stop; waits up to ``timeout_s`` for the thread (a blocked read may outlive it — the
        thread then exits by itself and can no longer publish frames)."""
        with self._lock:
            stop, thread = self._run_stop, self._thread
            if stop is not None:
                stop.set()
            self._mailbox.clear()
            self._meter.reset()
            self._state = SourceState.STOPPED
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)

    # ------------------------------------------------------------------ subclass hooks

    @abstractmethod
    def _open(self) -> None:
        """Open the device (capture thread). Raise CameraError with an actionable message."""

    @abstractmethod
    def _read(self) -> Image | None:
        """Read the next frame (capture thread; may block/pace). None → the source was lost.
        May raise CameraError (lost, with a specific message) or EndOfStream."""

    @abstractmethod
    def _close(self) -> None:
        """Release the device (capture thread). Must not raise."""

    def _wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` on the capture thread; True if the source is being stopped."""
        stop: threading.Event | None = getattr(self._local, "stop", None)
        if stop is None:
            time.sleep(max(0.0, seconds))
            return False
        return stop.wait(max(0.0, seconds))

    def _lost_message(self) -> str:
        return (
            f"{self._name} stopped delivering frames (unplugged, switched off, or taken by another "
            f"application?). Retrying every {self._retry_s:g} s; the conversation continues "
            "without video."
        )

    # ------------------------------------------------------------------ capture thread

    def _report(self, err: CameraError, stop: threading.Event) -> None:
        with self._lock:
            if stop.is_set():
                return
            self._errors.append(err)
            self._state = SourceState.LOST
            self._mailbox.clear()  # never show or send a frame from before the outage
            self._meter.reset()

    def _publish(self, image: Image, stop: threading.Event) -> None:
        t_ns = self._clock()
        with self._lock:
            if stop.is_set():
                return
            self._mailbox.put(image, t_ns)
            self._state = SourceState.LIVE
        self._meter.tick(t_ns)

    def _set_state(self, state: SourceState, stop: threading.Event) -> None:
        with self._lock:
            if not stop.is_set():
                self._state = state

    def _run(self, stop: threading.Event, previous: threading.Thread | None = None) -> None:
        if previous is not None:
            # A quick stop()/start(): the old thread may still be blocked in a read. The device
            # state lives on ``self``, so let it finish and close its device before opening ours.
            previous.join()
        self._local.stop = stop
        in_outage = False
        while not stop.is_set():
            self._set_state(SourceState.OPENING if not in_outage else SourceState.LOST, stop)
            try:
                self._open()
            except Exception as exc:  # a source must never crash the app
                if not in_outage:
                    self._report(self._as_camera_error(exc, opening=True), stop)
                in_outage = True
                stop.wait(self._retry_s)
                continue
            in_outage = False
            try:
                while not stop.is_set():
                    image = self._read()
                    if image is None:
                        raise CameraError(self._lost_message(), source=self._name, retrying=True)
                    self._publish(image, stop)
            except EndOfStream:
                self._set_state(SourceState.ENDED, stop)
                return
            except Exception as exc:
                self._report(self._as_camera_error(exc, opening=False), stop)
                in_outage = True
            finally:
                self._close()
            stop.wait(self._retry_s)

    def _as_camera_error(self, exc: Exception, *, opening: bool) -> CameraError:
        if isinstance(exc, CameraError):
            if not exc.source:
                exc.source = self._name
            exc.retrying = True
            return exc
        what = "could not be opened" if opening else "failed while reading"
        return CameraError(
            f"{self._name} {what} ({type(exc).__name__}: {exc}). Retrying every "
            f"{self._retry_s:g} s; the conversation continues without video.",
            source=self._name,
            retrying=True,
        )
