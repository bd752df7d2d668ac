"""Network faults between the real assistant and a server, through the fault proxy.

Chain: ``app.assistant.Assistant`` (engine thread, real ``Conversation``, real reconnecting
session from ``app.backends.resolve``) → ``tests.fixtures.fault_proxy.FaultProxy`` → the scripted
``FakeOpenAI`` provider. Audio is ``app.file_audio.FileAudio`` (simulated speaker, real-time
playback) wrapped in a probe that counts how often the engine services it; a real
``SessionRecorder`` records into a temp folder.

For every fault: no crash (no exception reaches the engine loop, the assistant keeps running),
the states shown are true (reconnecting then listening, or an error with a reason), the audio
port keeps being serviced during the fault (playback never blocks), the conversation resumes (a
second turn is answered, with the first turn carried over as context after a reconnect) and the
recording holds the turns from before and after the fault.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.model import NoticeChanged, StateChanged
from app.state import ConversationState as S
from tests.fixtures.fault_proxy import FaultProxy
from tests.reliability.helpers import FakeThread, wait_until

KEY = "sk-test-reliability-0123456789"


class ProbeAudio:
    """``FileAudio`` (no mic file) recording when the engine calls ``process()``/``play()``."""

    def __init__(self) -> None:
        from app.file_audio import FileAudio

        self.inner = FileAudio(None, None, send_rate_hz=24000)
        self.process_times: list[float] = []
        self.play_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def process(self) -> list[Any]:
        self.process_times.append(time.monotonic())
        return self.inner.process()

    def play(self, item_id: str, pcm16: bytes, rate_hz: int) -> None:
        self.play_calls += 1
        self.inner.play(item_id, pcm16, rate_hz)

    @property
    def is_playing(self) -> bool:
        return bool(self.inner.is_playing)

    def serviced_between(self, t0: float, t1: float) -> int:
        return sum(1 for t in self.process_times if t0 <= t <= t1)


@dataclass
class Rig:
    fake: FakeThread
    proxy: FaultProxy
    assistant: Any
    audio: ProbeAudio
    recorder: Any
    record_dir: Path
    states: list[tuple[S, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    expect_running: bool = True

    def __call__(self, event: object) -> None:
        """An ``Assistant.subscribe`` listener: the typed model events it watches."""
        if isinstance(event, StateChanged):
            self.on_state(event.state, event.message)
        elif isinstance(event, NoticeChanged):
            self.on_notice(event.message)

    def on_state(self, state: S, message: str) -> None:
        self.states.append((state, message))

    def on_notice(self, message: str) -> None:
        self.notices.append(message)

    def proxy_call(self, fn: Any, *args: Any) -> Any:
        return self.fake.call(fn, *args)

    def on_proxy(self, fn: Any, *args: Any) -> None:
        """Run a plain (sync) proxy method on its loop thread."""

        async def run() -> None:
            fn(*args)

        self.fake.call(run)

    def completed(self) -> int:
        return int(self.assistant.snapshot().completed_turns)

    def turn(self, text: str, timeout: float = 30) -> None:
        n = self.completed()
        self.assistant.send_text(text)
        snap = self.assistant.wait_for(
            lambda s: s.completed_turns > n and s.state == S.LISTENING, timeout
        )
        assert snap is not None, f"no reply to {text!r}; states {self.states[-8:]}"

    def saw(self, *states: S) -> bool:
        seq = [s for s, _ in self.states]
        i = 0
        for s in seq:
            if i < len(states) and s == states[i]:
                i += 1
        return i == len(states)


@pytest.fixture
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    """The assistant behind a fault proxy. Indirect parameter: the reconnect attempts allowed
    (default: the backend's own)."""
    from dataclasses import replace

    from app.assistant import Assistant
    from app.backends import resolve
    from app.modes import ConversationOptions
    from realtime.recording.writer import SessionRecorder

    fake = FakeThread(KEY, chunk_delay_s=0.03, reply_audio_ms=600)
    proxy = FaultProxy(f"ws://127.0.0.1:{fake.fake.port}")
    fake.call(proxy.__aenter__)
    old = os.environ.get("VOICECAM_BACKEND_TOKEN")
    os.environ["VOICECAM_BACKEND_TOKEN"] = KEY
    try:
        spec = resolve(f"ws://127.0.0.1:{proxy.port}/v1/realtime", reconnect=True)
    finally:
        if old is None:
            os.environ.pop("VOICECAM_BACKEND_TOKEN", None)
        else:
            os.environ["VOICECAM_BACKEND_TOKEN"] = old
    attempts = getattr(request, "param", None)
    if attempts is not None:
        spec = replace(spec, max_reconnect_attempts=attempts)
    audio = ProbeAudio()
    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    recorder = SessionRecorder(directory=rec_dir, metadata={"backend": "fake"})
    assistant = Assistant(spec, audio, None, ConversationOptions(), recorder=recorder)
    r = Rig(fake, proxy, assistant, audio, recorder, rec_dir)
    assistant.subscribe(r)
    loop_errors: list[Any] = []
    assistant.start()
    eng = assistant._loop  # the engine loop: exceptions reaching it are crashes
    if eng is not None:
        eng.call_soon_threadsafe(eng.set_exception_handler, lambda lp, ctx: loop_errors.append(ctx))
    assert assistant.wait_for(lambda s: s.state == S.LISTENING, 20), r.states
    yield r
    running = assistant.running()
    assistant.close()
    recorder.close()
    fake.call(proxy.__aexit__, None, None, None)
    fake.close()
    assert running or not r.expect_running, f"the conversation ended; states {r.states[-8:]}"
    assert not loop_errors, loop_errors
    assert not fake.fake.fake_errors, fake.fake.fake_errors
    assert not fake.fake.client_errors, fake.fake.client_errors


def _recorded_texts(rig: Rig) -> list[tuple[str, str]]:
    from realtime.recording.reader import SessionFile

    rig.recorder.close()
    files = [p for p in rig.record_dir.iterdir() if p.is_file() and "-" not in p.suffix]
    assert files, list(rig.record_dir.iterdir())
    with SessionFile(files[0]) as sf:
        return [(t.role, t.text) for t in sf.turns()]


def _reply_started(rig: Rig) -> None:
    wait_until(lambda: rig.audio.play_calls > 0, 20, "reply audio")


def _resumed_with_context(rig: Rig, first: str) -> None:
    """After a reconnect: listening again, a new turn answered, the first turn replayed."""
    assert rig.assistant.wait_for(lambda s: s.state == S.LISTENING, 30), rig.states[-10:]
    n_conn = len(rig.fake.fake.connections)
    assert n_conn >= 2, "no reconnect happened"
    rig.turn("And now?")
    new = rig.fake.fake.connections[-1]
    replayed = [
        m for m in new.received if m["type"] == "conversation.item.create" and first in str(m)
    ]
    assert replayed, f"the first turn was not carried over: {new.types()}"


CLOSE_CODES = [1001, 1006, 1011]


@pytest.mark.parametrize("code", CLOSE_CODES)
def test_close_mid_reply_reconnects_and_resumes(rig: Rig, code: int) -> None:
    rig.fake.fake.chunk_delay_s = 0.2  # the reply is still streaming when the close comes
    first = "Tell me about the desk."
    rig.assistant.send_text(first)
    _reply_started(rig)
    t0 = time.monotonic()
    rig.fake.call(rig.proxy.close_with, code)
    rig.fake.fake.chunk_delay_s = 0.03
    assert rig.assistant.wait_for(lambda s: s.state == S.RECONNECTING, 10), rig.states[-8:]
    _resumed_with_context(rig, first)
    assert rig.saw(S.RECONNECTING, S.LISTENING)
    assert rig.audio.serviced_between(t0, time.monotonic()) > 10  # playback never blocked
    texts = _recorded_texts(rig)
    assert any(first in t for _, t in texts), texts
    assert any(t == "And now?" for _, t in texts), texts


def test_drop_mid_reply_reconnects_and_resumes(rig: Rig) -> None:
    rig.fake.fake.chunk_delay_s = 0.1
    first = "What is on my desk?"
    rig.on_proxy(rig.proxy.drop_after, 3)
    rig.assistant.send_text(first)
    assert rig.assistant.wait_for(lambda s: s.state == S.RECONNECTING, 20), rig.states[-8:]
    rig.fake.fake.chunk_delay_s = 0.03
    _resumed_with_context(rig, first)
    texts = _recorded_texts(rig)
    assert any(t == "And now?" for _, t in texts), texts


def test_stall_mid_reply_keeps_playback_serviced_and_finishes(rig: Rig) -> None:
    rig.fake.fake.chunk_delay_s = 0.05
    rig.assistant.send_text("Tell me a story.")
    _reply_started(rig)
    t0 = time.monotonic()
    rig.on_proxy(rig.proxy.stall, 3.0)
    n0 = rig.completed()
    snap = rig.assistant.wait_for(lambda s: s.completed_turns > n0 and s.state == S.LISTENING, 30)
    t1 = time.monotonic()
    assert snap is not None, rig.states[-8:]
    assert rig.audio.serviced_between(t0, t1) > 20, "the engine stopped servicing audio"
    assert not any(s == S.ERROR for s, _ in rig.states), rig.states
    rig.turn("Still there?")


def test_latency_jitter_and_throttle_still_complete_turns(rig: Rig) -> None:
    rig.on_proxy(rig.proxy.set_latency, 80, 40)
    rig.turn("First question with latency.")
    rig.on_proxy(rig.proxy.throttle, 16_000)
    rig.turn("Second question, throttled.")
    rig.on_proxy(rig.proxy.throttle, None)
    rig.on_proxy(rig.proxy.set_latency, 0, 0)
    assert len(rig.fake.fake.connections) == 1  # nothing broke the connection
    assert not any(s in (S.ERROR, S.RECONNECTING) for s, _ in rig.states), rig.states
    texts = _recorded_texts(rig)
    assert [t for r, t in texts if r == "user"][-2:] == [
        "First question with latency.",
        "Second question, throttled.",
    ], texts


@pytest.mark.parametrize(
    "junk",
    [
        '{"type": "response.output_audio.delta", "delta": ',  # malformed JSON
        '{"type": "totally.unknown.event", "event_id": "x"}',  # unknown type
        '{"type": "response.output_audio.delta"}',  # known type, missing fields
        b"\x00\xff\x00binary garbage",  # binary frame
        "[1, 2, 3]",  # not an object
    ],
)
def test_malformed_or_unknown_messages_do_not_break_the_session(rig: Rig, junk: Any) -> None:
    rig.turn("Before the junk.")
    for _ in range(3):
        rig.fake.call(rig.proxy.inject, junk)
    time.sleep(0.3)
    assert rig.assistant.running()
    rig.turn("After the junk.")
    texts = _recorded_texts(rig)
    assert [t for r, t in texts if r == "user"][-2:] == ["Before the junk.", "After the junk."]


def test_oversized_message_reconnects(rig: Rig) -> None:
    """A message over the session's size cap (16 MiB) closes that connection (1009): the app
    reconnects instead of crashing or buffering it."""
    rig.turn("Before the huge message.")
    big = '{"type": "response.output_audio.delta", "delta": "' + "A" * (17 << 20) + '"}'
    rig.fake.call(rig.proxy.inject, big, timeout=60)
    assert rig.assistant.wait_for(lambda s: s.state == S.RECONNECTING, 20), rig.states[-8:]
    _resumed_with_context(rig, "Before the huge message.")


@pytest.mark.parametrize("rig", [3], indirect=True)
def test_server_unreachable_gives_up_with_a_reason(rig: Rig) -> None:
    """Reconnects are bounded: with upgrades refused, the state ends in ERROR with a reason.
    Three attempts (the backoff's mean wait 1.75 s, not the default six's 15.75 s)."""
    rig.on_proxy(rig.proxy.reject_upgrades, 503)
    rig.fake.call(rig.proxy.close_with, 1011)
    snap = rig.assistant.wait_for(lambda s: s.state in (S.ERROR, S.IDLE), 120)
    assert snap is not None, rig.states[-8:]
    errors = [m for s, m in rig.states if s == S.ERROR]
    assert errors and errors[-1].strip(), rig.states[-8:]
    assert rig.proxy.refused >= 2  # it retried, with backoff, a bounded number of times
    assert rig.proxy.refused <= 3 + 1
    rig.expect_running = False  # the conversation ended by design
