"""RealtimeSession: the real OpenAI core over a real websockets connection to the scripted fake.

Every test runs a loopback server (tests/fakes/fake_openai.py); client messages are validated
against the official SDK types by the fake (``fake.client_errors`` must stay empty).
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import logging
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from realtime import gemini, gemini_endpoint, openai, openai_endpoint
from realtime.events import (
    AppendAudio,
    AudioDelta,
    AudioDone,
    CancelResponse,
    Closed,
    CommitInput,
    GoAway,
    InputCommitted,
    InputTranscript,
    Interrupted,
    ItemTruncated,
    ProtocolViolation,
    ResponseDone,
    ResponseStarted,
    ResumptionHandle,
    SendText,
    ServerError,
    SessionConfig,
    SessionReady,
    SessionUpdated,
    SpeechStarted,
    TranscriptDelta,
    TranscriptDone,
    Truncate,
    TurnComplete,
    TurnDetection,
)
from realtime.session import (
    HandshakeError,
    HostUnreachableError,
    KeyRejectedError,
    MissingKeyError,
    NotConnectedError,
    RealtimeSession,
    TlsError,
    resolve_api_key,
)
from tests.fakes.collect import EventCollector, run
from tests.fakes.fake_gemini import FakeGemini
from tests.fakes.fake_openai import FakeOpenAI

pytestmark = pytest.mark.timeout(60)

KEY = "sk-canary-3f9a1c7e5b2d4f60a8c1"


class Recorder:
    def __init__(self) -> None:
        self.wire: list[tuple[str, str | bytes, int]] = []

    def on_wire(self, direction: str, message: str | bytes, t_mono_ns: int) -> None:
        self.wire.append((direction, message, t_mono_ns))

    def of(self, direction: str) -> list[str | bytes]:
        return [m for d, m, _ in self.wire if d == direction]


@asynccontextmanager
async def openai_session(
    fake_kw: dict[str, Any] | None = None, config: SessionConfig | None = None, **session_kw: Any
) -> AsyncIterator[tuple[FakeOpenAI, RealtimeSession, EventCollector, Recorder]]:
    async with FakeOpenAI(api_key=KEY, **(fake_kw or {})) as fake:
        rec = Recorder()
        ep = openai_endpoint.endpoint(KEY, "gpt-realtime", base_url=fake.base_url)
        session = RealtimeSession(openai.OpenAICore(), ep, recorder=rec, **session_kw)
        await session.connect(config or SessionConfig())
        col = EventCollector(session)
        try:
            yield fake, session, col, rec
        finally:
            await session.close()
        assert fake.client_errors == []
        assert fake.fake_errors == []


def test_whole_turn() -> None:
    async def main() -> None:
        async with openai_session() as (fake, session, col, _rec):
            await col.next(SessionReady)
            update = await fake.wait_for("session.update")
            assert update["session"]["type"] == "realtime"
            await col.next(SessionUpdated)
            # The user speaks: real PCM appended, then the server's VAD turn.
            pcm = b"\x10\x00" * 24_000  # 500 ms at 24 kHz
            await session.send(AppendAudio(pcm, 24_000))
            await fake.user_turn("What is on my desk?")
            assert (await col.next(SpeechStarted)).audio_start_ms == 100
            committed = await col.next(InputCommitted)
            transcript = await col.next(InputTranscript)
            assert transcript == InputTranscript("What is on my desk?", True, committed.item_id)
            await col.next(ResponseStarted)
            done = await col.next(ResponseDone)
            assert done.status == "completed"
            assert done.usage is not None and done.usage.output_tokens == 45
            audio = b"".join(e.pcm for e in col.of(AudioDelta))
            assert len(audio) == 24_000 * 2 * 600 // 1000  # the fake's 600 ms reply
            assert {e.rate_hz for e in col.of(AudioDelta)} == {24_000}
            assert "".join(e.text for e in col.of(TranscriptDelta)) == fake.reply
            assert col.of(TranscriptDone)[0].text == fake.reply
            assert len(col.of(AudioDone)) == 1
            appended = [
                m for m in fake.current.received if m["type"] == "input_audio_buffer.append"
            ]
            assert sum(len(m["audio"]) for m in appended) > 0
        assert col.events[-1] == Closed(code=1000, reason="", by_client=True)

    run(main())


def test_push_to_talk_commit_and_refusal() -> None:
    async def main() -> None:
        config = SessionConfig(turn_detection=TurnDetection(mode="none"))
        async with openai_session(config=config) as (fake, session, col, _rec):
            await session.send(AppendAudio(b"\x00\x00" * 1200, 24_000))  # 50 ms: too short
            await session.send(CommitInput())
            await session.send(AppendAudio(b"\x00\x00" * 4800, 24_000))  # +200 ms
            await session.send(CommitInput())
            await fake.wait_for("input_audio_buffer.commit")
            await col.next(InputCommitted)
            assert [m["type"] for m in fake.current.received].count(
                "input_audio_buffer.commit"
            ) == 1

    run(main())


def test_interruption_sends_cancel_and_truncate_at_played_position() -> None:
    async def main() -> None:
        fake_kw = {"reply_audio_ms": 3000, "chunk_ms": 100, "chunk_delay_s": 0.05}
        async with openai_session(fake_kw) as (fake, session, col, _rec):
            await fake.user_turn()
            await col.next(ResponseStarted)
            first = await col.next(AudioDelta)
            for _ in range(3):
                await col.next(AudioDelta)
            # Barge-in: the app played 250 ms of the item; stop and trim it.
            await session.send(CancelResponse())
            await session.send(Truncate(first.item_id, played_ms=250))
            cancel = await fake.wait_for("response.cancel")
            truncate = await fake.wait_for("conversation.item.truncate")
            assert truncate["item_id"] == first.item_id
            assert truncate["audio_end_ms"] == 250
            assert truncate["content_index"] == 0
            assert "response_id" in cancel
            done = await col.next(ResponseDone)
            assert done.status == "cancelled"
            truncated = await col.until(lambda e: isinstance(e, ItemTruncated))
            assert truncated == ItemTruncated(first.item_id, 250)
            received_ms = sum(len(e.pcm) for e in col.of(AudioDelta)) // 48
            assert received_ms < 3000

    run(main())


def test_server_error_keeps_the_session_going() -> None:
    async def main() -> None:
        async with openai_session() as (fake, session, col, _rec):
            await col.next(SessionReady)
            await fake.error("Invalid value: 'x'", code="invalid_value", event_id="evt_1")
            err = await col.next(ServerError)
            assert err.code == "invalid_value" and not err.fatal
            assert err.client_event == "session.update"  # evt_1 was the session.update
            await session.send(SendText("Are you still there?"))
            done = await col.next(ResponseDone)
            assert done.status == "completed"
            assert session.connected

    run(main())


def test_malformed_json_becomes_protocol_violation_and_session_continues() -> None:
    async def main() -> None:
        async with openai_session() as (fake, _session, col, rec):
            await col.next(SessionReady)
            await fake.send('{"type": "response.output_audio.delta", "delta": ')
            await fake.send(b"\xff\xfe not json")
            violation = await col.next(ProtocolViolation)
            assert violation.reason
            await col.next(ProtocolViolation)
            await fake.user_turn()
            await col.next(ResponseDone)
            assert b"\xff\xfe not json" in rec.of("in")

    run(main())


def test_abrupt_close_is_closed_1006() -> None:
    async def main() -> None:
        async with openai_session() as (fake, session, col, _rec):
            await col.next(SessionReady)
            fake.abort()
            closed = await col.next(Closed)
            assert closed.code == 1006 and not closed.by_client
            await col.finished()
            assert not session.connected
            with pytest.raises(NotConnectedError):
                await session.send(SendText("hello?"))

    run(main())


def test_clean_close_by_client() -> None:
    async def main() -> None:
        async with openai_session() as (fake, session, col, _rec):
            await col.next(SessionReady)
            await session.close()
            await col.finished()
            assert col.events[-1] == Closed(code=1000, reason="", by_client=True)
            assert col.of(Closed) == [col.events[-1]]
            await fake.wait_until(lambda: fake.current.ws.close_code is not None)
            assert fake.current.ws.close_code == 1000
            await session.close()  # idempotent

    run(main())


def test_session_expired_then_server_close_1001() -> None:
    async def main() -> None:
        async with openai_session() as (fake, _session, col, _rec):
            await col.next(SessionReady)
            await fake.expire()
            err = await col.next(ServerError)
            assert err.code == "session_expired"
            closed = await col.next(Closed)
            assert (closed.code, closed.reason, closed.by_client) == (
                1001,
                "session expired",
                False,
            )

    run(main())


def test_oversized_message_closes_with_1009() -> None:
    async def main() -> None:
        async with openai_session(max_message_bytes=4096) as (fake, _session, col, _rec):
            await col.next(SessionReady)
            await fake.send(json.dumps({"type": "x", "pad": "a" * 10_000}))
            closed = await col.next(Closed)
            assert closed.code == 1009

    run(main())


def test_concurrent_sends_keep_order() -> None:
    async def main() -> None:
        async with openai_session() as (fake, session, _col, _rec):
            chunks = [bytes([i, 0]) * 480 for i in range(40)]
            await asyncio.gather(*(session.send(AppendAudio(c, 24_000)) for c in chunks))
            await fake.wait_for("input_audio_buffer.append", count=40)
            got = [
                base64.b64decode(m["audio"])
                for m in fake.current.received
                if m["type"] == "input_audio_buffer.append"
            ]
            assert got == chunks

    run(main())


# --------------------------------------------------------------------------- recorder, secrets


def test_recorder_sees_every_message_in_order_with_monotonic_time_and_never_the_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # The app's install_logging() (run in-process by CLI tests) raises "websockets" to INFO;
    # this test reads its DEBUG handshake lines, so it sets that logger's level itself.
    caplog.set_level(logging.DEBUG, logger="websockets")

    async def main() -> RealtimeSession:
        async with openai_session() as (fake, session, col, rec):
            await col.next(SessionReady)
            await session.send(SendText("hello"))
            await col.next(ResponseDone)
            await fake.error("bad", code="x")
            await col.next(ServerError)
            # Everything the fake received / sent, in order, is what the recorder saw.
            assert rec.of("out") == fake.current.raw
            assert rec.of("in") == fake.current.sent
            stamps = [t for _, _, t in rec.wire]
            assert stamps == sorted(stamps)
            assert len(rec.wire) == len(fake.current.raw) + len(fake.current.sent)
            assert KEY not in repr(session)
            return session

    session = run(main())
    for _d, message, _t in session._recorder.wire:  # type: ignore[union-attr]
        text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
        assert KEY not in text
    # websockets logs request headers at DEBUG; the session's logger redacts them. (The fake
    # server's own "websockets.server" log shows what it received; that is not the app's log.)
    client_log = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server")
    )
    # "[redacted]" from the session's logger, or "[REDACTED]" when the app's logging filter
    # (installed by an in-process CLI test) has rewritten the line again: either way, no key.
    assert "authorization: [redacted]" in client_log.lower()
    assert KEY not in client_log
    assert KEY not in repr(session)


def test_missing_key_names_the_variable() -> None:
    with pytest.raises(MissingKeyError) as info:
        resolve_api_key("openai", env={})
    assert "OPENAI_API_KEY" in str(info.value)
    with pytest.raises(MissingKeyError) as info:
        resolve_api_key("gemini", env={"OPENAI_API_KEY": "x"})
    assert "GEMINI_API_KEY" in str(info.value)
    assert resolve_api_key("openai", env={"OPENAI_API_KEY": " sk-1 "}) == "sk-1"
    assert resolve_api_key("gemini", env={"GOOGLE_API_KEY": "g-2"}) == "g-2"
    looked: list[tuple[str, str]] = []

    def keyring(service: str, user: str) -> str | None:
        looked.append((service, user))
        return "from-keyring"

    assert resolve_api_key("openai", env={}, keyring_lookup=keyring) == "from-keyring"
    assert looked == [("voicecam", "openai")]

    def broken(service: str, user: str) -> str | None:
        raise RuntimeError("no backend")

    with pytest.raises(MissingKeyError):
        resolve_api_key("gemini", env={}, keyring_lookup=broken)
    with pytest.raises(ValueError):
        resolve_api_key("nope", env={})


def test_key_rejected_on_upgrade() -> None:
    async def main() -> None:
        async with FakeOpenAI(api_key=KEY) as fake:
            wrong = "sk-wrong-0123456789abcdef"
            ep = openai_endpoint.endpoint(wrong, "gpt-realtime", base_url=fake.base_url)
            session = RealtimeSession(openai.OpenAICore(), ep)
            with pytest.raises(KeyRejectedError) as info:
                await session.connect(SessionConfig())
            assert info.value.status == 401
            assert f"127.0.0.1:{fake.port}" in str(info.value)
            assert wrong not in str(info.value) and wrong not in repr(info.value)
            assert info.value.__cause__ is None  # no chained websockets exception
            assert fake.rejected == [401]

    run(main())


def test_wrong_path_is_a_handshake_error() -> None:
    async def main() -> None:
        async with FakeOpenAI(api_key=KEY) as fake:
            ep = openai_endpoint.endpoint(
                KEY, "gpt-realtime", base_url=f"http://127.0.0.1:{fake.port}/v9/x"
            )
            ep = type(ep)(ep.url.replace("/realtime", "/nothing"), ep.headers, ep.secret_headers)
            with pytest.raises(HandshakeError) as info:
                await RealtimeSession(openai.OpenAICore(), ep).connect(SessionConfig())
            assert "404" in str(info.value)
            assert KEY not in str(info.value)

    run(main())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_host_unreachable_connection_refused() -> None:
    async def main() -> None:
        port = _free_port()
        ep = openai_endpoint.endpoint(KEY, "gpt-realtime", base_url=f"http://127.0.0.1:{port}/v1")
        with pytest.raises(HostUnreachableError) as info:
            await RealtimeSession(openai.OpenAICore(), ep).connect(SessionConfig())
        assert f"127.0.0.1:{port}" in str(info.value)
        assert "refused" in str(info.value)
        assert KEY not in str(info.value)

    run(main())


def test_host_unreachable_timeout_when_nothing_answers() -> None:
    async def main() -> None:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(5)
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            ep = openai_endpoint.endpoint(
                KEY, "gpt-realtime", base_url=f"http://127.0.0.1:{port}/v1"
            )
            session = RealtimeSession(openai.OpenAICore(), ep, open_timeout_s=0.3)
            with pytest.raises(HostUnreachableError) as info:
                await session.connect(SessionConfig())
            assert "no answer within 0.3 s" in str(info.value)

    run(main())


def test_host_unreachable_dns() -> None:
    async def main() -> None:
        ep = openai_endpoint.endpoint(
            KEY, "gpt-realtime", base_url="https://no-such-host.invalid/v1"
        )
        session = RealtimeSession(openai.OpenAICore(), ep, open_timeout_s=3)
        with pytest.raises(HostUnreachableError) as info:
            await session.connect(SessionConfig())
        assert "no-such-host.invalid:443" in str(info.value)
        assert KEY not in str(info.value)

    run(main())


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_is_always_verified(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed

    async def main() -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)

        async def handler(ws: ServerConnection) -> None:
            await ws.send(json.dumps({"type": "session.created", "event_id": "e", "session": {}}))
            await ws.wait_closed()

        async with serve(handler, "127.0.0.1", 0, ssl=ctx) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            ep = openai_endpoint.endpoint(
                KEY, "gpt-realtime", base_url=f"https://127.0.0.1:{port}/v1"
            )
            with pytest.raises(TlsError) as info:
                await RealtimeSession(openai.OpenAICore(), ep).connect(SessionConfig())
            assert "certificate" in str(info.value).lower()
            assert KEY not in str(info.value)
            # Trusting the CA explicitly works; verification itself stays on.
            session = RealtimeSession(openai.OpenAICore(), ep, ca_file=str(cert))
            await session.connect(SessionConfig())
            col = EventCollector(session)
            await col.next(SessionReady)
            await session.close()

    run(main())
    params = set(inspect.signature(RealtimeSession).parameters)
    assert not params & {"ssl", "verify", "insecure", "verify_ssl", "ssl_context"}


# --------------------------------------------------------------------------- Gemini


@asynccontextmanager
async def gemini_session(
    fake_kw: dict[str, Any] | None = None, config: SessionConfig | None = None
) -> AsyncIterator[tuple[FakeGemini, RealtimeSession, EventCollector, Recorder]]:
    async with FakeGemini(api_key=KEY, **(fake_kw or {})) as fake:
        rec = Recorder()
        session = RealtimeSession(
            gemini.GeminiCore(), gemini_endpoint.endpoint(KEY, base_url=fake.base_url), recorder=rec
        )
        await session.connect(config or SessionConfig())
        col = EventCollector(session)
        try:
            yield fake, session, col, rec
        finally:
            await session.close()
        assert fake.client_errors == []
        assert fake.fake_errors == []


def test_gemini_whole_turn_over_binary_frames() -> None:
    async def main() -> None:
        async with gemini_session() as (fake, session, col, rec):
            await col.next(SessionReady)
            setup = fake.current.state["setup"]
            assert setup["model"].startswith("models/")
            assert "key=" not in fake.current.path
            await session.send(AppendAudio(b"\x01\x00" * 3200, 16_000))
            await fake.wait_for("realtimeInput.audio")
            await fake.user_turn("What is on my desk?")
            await col.next(TurnComplete)
            handle = await col.next(ResumptionHandle)
            assert handle.resumable and handle.handle in fake.handles
            user = [e for e in col.of(InputTranscript) if e.final]
            assert [e.text for e in user] == ["What is on my desk?"]
            assert "".join(e.text for e in col.of(TranscriptDelta)) == fake.reply_text
            audio = b"".join(e.pcm for e in col.of(AudioDelta))
            assert len(audio) == 24_000 * 2 * 600 // 1000
            done = [e for e in col.of(ResponseDone) if e.usage is not None]
            assert done and done[0].usage is not None and done[0].usage.total_tokens > 0
            # The server's frames are binary and reach the recorder (and the core) as bytes.
            assert rec.of("in") and all(isinstance(m, bytes) for m in rec.of("in"))
            assert all(isinstance(m, str) for m in rec.of("out"))

    run(main())


def test_gemini_interruption_and_go_away() -> None:
    async def main() -> None:
        fake_kw = {"reply_audio_ms": 3000, "chunk_delay_s": 0.05}
        async with gemini_session(fake_kw) as (fake, session, col, _rec):
            await col.next(SessionReady)
            await session.send(SendText("Describe the room."))
            await fake.wait_for("realtimeInput.text")
            await col.next(AudioDelta)
            await fake.interrupt()
            await col.next(Interrupted)
            cancelled = await col.next(ResponseDone)
            assert cancelled.status == "cancelled"
            await fake.go_away("7.5s")
            assert (await col.next(GoAway)).time_left_ms == 7500
            # The session keeps going after both.
            await fake.user_turn("And now?")
            await col.next(TurnComplete)

    run(main())


def test_gemini_key_rejected() -> None:
    async def main() -> None:
        async with FakeGemini(api_key=KEY) as fake:
            ep = gemini_endpoint.endpoint("AIza-wrong-key-000000", base_url=fake.base_url)
            with pytest.raises(KeyRejectedError) as info:
                await RealtimeSession(gemini.GeminiCore(), ep).connect(SessionConfig())
            assert "AIza-wrong-key-000000" not in str(info.value)

    run(main())
