"""Await one step unless a stop comes first (engine loop).

``Conversation.run`` connects through this: a handshake that never ends (a server that accepts
TCP and says nothing) is cancelled as soon as the user stops, instead of holding the stop for
the session's whole open timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import TypeVar

T = TypeVar("T")


async def unless_stopped(step: Coroutine[object, object, T], stop: asyncio.Event) -> T | None:
    """``await step``, or cancel it and return None once ``stop`` is set first (already set:
    the step still gets its chance if it finishes in the same loop turn). Raises what ``step``
    raises; cancelling the caller cancels the step too."""
    stepping = asyncio.ensure_future(step)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([stepping, stopper], return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        stepping.cancel()
        raise
    finally:
        stopper.cancel()
    if stepping.done():
        return stepping.result()
    stepping.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await stepping
    return None
