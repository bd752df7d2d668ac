"""Common machinery of the scripted fake providers: a loopback websockets server per test.

A fake accepts any number of connections (reconnect tests), keeps every message each client
sent (parsed JSON plus the raw frame), and offers awaitable helpers for tests::

    async with FakeOpenAI(api_key="sk-test") as fake:
        ...
        msg = await fake.wait_for("input_audio_buffer.commit")
        await fake.close(1001, "going away")      # clean close of the newest connection
        fake.abort()                               # abrupt loss: TCP reset, no close frame (1006)

Subclasses implement ``_authorized(request)``, ``_type_of(msg)``, ``_on_open(conn)`` and
``_on_message(conn, msg)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response


def pcm_tone(ms: int, rate_hz: int = 24_000, freq_hz: float = 220.0, level: float = 0.3) -> bytes:
    """Real PCM16 mono audio: a sine of ``ms`` milliseconds (not silence, not random bytes)."""
    n = rate_hz * ms // 1000
    amp = int(32767 * level)
    return struct.pack(
        f"<{n}h", *(int(amp * math.sin(2 * math.pi * freq_hz * i / rate_hz)) for i in range(n))
    )


@dataclass
class FakeConnection:
    """One accepted client connection."""

    ws: ServerConnection
    index: int
    headers: Headers
    path: str
    received: list[dict[str, Any]] = field(default_factory=list)
    raw: list[str | bytes] = field(default_factory=list)
    sent: list[str | bytes] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def types(self) -> list[str]:
        return [str(m.get("type", next(iter(m), ""))) for m in self.received]


class FakeServer:
    """Base class; see the module docstring."""

    path_suffix = ""

    def __init__(self, api_key: str, *, validate_client: Callable[[Any], Any] | None) -> None:
        self.api_key = api_key
        self.validate_client = validate_client
        self.connections: list[FakeConnection] = []
        self.rejected: list[int] = []
        self.client_errors: list[str] = []
        #: Exceptions raised by the fake itself (a bug in the fake or the test script).
        self.fake_errors: list[str] = []
        self._server: Server | None = None
        self._changed: asyncio.Condition | None = None
        self.port = 0

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> FakeServer:
        self._changed = asyncio.Condition()
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            max_size=32 * 1024 * 1024,
            ping_interval=None,
        )
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        for conn in self.connections:
            for task in list(conn.tasks):
                task.cancel()
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    # ---------------------------------------------------------------- test helpers

    @property
    def current(self) -> FakeConnection:
        if not self.connections:
            raise AssertionError("no client has connected to the fake yet")
        return self.connections[-1]

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every message every client sent, in order."""
        return [m for c in self.connections for m in c.received]

    async def wait_for(
        self,
        type_: str,
        *,
        count: int = 1,
        conn: int | None = None,
        timeout: float = 10.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Wait until the client sent ``count`` messages of ``type_``; return the last one."""

        def found() -> list[dict[str, Any]]:
            pool = self.connections if conn is None else self.connections[conn : conn + 1]
            return [
                m
                for c in pool
                for m in c.received
                if self._type_of(m) == type_ and (where is None or where(m))
            ]

        await self.wait_until(lambda: len(found()) >= count, timeout=timeout, what=type_)
        return found()[count - 1]

    async def wait_connections(self, n: int, timeout: float = 10.0) -> FakeConnection:
        await self.wait_until(lambda: len(self.connections) >= n, timeout, f"{n} connections")
        return self.connections[n - 1]

    async def wait_until(
        self, pred: Callable[[], bool], timeout: float = 10.0, what: str = ""
    ) -> None:
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(pred), timeout)
            except TimeoutError:
                raise AssertionError(
                    f"fake provider: timed out waiting for {what or pred}; "
                    f"received {[c.types() for c in self.connections]}"
                ) from None

    async def send(self, message: str | bytes, conn: FakeConnection | None = None) -> None:
        conn = conn or self.current
        conn.sent.append(message)
        await conn.ws.send(message)

    async def close(
        self, code: int = 1000, reason: str = "", conn: FakeConnection | None = None
    ) -> None:
        """Clean close of a connection with ``code`` (e.g. 1001 going away, 1011 error)."""
        conn = conn or self.current
        await conn.ws.close(code, reason)

    def abort(self, conn: FakeConnection | None = None) -> None:
        """Abrupt loss: reset the TCP connection without a close frame (client sees 1006)."""
        conn = conn or self.current
        for task in list(conn.tasks):
            task.cancel()
        conn.ws.transport.abort()

    # ---------------------------------------------------------------- subclass hooks

    def _authorized(self, request: Request) -> bool:
        raise NotImplementedError

    def _type_of(self, msg: dict[str, Any]) -> str:
        raise NotImplementedError

    async def _on_open(self, conn: FakeConnection) -> None:
        """Called once when a client connects (before reading)."""

    async def _on_message(self, conn: FakeConnection, msg: dict[str, Any]) -> None:
        raise NotImplementedError

    def spawn(self, conn: FakeConnection, coro: Any) -> asyncio.Task[None]:
        """Run ``coro`` for ``conn``; cancelled when the connection ends."""

        async def guarded() -> None:
            try:
                await coro
            except ConnectionClosed:
                pass
            except Exception as exc:
                self.fake_errors.append(f"{type(exc).__name__}: {exc}")

        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(guarded())
        conn.tasks.add(task)
        task.add_done_callback(conn.tasks.discard)
        return task

    # ---------------------------------------------------------------- plumbing

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if self.path_suffix and not request.path.split("?")[0].endswith(self.path_suffix):
            self.rejected.append(404)
            return connection.respond(HTTPStatus.NOT_FOUND, f"no such path {request.path}\n")
        if not self._authorized(request):
            self.rejected.append(401)
            body = json.dumps(
                {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
            )
            return Response(
                401,
                "Unauthorized",
                Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))]),
                body.encode(),
            )
        return None

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        conn = FakeConnection(ws, len(self.connections), ws.request.headers, ws.request.path)
        self.connections.append(conn)
        await self._notify()
        try:
            await self._on_open(conn)
            async for raw in ws:
                conn.raw.append(raw)
                try:
                    msg = json.loads(raw)
                except ValueError:
                    self.client_errors.append(f"client sent invalid JSON: {raw[:80]!r}")
                    await self._notify()
                    continue
                if self.validate_client is not None:
                    try:
                        self.validate_client(msg)
                    except Exception as exc:
                        self.client_errors.append(f"invalid client message {raw[:200]!r}: {exc}")
                conn.received.append(msg)
                await self._on_message(conn, msg)
                await self._notify()
        except ConnectionClosed:
            pass  # connection lost; tests look at what was received
        except Exception as exc:
            self.fake_errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            for task in list(conn.tasks):
                task.cancel()
            await self._notify()
