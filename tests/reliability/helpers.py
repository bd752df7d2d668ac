"""Helpers shared by the reliability and security tests: a scripted fake provider (and a fault
proxy) on their own event-loop thread, so blocking app code (CLI, Assistant) can run beside them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any


class LoopThread:
    """An asyncio loop on a daemon thread; ``call(coro_fn, ...)`` runs a coroutine there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="test-loop")
        self.thread.start()

    def call(self, fn: Any, *args: Any, timeout: float = 30, **kw: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(fn(*args, **kw), self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class FakeThread(LoopThread):
    """A ``FakeOpenAI`` (tests/fakes) requiring ``api_key``, on its own loop thread."""

    def __init__(self, api_key: str, **kw: Any) -> None:
        super().__init__()
        from tests.fakes.fake_openai import FakeOpenAI

        self.fake = FakeOpenAI(api_key=api_key, **kw)
        self.call(self.fake.__aenter__)

    def close(self) -> None:
        self.call(self.fake.__aexit__, None, None, None)
        self.stop()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.fake.port}/v1/realtime"


def wait_until(pred: Callable[[], Any], timeout: float, what: str, step: float = 0.05) -> Any:
    """Poll ``pred`` until it returns something truthy; fail the test naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
