"""Reconnect, resumption and renewal: real cores, real sockets, faults from the proxy.

Topology: ReconnectingSession → RealtimeSession(OpenAICore/GeminiCore) → FaultProxy → fake.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from realtime import gemini, gemini_endpoint, openai, openai_endpoint
from realtime.events import (
    AddHistoryItem,
    AppendAudio,
    AudioDelta,
    Closed,
    InputCommitted,
    InputTranscript,
    ItemTruncated,
    Reconnected,
    Reconnecting,
    ResponseDone,
    ResponseStarted,
    ResumptionHandle,
    SendText,
    ServerError,
    SessionConfig,
    SessionReady,
    TranscriptDelta,
    TranscriptDone,
    TurnComplete,
)
from realtime.reconnect import Backoff, ContextLog, ReconnectingSession
from realtime.session import KeyRejectedError, NotConnectedError, RealtimeSession
from tests.fakes.collect import EventCollector, run
from tests.fakes.fake_gemini import FakeGemini
from tests.fakes.fake_openai import FakeOpenAI
from tests.fixtures.fault_proxy import FaultProxy

pytestmark = pytest.mark.timeout(90)

KEY = "sk-canary-reconnect-77e1d2c3b4a5"
FAST = {"base_s": 0.05, "max_s": 0.2}


class Recorder:
    def __init__(self) -> None:
        self.wire: list[tuple[str, str | bytes, int]] = []

    def on_wire(self, direction: str, message: str | bytes, t_mono_ns: int) -> None:
        self.wire.append((direction, message, t_mono_ns))


# --------------------------------------------------------------------------- Backoff (pure)


def test_backoff_full_jitter_is_deterministic_and_bounded() -> None:
    a = Backoff(base_s=0.5, max_s=8.0, max_attempts=7, rng=random.Random(42))
    b = Backoff(base_s=0.5, max_s=8.0, max_attempts=7, rng=random.Random(42))
    delays = list(a.delays())
    assert delays == list(b.delays())
    assert len(delays) == 7
    ceilings = [a.ceiling_s(n) for n in range(1, 8)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert all(0.0 <= d <= c for d, c in zip(delays, ceilings))
    assert len(set(delays)) == 7  # jittered, not constant
    # Full jitter spreads over the whole [0, ceiling] range.
    many = [Backoff(1.0, 1.0, 1, random.Random(i)).delay_s(1) for i in range(200)]
    assert min(many) < 0.1 and max(many) > 0.9
    assert Backoff(1.0, 60.0, 200).ceiling_s(200) == 60.0  # no overflow
    with pytest.raises(ValueError):
        Backoff(base_s=2.0, max_s=1.0)
    with pytest.raises(ValueError):
        Backoff(max_attempts=0)
    with pytest.raises(ValueError):
        a.ceiling_s(0)


# --------------------------------------------------------------------------- ContextLog (pure)


def test_context_log_orders_turns_by_conversation_and_bounds_them() -> None:
    log = ContextLog(max_turns=4)
    log.observe(InputCommitted("u1"))
    log.observe(TranscriptDelta("a1", "Hel"))
    log.observe(TranscriptDone("a1", "Hello."))
    log.observe(InputTranscript("Hi there", True, "u1"))  # late transcript keeps its place
    assert log.items() == (
        AddHistoryItem("user", "Hi there"),
        AddHistoryItem("assistant", "Hello."),
    )
    log.add("user", "typed question")
    log.observe(TranscriptDelta("a2", "A partial"))
    log.observe(TranscriptDelta("a2", " reply"))  # cut off by a drop: partial kept
    assert log.items()[-1] == AddHistoryItem("assistant", "A partial reply")
    log.add("user", "one more")
    assert len(log.items()) == 4  # bounded: the oldest turn went
    assert log.items()[0] == AddHistoryItem("assistant", "Hello.")
    small = ContextLog(max_turns=10, max_chars=30)
    for i in range(5):
        small.add("user", f"message number {i}")
    assert [i.text for i in small.items()] == ["message number 4"]  # 2 x 16 chars > 30


def test_context_log_keeps_what_was_heard_of_a_truncated_reply() -> None:
    log = ContextLog()
    log.observe(AudioDelta("a1", b"\x00\x00" * 24_000, 24_000))  # 1000 ms received
    log.observe(TranscriptDone("a1", "one two three four five six seven eight nine ten"))
    log.observe(ItemTruncated("a1", 300))  # the user heard 30 %
    text = log.items()[0].text
    assert text.startswith("one two") and text.endswith("…")
    assert "ten" not in text


# --------------------------------------------------------------------------- set-up


@asynccontextmanager
async def openai_via_proxy(
    fake_kw: dict[str, Any] | None = None, **rs_kw: Any
) -> AsyncIterator[tuple[FakeOpenAI, FaultProxy, ReconnectingSession, EventCollector, Recorder]]:
    rec = Recorder()
    async with (
        FakeOpenAI(api_key=KEY, **(fake_kw or {})) as fake,
        FaultProxy(fake.url) as proxy,
    ):
        ep = openai_endpoint.endpoint(KEY, "gpt-realtime", base_url=proxy.http_url + "/v1")
        rs_kw.setdefault("backoff", Backoff(**FAST, max_attempts=5, rng=random.Random(7)))
        rs = ReconnectingSession(
            lambda: RealtimeSession(openai.OpenAICore(), ep, recorder=rec), **rs_kw
        )
        await rs.connect(SessionConfig())
        col = EventCollector(rs)
        try:
            yield fake, proxy, rs, col, rec
        finally:
            await rs.close()
        assert fake.client_errors == []
        assert fake.fake_errors == []
        for _d, m, _t in rec.wire:
            assert KEY not in (m.decode("utf-8", "replace") if isinstance(m, bytes) else m)


async def one_turn(fake: FakeOpenAI, col: EventCollector, question: str) -> None:
    await fake.user_turn(question)
    await col.until(lambda e: isinstance(e, TranscriptDone) and e.text == fake.reply, 10)


# --------------------------------------------------------------------------- OpenAI


def test_drop_mid_reply_reconnects_with_backoff_and_carries_context() -> None:
    async def main() -> None:
        fake_kw = {"reply_audio_ms": 2000, "chunk_delay_s": 0.02}
        async with openai_via_proxy(fake_kw) as (fake, proxy, rs, col, rec):
            await col.next(SessionReady)
            await one_turn(fake, col, "What is on my desk?")
            proxy.drop_after(4)  # lost in the middle of the next reply
            await fake.user_turn("And the colour of the mug?")
            reconnecting = await col.next(Reconnecting)
            assert reconnecting.attempt == 1
            assert 0.0 <= reconnecting.delay_s <= FAST["base_s"]
            assert "1006" in reconnecting.reason
            reconnected = await col.next(Reconnected)
            assert reconnected.attempt == 1 and not reconnected.resumed
            second = await fake.wait_connections(2)
            # The context came along, in order: Q1, A1, Q2 (A2 was cut before any transcript).
            await fake.wait_for(
                "conversation.item.create", conn=1, count=reconnected.replayed_turns
            )
            replayed = [(role, text) for c, role, text in fake.history if c == 1]
            assert replayed[:3] == [
                ("user", "What is on my desk?"),
                ("assistant", fake.reply),
                ("user", "And the colour of the mug?"),
            ]
            assert second.received[0]["type"] == "session.update"
            # The conversation goes on over the new connection.
            await fake.user_turn("Thanks!", conn=second)
            await col.until(lambda e: isinstance(e, ResponseDone) and e.status == "completed")
            assert rs.connected and rs.connections == 2
            # The recorder saw both connections, timestamps never going back.
            stamps = [t for _, _, t in rec.wire]
            assert stamps == sorted(stamps)
            assert sum(1 for d, m, _ in rec.wire if d == "in" and "session.created" in str(m)) == 2

    run(main())


def test_gives_up_after_max_attempts_with_a_clear_error() -> None:
    async def main() -> None:
        backoff = Backoff(**FAST, max_attempts=3, rng=random.Random(1))
        async with openai_via_proxy(backoff=backoff) as (_fake, proxy, _rs, col, _rec):
            await col.next(SessionReady)
            proxy.reject_upgrades(503)
            await proxy.close_with(1011, "internal error")
            await col.finished(timeout=20)
            attempts = [e.attempt for e in col.of(Reconnecting)]
            assert attempts == [1, 2, 3]
            error = col.of(ServerError)[-1]
            assert error.fatal and error.code == "reconnect_failed"
            assert "3 attempts" in error.message and "503" in error.message
            closed = col.events[-1]
            assert isinstance(closed, Closed) and closed.code == 1011 and not closed.by_client
            assert proxy.refused == 3

    run(main())


def test_key_rejected_while_reconnecting_stops_at_once() -> None:
    async def main() -> None:
        async with openai_via_proxy() as (fake, proxy, _rs, col, _rec):
            await col.next(SessionReady)
            fake.api_key = "sk-rotated-elsewhere"  # the key was revoked meanwhile
            proxy.drop_now()
            await col.finished(timeout=20)
            assert [e.attempt for e in col.of(Reconnecting)] == [1]
            error = col.of(ServerError)[-1]
            assert error.fatal and "rejected the API key" in error.message
            assert KEY not in error.message
            assert isinstance(col.events[-1], Closed)

    run(main())


def test_session_expired_is_renewed_with_context() -> None:
    async def main() -> None:
        async with openai_via_proxy() as (fake, _proxy, rs, col, _rec):
            await col.next(SessionReady)
            await one_turn(fake, col, "Remember the word banana.")
            await fake.expire()  # error session_expired + close 1001
            assert (await col.next(ServerError)).code == "session_expired"
            reconnected = await col.next(Reconnected)
            assert reconnected.replayed_turns == 2
            await fake.wait_for("conversation.item.create", conn=1, count=2)
            assert [(r, t) for c, r, t in fake.history if c == 1] == [
                ("user", "Remember the word banana."),
                ("assistant", fake.reply),
            ]
            assert rs.connected

    run(main())


def test_renew_swaps_connections_without_losing_events() -> None:
    async def main() -> None:
        fake_kw = {"reply_audio_ms": 1500, "chunk_delay_s": 0.03}
        async with openai_via_proxy(fake_kw) as (fake, _proxy, rs, col, _rec):
            await col.next(SessionReady)
            await one_turn(fake, col, "First question")
            # A reply is streaming when the renewal starts: renew() waits for it to finish.
            await fake.user_turn("Second question")
            await col.until(lambda e: len(col.of(ResponseStarted)) >= 2)
            assert await rs.renew()
            reconnected = await col.next(Reconnected)
            assert reconnected.renewed and reconnected.replayed_turns == 4
            replies = [e for e in col.of(ResponseDone) if e.status == "completed"]
            assert len(replies) == 2
            audio = [e for e in col.of(AudioDelta)]
            assert sum(len(e.pcm) for e in audio) == 2 * 24_000 * 2 * 1500 // 1000
            # The old connection was closed cleanly by us; the app saw no Closed.
            await fake.wait_until(lambda: fake.connections[0].ws.close_code is not None)
            assert fake.connections[0].ws.close_code == 1000
            assert not col.of(Closed)
            assert [(r, t) for c, r, t in fake.history if c == 1][:2] == [
                ("user", "First question"),
                ("assistant", fake.reply),
            ]
            # Commands now go to the new connection.
            await rs.send(AppendAudio(b"\x00\x00" * 2400, 24_000))
            await fake.wait_for("input_audio_buffer.append", conn=1)

    run(main())


def test_renew_after_timer() -> None:
    async def main() -> None:
        async with openai_via_proxy(renew_after_s=0.3) as (fake, _proxy, _rs, col, _rec):
            await col.next(SessionReady)
            first = await col.next(Reconnected)
            assert first.renewed
            await fake.wait_connections(2)
            second = await col.next(Reconnected, timeout=10)  # the timer re-arms
            assert second.renewed

    run(main())


def test_stall_beyond_keepalive_reconnects() -> None:
    async def main() -> None:
        rec = Recorder()
        async with FakeOpenAI(api_key=KEY) as fake, FaultProxy(fake.url) as proxy:
            ep = openai_endpoint.endpoint(KEY, "gpt-realtime", base_url=proxy.http_url + "/v1")
            rs = ReconnectingSession(
                lambda: RealtimeSession(
                    openai.OpenAICore(),
                    ep,
                    recorder=rec,
                    ping_interval_s=0.2,
                    ping_timeout_s=0.3,
                    close_timeout_s=0.3,
                ),
                backoff=Backoff(**FAST, max_attempts=5, rng=random.Random(3)),
            )
            await rs.connect(SessionConfig())
            col = EventCollector(rs)
            await col.next(SessionReady)
            proxy.stall(3.0)
            reconnecting = await col.next(Reconnecting, timeout=10)
            assert "1011" in reconnecting.reason or "1006" in reconnecting.reason
            await col.next(Reconnected, timeout=15)
            await rs.close()
            assert col.events[-1] == Closed(1000, "", by_client=True)

    run(main())


def test_oversized_and_garbage_from_the_network_are_survived() -> None:
    async def main() -> None:
        rec = Recorder()
        async with FakeOpenAI(api_key=KEY) as fake, FaultProxy(fake.url) as proxy:
            ep = openai_endpoint.endpoint(KEY, "gpt-realtime", base_url=proxy.http_url + "/v1")
            rs = ReconnectingSession(
                lambda: RealtimeSession(
                    openai.OpenAICore(), ep, recorder=rec, max_message_bytes=64_000
                ),
                backoff=Backoff(**FAST, max_attempts=5, rng=random.Random(3)),
            )
            await rs.connect(SessionConfig())
            col = EventCollector(rs)
            await col.next(SessionReady)
            await proxy.inject('{"type": "response.output_audio.delta"')  # malformed
            await proxy.inject('{"type": "brand.new.event", "x": 1}')  # unknown: ignored
            await proxy.inject("x" * 100_000)  # oversized: the client closes 1009
            reconnecting = await col.next(Reconnecting)
            assert "1009" in reconnecting.reason
            await col.next(Reconnected)
            names = col.names()
            assert "ProtocolViolation" in names
            await rs.close()

    run(main())


def test_close_during_backoff_ends_promptly() -> None:
    async def main() -> None:
        slow = Backoff(base_s=30.0, max_s=30.0, max_attempts=3, rng=random.Random(5))
        async with openai_via_proxy(backoff=slow) as (_fake, proxy, rs, col, _rec):
            await col.next(SessionReady)
            proxy.drop_now()
            reconnecting = await col.next(Reconnecting)
            assert reconnecting.delay_s > 0.0
            await rs.close()
            await col.finished(timeout=5)
            assert col.events[-1] == Closed(1000, "closed by client", by_client=True)

    run(main())


def test_commands_while_reconnecting_text_kept_audio_dropped() -> None:
    async def main() -> None:
        slow = Backoff(base_s=0.5, max_s=0.5, max_attempts=3, rng=random.Random(11))
        async with openai_via_proxy(backoff=slow) as (fake, proxy, rs, col, _rec):
            await col.next(SessionReady)
            proxy.drop_now()
            await col.next(Reconnecting)
            await rs.send(AppendAudio(b"\x00\x00" * 2400, 24_000))  # stale: dropped
            await rs.send(SendText("Typed while offline"))  # kept: sent after reconnecting
            await col.next(Reconnected)
            msg = await fake.wait_for("conversation.item.create", conn=1)
            assert msg["item"]["content"][0]["text"] == "Typed while offline"
            await fake.wait_for("response.create", conn=1)
            assert rs.dropped_commands == 1
            await col.until(lambda e: isinstance(e, ResponseDone))

    run(main())


def test_server_closing_normally_is_not_retried() -> None:
    async def main() -> None:
        async with openai_via_proxy() as (fake, _proxy, _rs, col, _rec):
            await col.next(SessionReady)
            await fake.close(1000, "bye")
            await col.finished()
            assert not col.of(Reconnecting)
            assert col.events[-1] == Closed(1000, "bye", by_client=False)

    run(main())


# --------------------------------------------------------------------------- Gemini


@asynccontextmanager
async def gemini_via_proxy(
    fake_kw: dict[str, Any] | None = None, **rs_kw: Any
) -> AsyncIterator[tuple[FakeGemini, FaultProxy, ReconnectingSession, EventCollector]]:
    async with (
        FakeGemini(api_key=KEY, **(fake_kw or {})) as fake,
        FaultProxy(fake.url) as proxy,
    ):
        ep = gemini_endpoint.endpoint(KEY, base_url=proxy.http_url)
        rs_kw.setdefault("backoff", Backoff(**FAST, max_attempts=5, rng=random.Random(9)))
        rs = ReconnectingSession(lambda: RealtimeSession(gemini.GeminiCore(), ep), **rs_kw)
        await rs.connect(SessionConfig())
        col = EventCollector(rs)
        try:
            yield fake, proxy, rs, col
        finally:
            await rs.close()
        assert fake.client_errors == []
        assert fake.fake_errors == []


def test_gemini_go_away_resumes_with_the_latest_handle() -> None:
    async def main() -> None:
        async with gemini_via_proxy() as (fake, _proxy, rs, col):
            await col.next(SessionReady)
            await fake.user_turn("Remember the word banana.")
            await col.next(TurnComplete)
            handle = await col.next(ResumptionHandle)
            assert rs.resumption_handle == handle.handle
            await fake.go_away("10s")
            reconnected = await col.next(Reconnected)
            assert reconnected.resumed and reconnected.renewed
            assert reconnected.replayed_turns == 0
            second = await fake.wait_connections(2)
            assert second.state["resumed_with"] == handle.handle
            # The resumed server has the conversation; nothing was replayed by the client.
            assert second.state["conversation"][0] == ("user", "Remember the word banana.")
            assert not [m for m in second.received if "clientContent" in m]
            await fake.user_turn("What was the word?", conn=second)
            await col.next(TurnComplete)
            assert rs.connections == 2 and not col.of(Closed)

    run(main())


def test_gemini_drop_resumes_with_handle() -> None:
    async def main() -> None:
        async with gemini_via_proxy() as (fake, proxy, _rs, col):
            await col.next(SessionReady)
            await fake.user_turn("First")
            handle = await col.next(ResumptionHandle)
            await proxy.close_with(1011, "Internal error occurred.")
            reconnected = await col.next(Reconnected)
            assert reconnected.resumed and not reconnected.renewed
            second = await fake.wait_connections(2)
            assert second.state["resumed_with"] == handle.handle

    run(main())


def test_gemini_refused_handle_falls_back_to_context() -> None:
    async def main() -> None:
        async with gemini_via_proxy() as (fake, proxy, _rs, col):
            await col.next(SessionReady)
            await fake.user_turn("Remember the word banana.")
            await col.next(ResumptionHandle)
            fake.handles.clear()  # the server forgot the handle (expired)
            proxy.drop_now()
            reconnected = await col.next(Reconnected, timeout=15)
            assert not reconnected.resumed and reconnected.replayed_turns == 2
            third = await fake.wait_connections(3)
            assert third.state["resumed_with"] is None
            await fake.wait_until(lambda: len(third.state["conversation"]) >= 2)
            assert third.state["conversation"][:2] == [
                ("user", "Remember the word banana."),
                ("model", fake.reply_text),
            ]

    run(main())


def test_initial_errors_are_raised_not_retried() -> None:
    async def main() -> None:
        async with FakeOpenAI(api_key=KEY) as fake:
            ep = openai_endpoint.endpoint("sk-bad-key-xyz", "gpt-realtime", base_url=fake.base_url)
            rs = ReconnectingSession(lambda: RealtimeSession(openai.OpenAICore(), ep))
            with pytest.raises(NotConnectedError):
                await rs.send(SendText("too early"))
            with pytest.raises(KeyRejectedError):
                await rs.connect(SessionConfig())
            assert fake.rejected == [401]

    run(main())


# --------------------------------------------------------------------------- offline server


@pytest.mark.models
@pytest.mark.timeout(400)
def test_offline_server_session_cap_is_renewed_with_context() -> None:
    """The real offline server ending sessions after 8 s (like OpenAI's 60 min cap): the
    conversation carries on over a new connection with the earlier turns replayed."""
    from tests.realtime.local.conftest import start_server

    server = start_server("--session-max-s", "8")
    try:

        async def main() -> None:
            ep = openai_endpoint.endpoint(server.token, "gpt-realtime", base_url=server.base_url)
            rs = ReconnectingSession(
                lambda: RealtimeSession(openai.OpenAICore(), ep),
                backoff=Backoff(**FAST, max_attempts=5, rng=random.Random(2)),
            )
            await rs.connect(SessionConfig(output_modalities=("text",)))
            col = EventCollector(rs)
            await col.next(SessionReady, timeout=30)
            await rs.send(SendText("Please remember the word banana."))
            first = await col.until(lambda e: isinstance(e, ResponseDone), timeout=120)
            assert first.status == "completed"
            expired = await col.until(
                lambda e: isinstance(e, ServerError) and e.code == "session_expired", timeout=30
            )
            assert expired.code == "session_expired"
            reconnected = await col.next(Reconnected, timeout=30)
            assert reconnected.replayed_turns == 2  # the question and the answer
            await rs.send(SendText("Which word did I ask you to remember?"))
            await col.until(lambda e: isinstance(e, ResponseDone) and e is not first, timeout=120)
            assert not col.of(Closed)
            await rs.close()

        run(main(), timeout=300)
    finally:
        assert server.stop() == 0


# --------------------------------------------------------------------------- more network faults


@pytest.mark.parametrize("code", [1001, 1006, 1011])
def test_proxy_close_codes_are_recovered(code: int) -> None:
    async def main() -> None:
        async with openai_via_proxy() as (fake, proxy, rs, col, _rec):
            await col.next(SessionReady)
            await proxy.close_with(code, "" if code == 1006 else "fault")
            reconnecting = await col.next(Reconnecting)
            assert f"code {code}" in reconnecting.reason
            await col.next(Reconnected)
            await fake.user_turn("Still there?", conn=await fake.wait_connections(2))
            await col.until(lambda e: isinstance(e, ResponseDone))
            assert rs.connected and not col.of(Closed)

    run(main())


def test_whole_turn_through_latency_jitter_and_throttle() -> None:
    async def main() -> None:
        fake_kw = {"reply_audio_ms": 1000}
        async with openai_via_proxy(fake_kw) as (fake, proxy, _rs, col, _rec):
            await col.next(SessionReady)
            proxy.set_latency(30, 20)
            proxy.throttle(200_000)
            await fake.user_turn("Slow network?")
            done = await col.until(lambda e: isinstance(e, ResponseDone), timeout=20)
            assert done.status == "completed"
            audio = b"".join(e.pcm for e in col.of(AudioDelta))
            assert audio == b"".join(
                base64.b64decode(json.loads(m)["delta"])
                for m in fake.current.sent
                if '"response.output_audio.delta"' in str(m)
            )
            assert len(audio) == 24_000 * 2  # 1 s, intact and in order
            assert not col.of(Reconnecting)

    run(main())


def test_failed_renewal_keeps_the_old_connection_and_retries() -> None:
    async def main() -> None:
        async with openai_via_proxy(renew_after_s=0.3) as (fake, proxy, rs, col, _rec):
            await col.next(SessionReady)
            proxy.reject_upgrades(503)
            failed = await col.until(lambda e: isinstance(e, ServerError))
            assert failed.code == "renewal_failed" and not failed.fatal
            assert "503" in failed.message
            assert rs.connected  # the old connection carries on
            await fake.user_turn("Still fine?", conn=fake.connections[0])
            await col.until(lambda e: isinstance(e, ResponseDone))
            proxy.reject_upgrades(None)
            renewed = await col.next(Reconnected, timeout=10)
            assert renewed.renewed and renewed.replayed_turns == 2

    run(main())
