"""The assistant's engine thread: one daemon thread running one asyncio loop, started lazily.

``EngineThread.loop()`` starts the thread on first use (thread name ``voicecam-engine``) and
returns its loop; every conversation of an ``app.assistant.Assistant`` runs there, one after
another. ``submit(coro_fn)`` schedules ``coro_fn()`` on that loop from any thread and returns at
once; a coroutine that fails is logged (``engine task failed``), never raised to the caller.
``close(timeout_s)`` stops the loop (pending async generators are shut down, the loop closed)
and joins the thread unless called from it.

Threads: ``loop``, ``submit``, ``is_current`` and ``close`` may be called from any thread;
starting is guarded by a lock so two callers get the same loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine

__all__ = ["EngineThread"]

log = logging.getLogger(__name__)


class EngineThread:
    """One lazily started thread with one asyncio loop; see the module docstring."""

    def __init__(self, name: str = "voicecam-engine") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def started_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop if the thread was started, else None (nothing is started)."""
        return self._loop

    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop, starting the thread first if needed (blocks until it runs)."""
        with self._lock:
            if self._loop is not None:
                return self._loop
            ready = threading.Event()
            holder: list[asyncio.AbstractEventLoop] = []

            def run() -> None:
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
                holder.append(loop)
                ready.set()
                loop.run_forever()
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

            self._thread = threading.Thread(target=run, name=self._name, daemon=True)
            self._thread.start()
            ready.wait()
            self._loop = holder[0]
            return self._loop

    def submit(self, coro_fn: Callable[[], Coroutine[object, None, None]]) -> None:
        """Run the coroutine ``coro_fn()`` on the loop (created there, so ``coro_fn`` is
        called on the engine thread). Returns at once; a failure is logged."""
        loop = self.loop()

        def call() -> None:
            task = loop.create_task(coro_fn())
            task.add_done_callback(_log_failure)

        loop.call_soon_threadsafe(call)

    @property
    def is_current(self) -> bool:
        """True when called on the engine thread itself."""
        return self._thread is not None and threading.current_thread() is self._thread

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the loop and wait up to ``timeout_s`` for the thread (not when called on it)."""
        loop, thread = self._loop, self._thread
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout_s)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("engine task failed", exc_info=task.exception())
