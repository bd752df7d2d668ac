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

Error tree (every message says what to do next and never contains the key)::

    SessionError
    ├── MissingKeyError       no key in the environment / keyring (names OPENAI_API_KEY, ...)
    ├── KeyRejectedError      HTTP 401/403 on the upgrade
    ├── HostUnreachableError  DNS failure, connection refused, timeout (names host:port)
    ├── TlsError              certificate verification or TLS handshake failed (always verified)
    ├── HandshakeError        any other refused or broken upgrade (HTTP status, not WebSocket)
    ├── SessionRefusedError   connected, but the server closed before confirming the session
    └── NotConnectedError     send() before connect() or after the connection closed
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
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

__all__ = [
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
    "resolve_api_key",
]

log = logging.getLogger(__name__)

MiB = 1024 * 1024
#: Environment variables holding each provider's key, first one is the documented name.
KEY_VARIABLES: Mapping[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
}
#: Keyring service under which keys are stored (username = provider name).
KEYRING_SERVICE = "voicecam"
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


# --------------------------------------------------------------------------- errors


class SessionError(Exception):
    """A connection problem with a message a person can act on. Never contains a secret."""


class MissingKeyError(SessionError):
    def __init__(self, provider: str, variable: str) -> None:
        self.provider = provider
        self.variable = variable
        super().__init__(
            f"No API key for {provider}: set the {variable} environment variable "
            f"(or store the key in the system keyring, service {KEYRING_SERVICE!r}, "
            f"user {provider!r}) and try again."
        )


class KeyRejectedError(SessionError):
    def __init__(self, host: str, status: int) -> None:
        self.host = host
        self.status = status
        super().__init__(
            f"{host} rejected the API key (HTTP {status}): check that the key is correct, "
            "not revoked, and allowed to use this model."
        )


class HostUnreachableError(SessionError):
    def __init__(self, host: str, why: str) -> None:
        self.host = host
        super().__init__(
            f"Cannot reach {host}: {why}. Check the network connection, the backend URL "
            "and any firewall or proxy."
        )


class TlsError(SessionError):
    def __init__(self, host: str, why: str) -> None:
        self.host = host
        super().__init__(
            f"Secure connection to {host} failed: {why}. The server's certificate could not "
            "be verified; check the system clock, the URL, and any intercepting proxy "
            "(certificate verification cannot be turned off)."
        )


class HandshakeError(SessionError):
    """The server answered, but not with a WebSocket upgrade (or the upgrade broke)."""

    def __init__(self, host: str, why: str, status: int | None = None) -> None:
        self.host = host
        self.status = status
        super().__init__(f"{host} refused the realtime connection: {why}.")


class SessionRefusedError(SessionError):
    """The WebSocket opened but the server ended it before confirming the session (bad model,
    refused resumption handle, ...). ``closed`` is how it ended (``None``: no answer in time)."""

    def __init__(self, host: str, closed: Closed | None, error: str = "", waited_s: float = 0):
        self.host = host
        self.closed = closed
        if closed is None:
            why = f"no session confirmation within {waited_s:g} s"
        else:
            why = f"closed with code {closed.code}" + (
                f" ({closed.reason})" if closed.reason else ""
            )
        if error:
            why += f"; the server said: {error}"
        super().__init__(f"{host} did not start the session: {why}.")


class NotConnectedError(SessionError):
    pass


# --------------------------------------------------------------------------- keys


def resolve_api_key(
    provider: str,
    *,
    env: Mapping[str, str] | None = None,
    keyring_lookup: Callable[[str, str], str | None] | None = None,
) -> str:
    """The API key for ``provider`` ("openai"/"gemini") from the environment, else the keyring.

    ``keyring_lookup(service, username)`` is e.g. ``keyring.get_password``; it is only called
    when the environment has no key, and errors from it count as "no key".
    Raises ``MissingKeyError`` naming the variable to set.
    """
    variables = KEY_VARIABLES.get(provider)
    if variables is None:
        raise ValueError(f"unknown provider {provider!r}; expected one of {sorted(KEY_VARIABLES)}")
    environ = os.environ if env is None else env
    for name in variables:
        value = environ.get(name, "").strip()
        if value:
            return value
    if keyring_lookup is not None:
        try:
            stored = keyring_lookup(KEYRING_SERVICE, provider)
        except Exception as exc:  # a broken keyring backend means "no key", say why in the log
            log.warning("keyring lookup for %s failed: %s", provider, type(exc).__name__)
            stored = None
        if stored and stored.strip():
            return stored.strip()
    raise MissingKeyError(provider, variables[0])


# --------------------------------------------------------------------------- recorder, redaction


class WireRecorder(Protocol):
    def on_wire(
        self, direction: Literal["in", "out"], message: str | bytes, t_mono_ns: int
    ) -> None: ...


def secret_values(endpoint: Endpoint) -> tuple[str, ...]:
    """Every secret string of ``endpoint`` (header values and their bare tokens)."""
    names = {n.lower() for n in endpoint.secret_headers}
    found: set[str] = set()
    for name, value in endpoint.headers:
        if name.lower() in names and value:
            found.add(value)
            token = value.split()[-1] if value.split() else ""
            if len(token) >= 4:
                found.add(token)
    query = urlsplit(endpoint.url).query
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key.lower() in {"key", "api_key", "api-key", "token", "access_token"} and value:
            found.add(value)
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "[redacted]")
    return text


def safe_url(url: str) -> str:
    """``url`` without query, fragment or user info: fit for logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def host_port(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme in ("wss", "https") else 80
    host = parts.hostname or "?"
    return f"{host}:{port}"


class _RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Handed to websockets: it logs request headers (the key!) at DEBUG level."""

    def __init__(self, logger: logging.Logger, secrets: tuple[str, ...]) -> None:
        super().__init__(logger, {})
        self._secrets = secrets

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg)
        if args:
            try:
                text = text % args
            except (TypeError, ValueError):
                text = f"{text} {args!r}"
        kwargs.pop("extra", None)
        self.logger.log(level, redact(text, self._secrets), **kwargs)


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
