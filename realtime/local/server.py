"""``voicecam-server``: the embedded offline server speaking the OpenAI Realtime GA protocol.

Usage::

    voicecam-server [--host 127.0.0.1] [--port 0] [--token T] [--allow-remote]
                    [--session-max-s N] [--max-message-mb 8]
                    [--llm-url URL [--llm-model M] [--llm-key-env VAR] [--llm-no-vision]]
                    [--list-llm]

Serving rules:
- Binds loopback by default; any other host needs ``--allow-remote`` (and prints a warning).
- Every connection must send ``Authorization: Bearer <token>`` (``--token``, else the
  ``VOICECAM_SERVER_TOKEN`` environment variable, else a random token printed on stderr).
  A wrong or missing token gets HTTP 401 before the WebSocket opens.
- A request with an ``Origin`` header (a browser) is refused with HTTP 403 unless the origin is
  loopback (http://127.0.0.1, http://localhost, http://[::1], any port).
- Path ``/v1/realtime`` (``?model=…`` as the cloud; the model name is echoed in the session).
- A message larger than ``--max-message-mb`` gets an ``error`` event (code ``message_too_large``)
  and the session continues; beyond twice that the connection is closed (1009).
- ``--session-max-s N``: a session ends after N seconds like OpenAI's 60-minute cap: an
  ``error`` event with code ``session_expired``, then close 1001.

Standard output, one line each (the app parses these)::

    VOICECAM-SERVER PROGRESS <k>/<n> <what is loading>
    VOICECAM-SERVER READY ws://127.0.0.1:PORT/v1/realtime
    VOICECAM-SERVER ERROR <message naming the package to install>      (then exit status 3)

The READY line is printed exactly once, after every model is loaded and the socket listens.
Stop it with SIGTERM or SIGINT: exit status 0 within a second, even while a long transcription
or reply is being computed (worker threads are abandoned, not joined: the process ends with
``os._exit`` once the sockets are closed and the output flushed). A bad flag value (``--port
70000``, ``--max-message-mb nan``) exits 2 with a sentence naming the flag
(``realtime.local.server_args``).

Connections: keepalive pings every ``PING_INTERVAL_S`` (a client that does not answer within
``PING_TIMEOUT_S`` is dropped), and data that has waited ``WRITE_TIMEOUT_S`` in a connection's
send buffer without draining (a client that stopped reading) drops the connection and frees
what was queued for it (``realtime.local.stall``). A
failed HTTP handshake (a POST, garbage, a TLS hello) is one debug line, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import hmac
import http
import logging
import os
import secrets
import signal
import sys
import threading
import urllib.parse
from collections.abc import Sequence
from typing import NoReturn

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request
from websockets.http11 import Response as HttpResponse

from realtime.local import live_worker
from realtime.local.brain import Brain
from realtime.local.connection import Connection
from realtime.local.discovery import EndpointChoiceError, discover, listing_lines, resolve_endpoint
from realtime.local.models import ModelLoadError, Models, limit_malloc_arenas, load_all
from realtime.local.server_args import is_loopback_host, parse_args
from realtime.local.stall import drop_when_stalled

READY_PREFIX = "VOICECAM-SERVER READY "
PROGRESS_PREFIX = "VOICECAM-SERVER PROGRESS "
ERROR_PREFIX = "VOICECAM-SERVER ERROR "
PATH = "/v1/realtime"
EXIT_MODEL_ERROR = 3
#: Keepalive: ping every PING_INTERVAL_S; no pong within PING_TIMEOUT_S drops the client.
PING_INTERVAL_S = 20.0
PING_TIMEOUT_S = 60.0
#: Data waiting this long in a connection's send buffer without draining (the client stopped
#: reading; keepalive cannot see it, its ping waits behind the data) drops the client.
WRITE_TIMEOUT_S = 30.0
#: How long a stop waits for clients to acknowledge the close before cutting them off.
STOP_GRACE_S = 0.5


#: Failed handshakes go here at DEBUG, one line each (websockets' own error log is silenced).
_handshake_log = logging.getLogger("voicecam.server.handshake")


class _OneLineHandshakeLog(logging.LoggerAdapter[logging.Logger]):
    """The logger given to ``websockets.serve``: an "opening handshake failed" error (with its
    traceback) becomes one DEBUG line naming the cause; everything else passes through."""

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:
        exc_info = kwargs.pop("exc_info", None)
        if level >= logging.ERROR and "handshake" in str(msg):
            cause = _cause(exc_info)
            _handshake_log.debug("failed handshake: %s", cause)
            return
        if exc_info is not None:
            kwargs["exc_info"] = exc_info
        self.logger.log(level, msg, *args, **kwargs)  # type: ignore[arg-type]


def _cause(exc_info: object) -> str:
    exc = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    if not isinstance(exc, BaseException):
        exc = sys.exc_info()[1]
    if exc is None:
        return "unknown"
    inner = exc.__cause__ or exc.__context__
    text = f"{type(exc).__name__}: {exc}"
    if inner is not None:
        text += f" ({type(inner).__name__}: {inner})"
    return text[:300]


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def origin_allowed(origin: str | None) -> bool:
    """No Origin (a native client) or a loopback origin; any other browser origin is refused."""
    if origin is None:
        return True
    parsed = urllib.parse.urlsplit(origin)
    return parsed.scheme in ("http", "https") and is_loopback_host(parsed.hostname or "")


def _reject(conn: ServerConnection, status: http.HTTPStatus, text: str) -> HttpResponse:
    response = conn.respond(status, text + "\n")
    return response


class Server:
    """The listening server: shared models, brain and worker threads; one ``Connection`` each."""

    def __init__(
        self,
        models: Models,
        brain: Brain,
        token: str,
        *,
        session_max_s: float | None = None,
        max_message_bytes: int = 8 * 1024 * 1024,
        write_timeout_s: float = WRITE_TIMEOUT_S,
    ) -> None:
        self.models = models
        self.brain = brain
        self._token = token
        self.session_max_s = session_max_s
        self.max_message_bytes = max_message_bytes
        self.write_timeout_s = write_timeout_s
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=16, thread_name_prefix="voicecam-infer"
        )

    # websockets hook: runs before the handshake completes.
    def process_request(self, conn: ServerConnection, request: Request) -> HttpResponse | None:
        path = urllib.parse.urlsplit(request.path).path
        if path.rstrip("/") != PATH:
            return _reject(conn, http.HTTPStatus.NOT_FOUND, f"unknown path; use {PATH}?model=...")
        headers: Headers = request.headers
        if not origin_allowed(headers.get("Origin")):
            return _reject(conn, http.HTTPStatus.FORBIDDEN, "browser origin not allowed")
        auth = headers.get("Authorization", "")
        scheme, _, given = auth.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self._token.encode()
        ):
            return _reject(
                conn,
                http.HTTPStatus.UNAUTHORIZED,
                "missing or wrong bearer token (Authorization: Bearer <token>)",
            )
        return None

    async def handler(self, ws: ServerConnection) -> None:
        query = urllib.parse.parse_qs(
            urllib.parse.urlsplit(ws.request.path).query if ws.request else ""
        )
        model = (query.get("model") or ["voicecam-local"])[0]
        conn = Connection(
            send_text=ws.send,
            models=self.models,
            brain=self.brain,
            executor=self.executor,
            model_name=model,
        )
        expiry: asyncio.Task[None] | None = None
        stall = asyncio.create_task(drop_when_stalled(ws.transport, self.write_timeout_s))
        if self.session_max_s:
            expiry = asyncio.create_task(self._expire(ws, conn, self.session_max_s))
        try:
            await conn.start()
            async for message in ws:
                if len(message) > self.max_message_bytes:
                    await conn.error(Connection.oversized_error(message, self.max_message_bytes))
                    continue
                await conn.handle(message)
        except ConnectionClosed:
            pass
        finally:
            stall.cancel()
            if expiry is not None:
                expiry.cancel()
            await conn.close()

    async def _expire(self, ws: ServerConnection, conn: Connection, after_s: float) -> None:
        await asyncio.sleep(after_s)
        from realtime.local.protocol import ClientEventError

        try:
            await conn.error(
                ClientEventError(
                    f"Your session hit the maximum duration of {after_s:g} seconds.",
                    "session_expired",
                )
            )
            await conn.close()
            await ws.close(1001, "session expired")
        except ConnectionClosed:
            pass


async def _serve(args: argparse.Namespace, models: Models, brain: Brain, token: str) -> None:
    server = Server(
        models,
        brain,
        token,
        session_max_s=args.session_max_s,
        max_message_bytes=int(args.max_message_mb * 1024 * 1024),
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with serve(
        server.handler,
        args.host,
        args.port,
        process_request=server.process_request,
        max_size=server.max_message_bytes * 2,
        compression=None,
        ping_interval=PING_INTERVAL_S,
        ping_timeout=PING_TIMEOUT_S,
        close_timeout=STOP_GRACE_S,
        logger=_OneLineHandshakeLog(logging.getLogger("websockets.server"), {}),
    ) as ws_server:
        sock = next(iter(ws_server.sockets))
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        _emit(f"{READY_PREFIX}ws://{shown}:{port}{PATH}")
        await stop.wait()
        server.executor.shutdown(wait=False, cancel_futures=True)
        ws_server.close()
        # Clients get STOP_GRACE_S to answer the close; then the sockets are cut.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ws_server.wait_closed(), STOP_GRACE_S * 2)


def _exit_when_stdin_closes() -> None:
    """Watch standard input on a daemon thread; at EOF (the parent died or closed the pipe)
    send ourselves SIGTERM: while loading that ends the process, while serving it is a clean
    stop (the handler in ``_serve``)."""

    def watch() -> None:
        # os.read on the descriptor, never sys.stdin: a thread blocked inside the buffered
        # reader holds its lock, and interpreter shutdown then dies with "Fatal Python error:
        # _enter_buffered_busy" (rc -6) on every normal stop.
        with contextlib.suppress(OSError, ValueError):
            while os.read(0, 4096):
                pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv, __doc__.split("\n")[0])
    if args.list_llm:
        for line in listing_lines(discover()):
            print(line)
        return 0
    token = args.token or os.environ.get("VOICECAM_SERVER_TOKEN")
    if not token:
        token = secrets.token_urlsafe(24)
        print(f"voicecam-server: no --token given; this run's token: {token}", file=sys.stderr)
    if args.allow_remote and not is_loopback_host(args.host):
        print(
            f"voicecam-server: WARNING: listening on {args.host}, reachable from other "
            "machines; anyone with the token can use it",
            file=sys.stderr,
        )
    if args.exit_with_stdin:
        _exit_when_stdin_closes()
    limit_malloc_arenas()
    with_llm = not args.llm_url
    total = 5 if with_llm else 4  # the steps of models.load_all
    step = iter(range(1, total + 1))

    def progress(what: str) -> None:
        _emit(f"{PROGRESS_PREFIX}{next(step)}/{total} {what}")

    try:
        models = load_all(progress, with_llm=with_llm)
        live_worker.warm()  # the streaming re-decodes' own Whisper, loaded in the background
        from dsp.vad import StreamingVad, VadModelError

        try:
            StreamingVad()
        except VadModelError as exc:
            raise ModelLoadError("voice detector (Silero VAD)", ("faster-whisper",), exc) from exc
    except ModelLoadError as exc:
        _emit(f"{ERROR_PREFIX}{exc}")
        return EXIT_MODEL_ERROR
    endpoint = None
    if args.llm_url:
        key = os.environ.get(args.llm_key_env) if args.llm_key_env else None
        try:
            endpoint = resolve_endpoint(
                args.llm_url, args.llm_model, api_key=key, vision=not args.llm_no_vision
            )
        except EndpointChoiceError as exc:
            _emit(f"{ERROR_PREFIX}{exc}")
            return 2
    brain = Brain(models, endpoint)
    try:
        asyncio.run(_serve(args, models, brain, token))
    except OSError as exc:
        _emit(f"{ERROR_PREFIX}cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        return 2
    _exit_now(0)


def _exit_now(code: int) -> NoReturn:
    """End the process at once after a stop: flush the output, then ``os._exit`` so the
    interpreter does not join worker threads still inside a long transcription or reply
    (``concurrent.futures`` joins them at exit, which took 14 s for a 10-minute input)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
