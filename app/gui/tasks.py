"""Run blocking work (file listing, keyring, device enumeration) off the GUI thread.

``TaskRunner.submit(fn, on_done, on_error)`` runs ``fn()`` on a small thread pool and delivers the
result (or the exception's message) on the GUI thread through a queued signal. Callbacks of a
runner that was shut down are dropped. Call ``shutdown()`` when the owner closes (waits for the
running task, cancels queued ones) so no thread outlives the window.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from PySide6.QtCore import QObject, Signal

T = TypeVar("T")


class TaskRunner(QObject):
    """``submit`` from the GUI thread; callbacks run on the GUI thread, in completion order."""

    _finished = Signal(int, bool, str)  # task id, ok, "" or the error message

    def __init__(self, parent: QObject | None = None, max_workers: int = 1) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="gui-task")
        self._ids = itertools.count(1)
        #: task id → (deliver the kept result, on_error); the result stays in ``submit``'s
        #: closure, so each task keeps its own type and no value crosses the signal untyped.
        self._callbacks: dict[int, tuple[Callable[[], None], Callable[[str], None] | None]] = {}
        self._closed = False
        self._finished.connect(self._deliver)

    def submit(
        self,
        fn: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[str], None] | None = None,
    ) -> Future[None] | None:
        """Run ``fn`` off the GUI thread; call ``on_done(result)`` / ``on_error(msg)`` on it.
        None: the runner was shut down and ``fn`` does not run."""
        if self._closed:
            return None
        task_id = next(self._ids)
        results: list[T] = []  # written by the worker before the signal, read after it

        def deliver() -> None:
            on_done(results[0])

        self._callbacks[task_id] = (deliver, on_error)

        def run() -> None:
            try:
                results.append(fn())
            except Exception as exc:  # delivered as a message a person can read
                self._finished.emit(task_id, False, str(exc) or type(exc).__name__)
            else:
                self._finished.emit(task_id, True, "")

        return self._pool.submit(run)

    def pending(self) -> int:
        return len(self._callbacks)

    def _deliver(self, task_id: int, ok: bool, message: str) -> None:
        cbs = self._callbacks.pop(task_id, None)
        if cbs is None or self._closed:
            return
        deliver, on_error = cbs
        if ok:
            deliver()
        elif on_error is not None:
            on_error(message)

    def shutdown(self, cancel_pending: bool = True) -> None:
        """Stop accepting work and wait for the pool's threads. ``cancel_pending=False`` lets
        queued tasks (e.g. a keyring write) run first; their callbacks are dropped either way."""
        if not self._closed:
            self._closed = True
            self._callbacks.clear()
            self._pool.shutdown(wait=True, cancel_futures=cancel_pending)
