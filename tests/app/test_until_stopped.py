"""``app.until_stopped.unless_stopped``: a step's result, or None and the step cancelled."""

from __future__ import annotations

import asyncio

import pytest

from app.until_stopped import unless_stopped


def test_the_step_result_when_no_stop_comes() -> None:
    async def go() -> int | None:
        return await unless_stopped(asyncio.sleep(0, 7), asyncio.Event())

    assert asyncio.run(go()) == 7


def test_a_stop_cancels_a_step_that_never_ends() -> None:
    cancelled = asyncio.Event()

    async def forever() -> int:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 1

    async def go() -> int | None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_soon(stop.set)
        return await unless_stopped(forever(), stop)

    async def run() -> tuple[int | None, bool]:
        got = await go()
        return got, cancelled.is_set()

    assert asyncio.run(run()) == (None, True)


def test_the_step_error_is_raised() -> None:
    async def refused() -> int:
        raise ConnectionRefusedError("no")

    async def go() -> int | None:
        return await unless_stopped(refused(), asyncio.Event())

    with pytest.raises(ConnectionRefusedError):
        asyncio.run(go())
