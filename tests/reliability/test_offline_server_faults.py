"""Issue 17, items 9 and 12-15: the offline server under protocol and lifecycle faults.

- 9: ``response.create`` followed at once by ``response.cancel`` still gets ``response.created``
  and a ``response.done`` with status ``cancelled`` (the official SDK validates every event);
- 12: a client that stops reading is dropped (the write-side watchdog, on a real websockets
  server and a raw socket that never reads);
- 13: failed HTTP handshakes (POST, garbage, a TLS hello) print nothing on stderr;
- 14: a 5,000-digit integer is ``invalid_value`` naming the field, and the session goes on;
- 15: out-of-range flags exit 2 with a sentence, without a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from realtime.local.stall import drop_when_stalled
from tests.realtime.local.conftest import REPO
from tests.realtime.local.peer import connect


@pytest.mark.models
def test_create_then_cancel_at_once_always_gets_created_and_cancelled_done(
    local_server: Any,
) -> None:
    pairs = 40

    async def run() -> list[tuple[str, ...]]:
        outcomes: list[tuple[str, ...]] = []
        async with connect(local_server) as peer:
            await peer.update(output_modalities=["text"])
            for _ in range(pairs):
                # two frames back to back in one write: no gap for the server to start work
                await peer.send_raw(json.dumps({"type": "response.create"}))
                await peer.send_raw(json.dumps({"type": "response.cancel"}))
                got = await peer.until("response.done", timeout=30)
                kinds = [e["type"] for e in got]
                done = got[-1]["response"]
                outcomes.append((kinds[0], done["status"], done["status_details"]["reason"]))
        return outcomes

    outcomes = asyncio.run(run())
    assert outcomes == [("response.created", "cancelled", "client_cancelled")] * pairs


@pytest.mark.models
def test_a_huge_integer_is_invalid_value_naming_the_field(local_server: Any) -> None:
    async def run() -> tuple[dict[str, Any], dict[str, Any], str]:
        async with connect(local_server) as peer:
            await peer.send_raw(
                '{"type":"conversation.item.truncate","event_id":"e_big","item_id":"item_x",'
                '"content_index":0,"audio_end_ms":' + "7" * 5000 + "}"
            )
            first = (await peer.until("error", timeout=30))[-1]["error"]
            await peer.send_raw(
                '{"type":"response.create","response":{"max_output_tokens":-' + "1" * 30 + "}}"
            )
            second = (await peer.until("error", timeout=30))[-1]["error"]
            updated = await peer.update(instructions="still alive")
            return first, second, updated["session"]["instructions"]

    first, second, alive = asyncio.run(run())
    assert first["code"] == "invalid_value" and first["param"] == "audio_end_ms", first
    assert first["event_id"] == "e_big" and "5000 digits" in first["message"]
    assert second["code"] == "invalid_value"
    assert second["param"] == "response.max_output_tokens", second
    assert alive == "still alive"


@pytest.mark.models
def test_failed_handshakes_print_nothing(local_server: Any) -> None:
    before = len([x for x in local_server.lines if x.startswith("stderr: ")])
    payloads = [
        b"POST /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
        b"garbage garbage\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(64),  # a TLS ClientHello
        b"GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\r\n",
    ]
    for payload in payloads:
        with socket.create_connection(("127.0.0.1", local_server.port), timeout=10) as s:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)  # nothing more comes: the server need not wait for it
            with contextlib.suppress(OSError):
                s.recv(4096)

    async def still_serving() -> str:
        async with connect(local_server) as peer:
            return str((await peer.update(instructions="ok"))["session"]["instructions"])

    assert asyncio.run(still_serving()) == "ok"
    time.sleep(0.5)
    errs = [x for x in local_server.lines if x.startswith("stderr: ")][before:]
    assert errs == [], "\n".join(errs)


def test_a_client_that_stops_reading_is_dropped_and_its_buffer_freed() -> None:
    """A real websockets server floods a raw-socket client that never reads; the watchdog
    aborts the connection once nothing has drained for the timeout, and the handler ends."""
    ended: list[str] = []

    async def run() -> tuple[bool, int]:
        aborted: list[bool] = []

        async def flood(ws: ServerConnection) -> None:
            watch = asyncio.create_task(drop_when_stalled(ws.transport, 1.0, poll_s=0.1))
            try:
                for _ in range(100_000):
                    await ws.send("x" * 64_000)
            except Exception as exc:
                ended.append(type(exc).__name__)
            finally:
                aborted.append(await watch)

        async with serve(flood, "127.0.0.1", 0, ping_interval=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            sock.sendall(
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            # never read: the server's buffers fill up
            for _ in range(200):
                if aborted:
                    break
                await asyncio.sleep(0.05)
            sock.close()
            left = len(server.connections)
        return bool(aborted and aborted[0]), left

    dropped, left = asyncio.run(asyncio.wait_for(run(), 60))
    assert dropped, "the stalled client was not dropped"
    assert ended == ["ConnectionClosedError"]
    assert left == 0


@pytest.mark.parametrize(
    "flag,value,words",
    [
        ("--port", "70000", "65535"),
        ("--port", "-1", "65535"),
        ("--port", "http", "port number"),
        ("--max-message-mb", "nan", "above 0"),
        ("--max-message-mb", "0", "above 0"),
        ("--max-message-mb", "-5", "above 0"),
        ("--max-message-mb", "inf", "above 0"),
        ("--session-max-s", "nan", "above 0"),
    ],
)
def test_out_of_range_server_flags_exit_2_with_a_sentence(
    flag: str, value: str, words: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "realtime.local.server", "--token", "t" * 12, f"{flag}={value}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert flag in proc.stderr and words in proc.stderr, proc.stderr
    assert "VOICECAM-SERVER PROGRESS" not in proc.stdout  # refused before loading anything


def test_the_server_drops_a_client_that_stops_reading() -> None:
    """The real ``Server`` handler (in-process, real websockets serving) with a 1 s write
    timeout: a raw client floods ``session.update`` (each answered by ~2 KB) and never reads;
    the server drops it and the handler ends. ``session.update`` needs no model: the models
    object only has to say piper's sample rate and give no turn model (both read when a
    connection is made)."""
    from types import SimpleNamespace

    from realtime.local.server import Server

    models: Any = SimpleNamespace(
        piper=SimpleNamespace(config=SimpleNamespace(sample_rate=22050)),
        turn_judge=lambda: None,
        turn=None,
    )
    token = "stall-test-token"
    server = Server(models, brain=None, token=token, write_timeout_s=1.0)  # type: ignore[arg-type]

    async def run() -> int:
        async with serve(
            server.handler, "127.0.0.1", 0, process_request=server.process_request,
            ping_interval=None, compression=None,
        ) as ws_server:  # fmt: skip
            port = next(iter(ws_server.sockets)).getsockname()[1]
            loop = asyncio.get_running_loop()
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", port))
            await loop.sock_sendall(
                sock,
                b"GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer "
                + token.encode()
                + b"\r\n\r\n",
            )
            reply = b""
            while b"\r\n\r\n" not in reply:  # the handshake's answer is the last thing read
                reply += await asyncio.wait_for(loop.sock_recv(sock, 1), 10)
            assert reply.startswith(b"HTTP/1.1 101"), reply
            await asyncio.wait_for(loop.sock_recv(sock, 1), 10)  # session.created has begun
            assert len(ws_server.connections) == 1
            update = json.dumps({"type": "session.update", "session": {"type": "realtime"}})
            frame = _masked_text_frame(update.encode())
            try:
                for _ in range(20_000):  # ~40 MB of answers; never read
                    await asyncio.wait_for(loop.sock_sendall(sock, frame), 5)
                    if not ws_server.connections:
                        break
            except (OSError, TimeoutError):
                pass
            for _ in range(100):
                if not ws_server.connections:
                    break
                await asyncio.sleep(0.1)
            left = len(ws_server.connections)
            sock.close()
            return left

    try:
        assert asyncio.run(asyncio.wait_for(run(), 90)) == 0, "the stalled client is still there"
    finally:
        server.executor.shutdown(wait=False, cancel_futures=True)


def _masked_text_frame(payload: bytes) -> bytes:
    """One client→server text frame (clients must mask; the mask here is zero)."""
    head = bytes([0x81])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    else:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    return head + b"\0\0\0\0" + payload
