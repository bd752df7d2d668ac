"""One WebSocket connection around a protocol core: the only I/O of ``realtime/`` (with reconnect).

Threading: everything here runs on ONE asyncio event loop (the engine thread). The core is not
thread-safe; the session is its only user while connected.

Call order::

    session = RealtimeSession(core, endpoint, recorder=rec)
    await session.connect(config)         # opens the socket, core.start(config), sends setup
    async for event in session.events():  # ends after one ``Closed``
        ...
    await session.send(AppendAudio(...))  # any time after connect(), from the loop's thread
    await session.close()                 # clean close handshake; events() then yields Closed

Wire messages keep their frame type (``str`` = text frame, ``bytes`` = binary frame): Gemini's
server sends JSON in binary frames and the core receives them as ``bytes``.

Secrets: ``Endpoint.headers`` carry the API key. They are handed to websockets and nowhere else;
messages of errors, logs (websockets' debug log of request headers included) and ``repr()`` are
redacted, and the recorder only ever sees WebSocket message payloads.

Errors: the ``SessionError`` tree in ``realtime.session_errors`` (re-exported here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
    WebSocketException,
)

from realtime.core import Endpoint, ProtocolCore, WireMessage
from realtime.events import Closed, Command, Event, ServerError, SessionConfig, SessionReady
from realtime.recording.scrub import hold_secret
from realtime.redaction import _RedactingLogger, host_port, redact, safe_url, secret_values
from realtime.session_errors import (
    KEY_VARIABLES,
    KEYRING_SERVICE,
    HandshakeError,
    HostUnreachableError,
    KeyRejectedError,
    MissingKeyError,
    NotConnectedError,
    SessionError,
    SessionRefusedError,
    TlsError,
    resolve_api_key,
)

__all__ = [
    "KEYRING_SERVICE",
    "KEY_VARIABLES",
    "HandshakeError",
    "HostUnreachableError",
    "KeyRejectedError",
    "MissingKeyError",
    "NotConnectedError",
    "RealtimeSession",
    "SessionError",
    "SessionRefusedError",
    "TlsError",
    "WireRecorder",
    "host_port",
    "redact",
    "resolve_api_key",
    "safe_url",
    "secret_values",
]

log = logging.getLogger(__name__)

MiB = 1024 * 1024
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


# --------------------------------------------------------------------------- recorder


class WireRecorder(Protocol):
    def on_wire(
        self, direction: Literal["in", "out"], message: str | bytes, t_mono_ns: int
    ) -> None: ...


# --------------------------------------------------------------------------- the session


class RealtimeSession:
    """One WebSocket connection driving ``core``. Not reusable: make a new one to reconnect.

    ``max_message_bytes`` caps incoming messages (raised from websockets' 1 MiB default);
    ``ping_interval_s`` sends keepalive pings and closes the connection (Closed 1011) when a pong
    is ``ping_timeout_s`` late. ``ca_file`` adds a trusted CA for ``wss://`` (verification stays
    on; there is deliberately no way to disable it). ``clock`` gives ``t_mono_ns`` to the
    recorder.
    """

    def __init__(
        self,
        core: ProtocolCore,
        endpoint: Endpoint,
        *,
        recorder: WireRecorder | None = None,
        max_message_bytes: int = 16 * MiB,
        open_timeout_s: float = 10.0,
        ping_interval_s: float | None = 20.0,
        ping_timeout_s: float | None = None,
        close_timeout_s: float = 5.0,
        ca_file: str | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self._core = core
        self._endpoint = endpoint
        self._recorder = recorder
        self._max_message_bytes = max_message_bytes
        self._open_timeout_s = open_timeout_s
        self._ping_interval_s = ping_interval_s
        self._ping_timeout_s = ping_timeout_s if ping_timeout_s is not None else ping_interval_s
        self._close_timeout_s = close_timeout_s
        self._ca_file = ca_file
        self._clock = clock
        self._secrets = secret_values(endpoint)
        for secret in self._secrets:  # scrubbed from every log, recording and printed line
            hold_secret(secret)
        self._host = host_port(endpoint.url)
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._closing = False
        self._closed: Closed | None = None
        self._recorder_failed = False
        self._ready = False
        self._ready_or_closed = asyncio.Event()
        self._closed_event = asyncio.Event()
        self.last_error: ServerError | None = None

    # ----------------------------------------------------------------- properties

    @property
    def provider(self) -> str:
        return self._core.provider

    @property
    def host(self) -> str:
        """``host:port`` of the endpoint (no secrets)."""
        return self._host

    @property
    def open_timeout_s(self) -> float:
        return self._open_timeout_s

    @property
    def core(self) -> ProtocolCore:
        return self._core

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._closed is None

    @property
    def ready(self) -> bool:
        """The server confirmed the session (the core emitted ``SessionReady``)."""
        return self._ready

    async def wait_ready(self, timeout_s: float) -> bool:
        """Wait until the server confirms the session. ``False`` if the connection closed
        first or ``timeout_s`` passed. Events stay queued for ``events()``."""
        try:
            await asyncio.wait_for(self._ready_or_closed.wait(), timeout_s)
        except TimeoutError:
            return False
        return self._ready and self._closed is None

    async def wait_closed(self) -> Closed:
        """Wait until the connection has ended; the ``Closed`` event (also in ``events()``)."""
        await self._closed_event.wait()
        assert self._closed is not None
        return self._closed

    @property
    def closed(self) -> Closed | None:
        """The ``Closed`` event once the connection has ended, else ``None``."""
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("open" if self._ws else "new")
        return f"<RealtimeSession {self._core.provider} {safe_url(self._endpoint.url)} {state}>"

    # ----------------------------------------------------------------- lifecycle

    async def connect(self, config: SessionConfig) -> None:
        """Open the connection, start the core with ``config`` and send its opening messages.

        Raises a ``SessionError`` subclass on failure (the core is not started then).
        """
        if self._ws is not None or self._closed is not None:
            raise RuntimeError("connect() after connect()/close(): make a new RealtimeSession")
        self._ws = await self._open()
        self._core.start(config)
        self._emit(self._core.events())
        self._reader = asyncio.create_task(self._read(self._ws), name=f"{self!r} reader")
        with contextlib.suppress(NotConnectedError):  # the reader reports how it ended
            await self._write(self._core.messages())

    async def send(self, command: Command) -> None:
        """``core.send(command)`` then write its messages in order (serialised with a lock).

        Raises ``NotConnectedError`` when the connection is not open (the core state then
        includes the command: a dead session is not reused).
        """
        if self._ws is None or self._closed is not None or self._closing:
            raise NotConnectedError(f"The connection to {self._host} is not open.")
        self._core.send(command)
        self._emit(self._core.events())
        await self._write(self._core.messages())

    async def events(self) -> AsyncIterator[Event]:
        """Events in arrival order; ends after the one ``Closed`` event. One consumer only."""
        while True:
            event = await self._queue.get()
            yield event
            if isinstance(event, Closed):
                return

    async def close(self) -> None:
        """Clean close handshake (code 1000), then wait for the reader to finish.

        ``events()`` yields ``Closed(by_client=True)``. Safe to call more than once.
        """
        if self._ws is None:
            if self._closed is None:
                self._finish(Closed(code=1000, reason="closed before connecting", by_client=True))
            return
        self._closing = True
        with contextlib.suppress(Exception):
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    # ----------------------------------------------------------------- internals

    async def _open(self) -> ClientConnection:
        url = self._endpoint.url
        host = self._host
        scheme = urlsplit(url).scheme
        kwargs: dict[str, Any] = {}
        if scheme == "wss":
            ctx = ssl.create_default_context(cafile=self._ca_file)
            # Verification is always on for wss (create_default_context sets both already).
            ctx.check_hostname = True
            ctx.verify_mode = ssl.CERT_REQUIRED
            kwargs["ssl"] = ctx
        elif scheme != "ws":
            raise SessionError(f"Unsupported backend URL {safe_url(url)}: use ws:// or wss://.")
        hostname = (urlsplit(url).hostname or "").lower()
        if scheme == "ws" and hostname not in _LOOPBACK and self._secrets:
            log.warning(
                "sending credentials to %s without TLS (ws://): use wss:// if you can", host
            )
        try:
            return await connect(
                url,
                additional_headers=list(self._endpoint.headers),
                max_size=self._max_message_bytes,
                open_timeout=self._open_timeout_s,
                ping_interval=self._ping_interval_s,
                ping_timeout=self._ping_timeout_s,
                close_timeout=self._close_timeout_s,
                proxy=None if hostname in _LOOPBACK else True,
                logger=_RedactingLogger(logging.getLogger("websockets.client"), self._secrets),
                **kwargs,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise KeyRejectedError(host, status) from None
            body = exc.response.body.decode("utf-8", "replace")[:200] if exc.response.body else ""
            detail = f"HTTP {status} {exc.response.reason_phrase}"
            if body.strip():
                detail += f" ({redact(body.strip(), self._secrets)})"
            raise HandshakeError(host, detail, status) from None
        except InvalidURI:
            raise SessionError(f"Invalid backend URL {safe_url(url)}.") from None
        except (ssl.SSLCertVerificationError, ssl.CertificateError) as exc:
            why = getattr(exc, "verify_message", "") or type(exc).__name__
            raise TlsError(host, redact(str(why), self._secrets)) from None
        except ssl.SSLError as exc:
            raise TlsError(host, redact(exc.reason or type(exc).__name__, self._secrets)) from None
        except socket.gaierror:
            raise HostUnreachableError(host, "the host name could not be resolved") from None
        except ConnectionRefusedError:
            raise HostUnreachableError(host, "the connection was refused") from None
        except TimeoutError:
            raise HostUnreachableError(
                host, f"no answer within {self._open_timeout_s:g} s"
            ) from None
        except OSError as exc:
            raise HostUnreachableError(
                host, redact(exc.strerror or str(exc), self._secrets)
            ) from None
        except InvalidHandshake as exc:
            raise HandshakeError(host, redact(str(exc), self._secrets)) from None
        except WebSocketException as exc:
            raise HandshakeError(host, redact(str(exc), self._secrets)) from None

    def _emit(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, SessionReady):
                self._ready = True
                self._ready_or_closed.set()
            elif isinstance(event, ServerError):
                self.last_error = event
            self._queue.put_nowait(event)

    def _record(self, direction: Literal["in", "out"], message: WireMessage) -> None:
        if self._recorder is None:
            return
        try:
            self._recorder.on_wire(direction, message, self._clock())
        except Exception:
            if not self._recorder_failed:  # say it once; the conversation goes on
                self._recorder_failed = True
                log.exception("wire recorder failed; later failures are not logged")

    async def _write(self, messages: list[WireMessage]) -> None:
        """Send ``messages`` in order. Callers drain the core and call this with no await in
        between, so the FIFO lock keeps the core's message order across concurrent callers."""
        if not messages:
            return
        async with self._send_lock:
            ws = self._ws
            if ws is None:
                raise NotConnectedError(f"The connection to {self._host} is not open.")
            for message in messages:
                self._record("out", message)
                try:
                    await ws.send(message)
                except ConnectionClosed:
                    raise NotConnectedError(
                        f"The connection to {self._host} closed while sending."
                    ) from None

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                self._record("in", message)
                self._core.receive(message)
                self._emit(self._core.events())
                out = self._core.messages()
                if out:
                    with contextlib.suppress(NotConnectedError):
                        await self._write(out)
        except ConnectionClosed:
            pass
        except Exception:  # a core must never raise; if one does, end the session visibly
            log.exception("reader of %r failed", self)
            with contextlib.suppress(Exception):
                await ws.close(1011, "client error")
        # The server's close frame if one came; else the one we sent when websockets failed the
        # connection (1009 message too big, 1011 keepalive timeout, 1002 protocol error); else
        # the connection was simply lost (1006).
        frame = ws.protocol.close_rcvd or ws.protocol.close_sent
        code = frame.code if frame is not None else 1006
        reason = frame.reason if frame is not None else ""
        self._finish(
            Closed(code=code, reason=redact(reason, self._secrets), by_client=self._closing)
        )

    def _finish(self, event: Closed) -> None:
        if self._closed is None:
            self._closed = event
            self._queue.put_nowait(event)
            self._ready_or_closed.set()
            self._closed_event.set()
