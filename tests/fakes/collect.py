"""Small asyncio helpers for session tests (pytest-asyncio is not used in this project).

``run(coro)`` runs one test coroutine in a fresh event loop with an overall timeout.
``EventCollector(session)`` drains ``session.events()`` in the background and lets a test wait
for an event: ``ev = await col.next(AudioDelta)``, ``await col.until(lambda e: ...)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class _HasEvents(Protocol):
    def events(self) -> Any: ...


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run ``coro`` in a new loop; fail (TimeoutError) if it takes longer than ``timeout`` s."""

    async def guarded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(guarded())


class EventCollector:
    """Collects every event of ``session.events()``; ``done`` once the stream ended."""

    def __init__(self, session: _HasEvents) -> None:
        self.events: list[Any] = []
        self._cursor = 0
        self._changed = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._drain(session))

    async def _drain(self, session: _HasEvents) -> None:
        async for event in session.events():
            self.events.append(event)
            self._changed.set()
        self._changed.set()

    @property
    def done(self) -> bool:
        return self.task.done()

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.events if isinstance(e, kind)]

    async def until(self, pred: Callable[[Any], bool], timeout: float = 10.0) -> Any:
        """Wait for the first event (from the start) matching ``pred``; return it."""

        async def wait() -> Any:
            while True:
                for e in self.events:
                    if pred(e):
                        return e
                if self.task.done():
                    raise AssertionError(f"event stream ended without a match; got {self.names()}")
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for an event; got {self.names()}") from None

    async def next(self, kind: type[T], timeout: float = 10.0) -> T:
        """Wait for the next ``kind`` event after the previous ``next()`` match."""

        async def wait() -> T:
            while True:
                for i in range(self._cursor, len(self.events)):
                    e = self.events[i]
                    if isinstance(e, kind):
                        self._cursor = i + 1
                        return e
                if self.task.done():
                    raise AssertionError(f"stream ended before {kind.__name__}; got {self.names()}")
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"timed out waiting for {kind.__name__}; got {self.names()}"
            ) from None

    async def finished(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(asyncio.shield(self.task), timeout)

    def names(self) -> list[str]:
        return [type(e).__name__ for e in self.events]
