"""Dropping a client that stopped reading: the write-side timeout of the offline server.

websockets' keepalive cannot notice such a client: its ping waits behind the queued data (the
transport is paused), so it never times out, and the connection stays ESTABLISHED holding
megabytes. ``drop_when_stalled`` watches the transport's write buffer instead: when data has
been waiting for ``timeout_s`` without the buffer shrinking, the transport is aborted, which
frees the buffer and ends the handler (pending sends raise ``ConnectionClosed``).

Thread: the server's event loop. Time: ``loop.time()`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

log = logging.getLogger("voicecam.server.stall")


class WriteTransport(Protocol):
    """The part of ``asyncio.WriteTransport`` the watchdog uses."""

    def get_write_buffer_size(self) -> int: ...

    def is_closing(self) -> bool: ...

    def abort(self) -> None: ...


async def drop_when_stalled(
    transport: WriteTransport, timeout_s: float, poll_s: float = 1.0
) -> bool:
    """Run until the transport closes (returns False) or stalls for ``timeout_s`` (aborts it,
    returns True). Progress is any shrink of the buffer or an empty buffer."""
    loop = asyncio.get_running_loop()
    last_size = 0
    since = loop.time()
    while not transport.is_closing():
        await asyncio.sleep(poll_s)
        size = transport.get_write_buffer_size()
        now = loop.time()
        if size == 0 or size < last_size:
            since = now
        last_size = size
        if size and now - since >= timeout_s:
            log.debug("client stopped reading (%d bytes waiting %.0f s): dropped", size, timeout_s)
            transport.abort()
            return True
    return False
