"""The server-event side of one offline-server connection: serialise and send, once closed drop.

Every part of a ``Connection`` (input audio, turn commit, replies, items) sends through the one
``Outbox`` it is given, so event ids come from one ``protocol.Ids`` and a client that has gone
stops all sending at once.

Thread: the server's event-loop thread only. ``emit``/``send``/``error`` are awaited one at a time
by whichever handler or task produced the event; none of them raises when the client has gone.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from realtime.local import protocol
from realtime.local.protocol import ClientEventError

#: Sends one text frame to the client (``websockets``' ``ServerConnection.send`` in the server).
SendText = Callable[[str], Awaitable[None]]


class Outbox:
    """Sends server events of one session. ``ids`` makes every ``event_…``/``item_…``/``resp_…``
    id of the session (shared with the parts that build events themselves)."""

    def __init__(self, send_text: SendText, ids: protocol.Ids) -> None:
        self._send_text = send_text
        self.ids = ids
        #: The client has gone (or the session closed): events are dropped from now on.
        self.closed = False

    async def send(self, event: dict[str, Any]) -> None:
        """Send one server event; after the client has gone, events are dropped silently."""
        if self.closed:
            return
        try:
            await self._send_text(json.dumps(event, separators=(",", ":")))
        except ConnectionClosed:
            self.closed = True

    async def emit(self, etype: str, **fields: Any) -> None:
        """Send a server event of ``etype`` with a fresh ``event_id`` (made before sending)."""
        await self.send(protocol.event(self.ids, etype, **fields))

    async def error(self, exc: ClientEventError) -> None:
        """Send OpenAI's ``error`` event for a refused client event."""
        await self.send(protocol.error_event(self.ids, exc))
