"""Keeping a conversation alive across connections: backoff, context log, reconnect, renewal.

* ``Backoff``: exponential backoff with full jitter, pure and deterministic with an injected rng.
* ``ContextLog``: a bounded log of the conversation's final transcripts (user speech and typed
  text, assistant replies), replayed as ``AddHistoryItem`` on a new connection.
* ``ReconnectingSession``: the app-facing session. Same surface as ``RealtimeSession``
  (``connect``/``send``/``events``/``close``) plus ``renew()``. On an abnormal close it emits
  ``Reconnecting(attempt, delay_s)``, reconnects with backoff and emits ``Reconnected``; after
  ``Backoff.max_attempts`` it emits a fatal ``ServerError`` then ``Closed`` and ends. Which
  closes and failed reopenings are worth retrying is ``realtime.reconnect_policy``'s (pure).

How the conversation is carried over (``realtime.carryover.Carryover``): Gemini resumes from
its latest ``ResumptionHandle`` (falling back to the context log when there is none or it is
refused); OpenAI and the offline server get recent turns replayed as ``AddHistoryItem``.
``GoAway`` triggers a planned switch (``renew``); ``renew()`` (call it before OpenAI's 60-minute
cap, or set ``renew_after_s``) opens the new connection first and swaps over when no reply is in
progress, so no event is lost. A ``session_expired`` close (1001) is recovered the same way.
While disconnected, ``send()`` keeps typed text and the config; stale real-time input is
dropped and counted in ``dropped_commands``.

Threading: one asyncio loop, like ``RealtimeSession``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from realtime.backoff import Backoff
from realtime.carryover import Carryover
from realtime.context_log import ContextLog, HistorySource
from realtime.events import (
    AddHistoryItem,
    AudioDelta,
    Closed,
    Command,
    Event,
    GoAway,
    Reconnected,
    Reconnecting,
    ResponseDone,
    ResponseStarted,
    SendText,
    ServerError,
    SessionConfig,
    SpeechStarted,
    TranscriptDelta,
    TurnComplete,
    UpdateSession,
)
from realtime.reconnect_policy import (
    NON_RETRYABLE_CODES,
    OPENAI_RENEW_AFTER_S,
    GiveUp,
    after_failed_open,
    retryable,
)
from realtime.session import (
    NotConnectedError,
    RealtimeSession,
    SessionError,
    SessionRefusedError,
)

__all__ = [
    "NON_RETRYABLE_CODES",
    "OPENAI_RENEW_AFTER_S",
    "Backoff",
    "ContextLog",
    "ReconnectingSession",
]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- the session


class ReconnectingSession:
    """An app-facing session that survives drops, server goAways and session caps.

    ``session_factory()`` returns a NEW ``RealtimeSession`` around a NEW core each call (cores
    carry per-connection state). ``renew_after_s`` schedules ``renew()`` after each connection
    (use ``OPENAI_RENEW_AFTER_S`` for OpenAI). A connection that saw a completed reply, or
    lasted ``stable_after_s``, resets the attempt counter. ``renew()`` waits up to
    ``idle_wait_s`` for the reply in progress to finish before switching.
    """

    def __init__(
        self,
        session_factory: Callable[[], RealtimeSession],
        *,
        backoff: Backoff | None = None,
        context: HistorySource | None = None,
        renew_after_s: float | None = None,
        stable_after_s: float = 30.0,
        idle_wait_s: float = 10.0,
    ) -> None:
        self._factory = session_factory
        self._backoff = backoff if backoff is not None else Backoff()
        self._carry = Carryover(context if context is not None else ContextLog())
        self._renew_after_s = renew_after_s
        self._stable_after_s = stable_after_s
        self._idle_wait_s = idle_wait_s
        self._config = SessionConfig()
        self._current: RealtimeSession | None = None
        self._last_open_resumed = False
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._lock = asyncio.Lock()
        self._closing = asyncio.Event()
        self._done = asyncio.Event()
        self._tasks: set[asyncio.Task[object]] = set()
        self._renew_timer: asyncio.Task[object] | None = None
        self._failures = 0
        self._connected_at = 0.0
        self._idle = asyncio.Event()
        self._idle.set()
        self.dropped_commands = 0
        self.connections = 0

    # ----------------------------------------------------------------- public surface

    @property
    def connected(self) -> bool:
        return self._current is not None and self._current.connected

    @property
    def context(self) -> HistorySource:
        """The conversation's context replayed on a new connection (``ContextLog`` by default)."""
        return self._carry.context

    @property
    def resumption_handle(self) -> str | None:
        """The latest resumable Gemini handle seen (``None`` before the first)."""
        return self._carry.handle

    def __repr__(self) -> str:
        return f"<ReconnectingSession current={self._current!r} connections={self.connections}>"

    async def connect(self, config: SessionConfig) -> None:
        """First connection. Errors (``SessionError``) are raised, not retried: a person acts."""
        self._config = config
        self._carry.handle = config.resumption_handle
        try:
            session, _, _ = await self._open()
        except SessionRefusedError:
            if not self._last_open_resumed:
                raise
            log.info("the server refused the resumption handle; starting a new session")
            session, _, _ = await self._open()  # _open dropped the handle
        self._install(session)

    async def send(self, command: Command) -> None:
        """Send on the current connection; while reconnecting keep or drop (module docstring).

        Raises ``NotConnectedError`` only after the session has ended (or is closing).
        """
        if self._closing.is_set() or self._done.is_set():
            raise NotConnectedError("The session has ended.")
        if self.connections == 0:
            raise NotConnectedError("Call connect() before send().")
        if isinstance(command, UpdateSession):
            self._config = command.config
        session = self._current
        if session is not None:
            try:
                await session.send(command)
            except NotConnectedError:
                session = None
            else:
                if isinstance(command, SendText | AddHistoryItem):  # not on the audio path
                    self._carry.sent(command)
                return
        if not self._carry.keep(command):
            self.dropped_commands += 1

    async def events(self) -> AsyncIterator[Event]:
        """App-visible events of every connection; ends after the final ``Closed``."""
        while True:
            event = await self._queue.get()
            yield event
            if isinstance(event, Closed):
                return

    async def close(self) -> None:
        """Clean close; ``events()`` ends with ``Closed(by_client=True)``. Idempotent."""
        if self._done.is_set():
            return
        self._closing.set()
        self._cancel_renew_timer()
        session = self._current
        if session is not None:
            await session.close()
        elif not self._lock.locked():
            self._end(Closed(code=1000, reason="closed by client", by_client=True))
        try:
            await asyncio.wait_for(self._done.wait(), 30.0)
        except TimeoutError:  # a switch in progress never finished: end regardless
            log.warning("close(): the session did not end within 30 s; ending it anyway")
            self._end(Closed(code=1000, reason="closed by client", by_client=True))

    async def renew(self, reason: str = "renewal", idle_wait_s: float | None = None) -> bool:
        """Open a new connection carrying the conversation, then retire the old one.

        Waits (at most ``idle_wait_s``) for no reply to be in progress. Returns ``False`` if
        nothing was switched (not connected, closing, or the new connection failed: then a
        non-fatal ``ServerError`` says why and the old connection carries on).
        """
        async with self._lock:
            old = self._current
            if old is None or self._closing.is_set():
                return False
            wait_s = self._idle_wait_s if idle_wait_s is None else idle_wait_s
            idle = asyncio.ensure_future(self._idle.wait())
            gone = asyncio.ensure_future(old.wait_closed())
            await asyncio.wait((idle, gone), timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
            idle.cancel()
            gone.cancel()
            if old is not self._current or not old.connected or self._closing.is_set():
                return False
            try:
                new, resumed, replayed = await self._open()
            except SessionError as exc:
                self._emit(
                    ServerError(message=f"Session {reason} failed: {exc}", code="renewal_failed")
                )
                return False
            if self._closing.is_set():
                await new.close()
                return False
            self._install(new)
            self._emit(Reconnected(resumed=resumed, replayed_turns=replayed, renewed=True))
        log.info("session switched to a new connection (%s)", reason)
        await old.close()
        return True

    # ----------------------------------------------------------------- connections

    async def _open(self) -> tuple[RealtimeSession, bool, int]:
        """Connect a fresh session and carry the conversation into it."""
        session = self._factory()
        config, resumed = self._carry.config_for(session.provider, self._config)
        self._last_open_resumed = resumed
        await session.connect(config)
        if not await session.wait_ready(session.open_timeout_s):
            closed = session.closed
            await session.close()
            if resumed and closed is not None:
                self._carry.handle_refused()
            error = session.last_error.message if session.last_error else ""
            raise SessionRefusedError(session.host, closed, error, session.open_timeout_s)
        try:
            replayed = await self._carry.replay_into(session, resumed)
        except NotConnectedError:
            await session.close()
            raise
        return session, resumed, replayed

    def _install(self, session: RealtimeSession) -> None:
        self._current = session
        self.connections += 1
        self._connected_at = time.monotonic()
        self._set_busy(False)
        self._spawn(self._pump(session))
        self._cancel_renew_timer()
        if self._renew_after_s is not None:
            self._renew_timer = self._spawn(self._renew_later(self._renew_after_s))

    async def _renew_later(self, delay_s: float) -> None:
        """The ``renew_after_s`` timer. On success ``_install`` has armed the next one; on
        failure retry (the old connection still works) until a reconnect replaces this timer."""
        await asyncio.sleep(delay_s)
        while not await self.renew("renewal"):
            if self._closing.is_set() or self._renew_timer is not asyncio.current_task():
                return
            await asyncio.sleep(min(30.0, max(1.0, delay_s / 10)))

    async def _pump(self, session: RealtimeSession) -> None:
        async for event in session.events():
            if isinstance(event, Closed):
                await self._on_closed(session, event)
                return
            if (
                isinstance(event, ServerError)
                and event.code == "session_expired"
                and session is self._current
            ):
                # OpenAI's 60-minute cap (or the offline server's --session-max-s): the session
                # is renewed with its context, so the expiry is not fatal for the conversation.
                event = dataclasses.replace(event, fatal=False)
                self._spawn(self.renew("expiry", idle_wait_s=0.0))
            self._observe(session, event)
            self._emit(event)

    def _observe(self, session: RealtimeSession, event: Event) -> None:
        self._carry.observe(event)
        if isinstance(event, ResponseStarted | AudioDelta | TranscriptDelta | SpeechStarted):
            self._set_busy(True)
        elif isinstance(event, ResponseDone | TurnComplete):
            self._set_busy(False)
            self._failures = 0
        elif isinstance(event, GoAway) and session is self._current:
            wait_s = min(self._idle_wait_s, max(0.0, event.time_left_ms / 2000.0))
            self._spawn(self.renew("goAway", idle_wait_s=wait_s))

    async def _on_closed(self, session: RealtimeSession, event: Closed) -> None:
        if session is not self._current:
            return  # retired by renew(): its Closed is not the app's business
        if self._closing.is_set() or event.by_client:
            self._end(event)
            return
        if not retryable(event):
            self._end(event)
            return
        await self._recover(session, event)

    async def _recover(self, dead: RealtimeSession, closed: Closed) -> None:
        async with self._lock:
            if dead is not self._current:
                return
            self._current = None
            self._cancel_renew_timer()
            self._set_busy(False)
            if time.monotonic() - self._connected_at >= self._stable_after_s:
                self._failures = 0
            detail = f": {closed.reason}" if closed.reason else ""
            why = f"connection lost (code {closed.code}{detail})"
            while True:
                self._failures += 1
                attempt = self._failures
                if attempt > self._backoff.max_attempts:
                    self._give_up(
                        closed, f"gave up after {self._backoff.max_attempts} attempts; last: {why}"
                    )
                    return
                delay = self._backoff.delay_s(attempt)
                self._emit(Reconnecting(attempt=attempt, delay_s=delay, reason=why))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)
                if self._closing.is_set():
                    self._end(Closed(code=1000, reason="closed by client", by_client=True))
                    return
                try:
                    new, resumed, replayed = await self._open()
                except SessionError as exc:
                    decision = after_failed_open(exc, closed, self._last_open_resumed)
                    if isinstance(decision, GiveUp):
                        self._give_up(decision.closed, decision.why)
                        return
                    why = decision.why
                    continue
                if self._closing.is_set():
                    await new.close()
                    self._end(Closed(code=1000, reason="closed by client", by_client=True))
                    return
                self._install(new)
                self._emit(Reconnected(attempt=attempt, resumed=resumed, replayed_turns=replayed))
                return

    def _give_up(self, closed: Closed, why: str) -> None:
        self._emit(
            ServerError(message=f"Reconnecting failed: {why}", code="reconnect_failed", fatal=True)
        )
        self._end(Closed(code=closed.code, reason=closed.reason or why, by_client=False))

    # ----------------------------------------------------------------- helpers

    def _set_busy(self, busy: bool) -> None:
        if busy:
            self._idle.clear()
        else:
            self._idle.set()

    def _emit(self, event: Event) -> None:
        if not self._done.is_set():
            self._queue.put_nowait(event)

    def _end(self, event: Closed) -> None:
        if self._done.is_set():
            return
        self._current = None
        self._cancel_renew_timer()
        self._queue.put_nowait(event)
        self._done.set()

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _cancel_renew_timer(self) -> None:
        timer, self._renew_timer = self._renew_timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()
