"""What a new connection needs to carry a conversation on: ``Carryover``.

A ``realtime.reconnect.ReconnectingSession`` keeps one ``Carryover`` for its whole life and
asks it, for each new connection, how to continue:

* Gemini: the latest resumable ``ResumptionHandle`` (``observe``) goes into the new
  ``SessionConfig.resumption_handle`` (``config_for``) and the server restores the session; a
  refused handle is dropped (``handle_refused``) so the next attempt replays the context.
* OpenAI and the offline server (no resume): the context log (``ContextLog`` of final
  transcripts, or any ``HistorySource``) is replayed as ``AddHistoryItem`` (``replay_into``).
* While disconnected, ``keep(command)`` decides what is worth sending later: ``SendText`` is
  queued (sent after the context, in order), an ``AddHistoryItem`` joins the context, the
  config of ``UpdateSession`` is the caller's to keep; real-time input (audio, images, commits,
  cancels, truncates) would be stale and is dropped (``keep`` returns False).

Threading: one asyncio loop, like the session that owns it. No I/O of its own: ``replay_into``
only sends on the session it is given.
"""

from __future__ import annotations

import dataclasses

from realtime.context_log import HistorySource
from realtime.events import (
    AddHistoryItem,
    Command,
    Event,
    ResumptionHandle,
    SendText,
    SessionConfig,
    UpdateSession,
)
from realtime.session import RealtimeSession

__all__ = ["Carryover"]


class Carryover:
    """The resumption handle, the context log and the commands kept while disconnected."""

    def __init__(self, context: HistorySource, handle: str | None = None) -> None:
        self.context = context
        #: The latest resumable Gemini handle seen (None: none, or refused).
        self.handle = handle
        self._pending: list[SendText] = []  # typed text kept while disconnected

    def observe(self, event: Event) -> None:
        """Every event of the current connection, in order: final transcripts go to the
        context, a resumable handle replaces the one kept."""
        self.context.observe(event)
        if isinstance(event, ResumptionHandle) and event.resumable and event.handle:
            self.handle = event.handle

    def config_for(self, provider: str, config: SessionConfig) -> tuple[SessionConfig, bool]:
        """The config to open a new ``provider`` connection with, and whether it resumes
        (Gemini with a handle); any other connection starts without a handle."""
        if provider == "gemini" and self.handle:
            return dataclasses.replace(config, resumption_handle=self.handle), True
        if config.resumption_handle is not None:
            return dataclasses.replace(config, resumption_handle=None), False
        return config, False

    def handle_refused(self) -> None:
        """The server refused the handle: the next connection replays the context instead."""
        self.handle = None

    def keep(self, command: Command) -> bool:
        """``command`` could not be sent (no connection): keep it for the next one if it is
        worth it. False: dropped as stale real-time input (the caller counts it)."""
        if isinstance(command, SendText):
            self._pending.append(command)
        elif isinstance(command, AddHistoryItem):
            self.context.add(command.role, command.text)  # replayed on reconnect
        elif not isinstance(command, UpdateSession):
            return False
        return True

    def sent(self, command: SendText | AddHistoryItem) -> None:
        """Typed text or a history item went out: it becomes part of the context. (The caller
        filters, so real-time input never reaches this module on its way to the socket.)"""
        role = "user" if isinstance(command, SendText) else command.role
        self.context.add(role, command.text)

    async def replay_into(self, session: RealtimeSession, resumed: bool) -> int:
        """Carry the conversation into a just-opened ``session``: the context (unless the
        server ``resumed`` it), then the commands kept while disconnected. Returns how many
        context items were replayed. Raises ``NotConnectedError`` if the session drops
        meanwhile (the kept commands not yet sent are lost with it)."""
        replayed = 0
        if not resumed:
            for item in self.context.items():
                await session.send(item)
                replayed += 1
        pending, self._pending = self._pending, []
        for command in pending:
            await session.send(command)
            self.sent(command)
        return replayed
