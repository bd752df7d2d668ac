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
Stop it with SIGTERM or SIGINT (exit status 0).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import hmac
import http
import ipaddress
import os
import secrets
import signal
import sys
import threading
import urllib.parse
from collections.abc import Sequence

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request
from websockets.http11 import Response as HttpResponse

from realtime.local.brain import Brain
from realtime.local.connection import Connection
from realtime.local.discovery import EndpointChoiceError, discover, listing_lines, resolve_endpoint
from realtime.local.models import ModelLoadError, Models, limit_malloc_arenas, load_all

READY_PREFIX = "VOICECAM-SERVER READY "
PROGRESS_PREFIX = "VOICECAM-SERVER PROGRESS "
ERROR_PREFIX = "VOICECAM-SERVER ERROR "
PATH = "/v1/realtime"
EXIT_MODEL_ERROR = 3


def _emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    ) -> None:
        self.models = models
        self.brain = brain
        self._token = token
        self.session_max_s = session_max_s
        self.max_message_bytes = max_message_bytes
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


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="voicecam-server", description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--token", default=None, help="bearer token (default: $VOICECAM_SERVER_TOKEN)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback host (anyone with the token can connect)",
    )
    p.add_argument(
        "--session-max-s",
        type=float,
        default=None,
        help="end sessions after this many seconds (error session_expired, close 1001)",
    )
    p.add_argument("--max-message-mb", type=float, default=8.0)
    p.add_argument(
        "--llm-url",
        default=None,
        help="OpenAI-compatible base URL (e.g. http://127.0.0.1:11434/v1) replacing SmolLM2",
    )
    p.add_argument("--llm-model", default=None, help="model name for --llm-url")
    p.add_argument(
        "--llm-key-env",
        default=None,
        help="name of an environment variable holding the --llm-url API key",
    )
    p.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="exit when standard input closes (the app passes a pipe, so the server never "
        "outlives it, even after a hard crash)",
    )
    p.add_argument(
        "--llm-no-vision",
        action="store_true",
        help="do not send camera frames to --llm-url as image_url parts",
    )
    p.add_argument(
        "--list-llm",
        action="store_true",
        help="list the OpenAI-compatible model servers running on this machine (Ollama, "
        "LM Studio, llama.cpp, vLLM) and their models, then exit",
    )
    args = p.parse_args(argv)
    if args.llm_model and not args.llm_url:
        p.error("--llm-model needs --llm-url (without --llm-model, the server's first model)")
    if not is_loopback_host(args.host) and not args.allow_remote:
        p.error(f"--host {args.host} is not loopback: add --allow-remote to expose the server")
    return args


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
        ping_interval=20,
        ping_timeout=60,
    ) as ws_server:
        sock = next(iter(ws_server.sockets))
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        _emit(f"{READY_PREFIX}ws://{shown}:{port}{PATH}")
        await stop.wait()
    server.executor.shutdown(wait=False, cancel_futures=True)


def _exit_when_stdin_closes() -> None:
    """Watch standard input on a daemon thread; at EOF (the parent died or closed the pipe)
    send ourselves SIGTERM: while loading that ends the process, while serving it is a clean
    stop (the handler in ``_serve``)."""

    def watch() -> None:
        with contextlib.suppress(OSError, ValueError):
            while sys.stdin.buffer.read(4096):
                pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
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
    total = 4 if with_llm else 3
    step = iter(range(1, total + 1))

    def progress(what: str) -> None:
        _emit(f"{PROGRESS_PREFIX}{next(step)}/{total} {what}")

    try:
        models = load_all(progress, with_llm=with_llm)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
