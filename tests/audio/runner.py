"""Runs an ``AudioEngine`` on its own 'engine thread' (as the app does) for integration tests and
benchmarks: ``process()`` every ``period_ms``; other engine-thread calls go through ``call()``."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from audio.engine import AudioEngine
from audio.events import AudioEvent

T = TypeVar("T")


class EngineRunner:
    def __init__(
        self,
        engine: AudioEngine,
        period_ms: float = 5.0,
        on_event: Callable[[AudioEvent, int], None] | None = None,
    ) -> None:
        self.engine = engine
        self.period = period_ms / 1000
        self.on_event = on_event
        self.events: list[tuple[int, AudioEvent]] = []  # (monotonic ns when returned, event)
        self._calls: queue.Queue[tuple[Callable[[], Any], queue.Queue[Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="engine", daemon=True)
        self.errors: list[BaseException] = []

    def __enter__(self) -> EngineRunner:
        self.engine.start()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.engine.stop()

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the engine thread and return its result."""
        box: queue.Queue[Any] = queue.Queue()
        self._calls.put((fn, box))
        ok, value = box.get(timeout=10)
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def _run(self) -> None:
        while not self._stop.is_set():
            while True:
                try:
                    fn, box = self._calls.get_nowait()
                except queue.Empty:
                    break
                try:
                    box.put((True, fn()))
                except BaseException as exc:  # handed back to the caller
                    box.put((False, exc))
            try:
                evs = self.engine.process()
            except BaseException as exc:
                self.errors.append(exc)
                raise
            now = time.monotonic_ns()
            for ev in evs:
                self.events.append((now, ev))
                if self.on_event is not None:
                    self.on_event(ev, now)
            time.sleep(self.period)

    def wait_for(self, kind: type, timeout: float = 10.0, after: int = 0) -> tuple[int, Any]:
        """Wait until an event of ``kind`` returned after ``after`` (ns) shows up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, ev in list(self.events):
                if t >= after and isinstance(ev, kind):
                    return t, ev
            time.sleep(0.01)
        raise TimeoutError(f"no {kind.__name__} within {timeout} s; got {self.kinds()}")

    def of(self, kind: type) -> list[Any]:
        return [ev for _, ev in list(self.events) if isinstance(ev, kind)]

    def kinds(self) -> list[str]:
        return sorted({type(ev).__name__ for _, ev in self.events})
