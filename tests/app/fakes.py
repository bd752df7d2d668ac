"""In-process fakes for assistant tests: an audio port and a session the test scripts."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from audio.events import BargeIn, MicAudio, VoiceStarted, VoiceStopped
from audio.meters import Meters
from realtime.events import Closed, Command, Event, SessionConfig, SessionReady, Usage


class FakeAudio:
    """Audio port: the test queues events; playback position is set by the test (``advance``)."""

    def __init__(self) -> None:
        self.pending: list[Any] = []
        self.calls: list[tuple[str, Any]] = []
        self.queued_ms: dict[str, float] = {}
        self.played: dict[str, int] = {}
        self.first_audible: dict[str, int] = {}
        self.current: str | None = None
        self.send_rate = 0
        self.started = False

    # test side
    def mic(self, ms: int = 20, rate: int = 24000) -> None:
        pcm = b"\x01\x00" * (rate * ms // 1000)
        pcm16 = b"\x01\x00" * (16000 * ms // 1000)
        self.pending.append(MicAudio(pcm16, pcm, rate, time.monotonic_ns()))

    def voice(self, on: bool) -> None:
        self.pending.append((VoiceStarted if on else VoiceStopped)(time.monotonic_ns()))

    def advance(self, item_id: str, ms: int) -> None:
        """Pretend ``ms`` of ``item_id`` reached the speaker."""
        self.played[item_id] = min(
            round(self.queued_ms.get(item_id, 0)), self.played.get(item_id, 0) + ms
        )
        self.first_audible.setdefault(item_id, time.monotonic_ns())

    def engine_barge_in(self) -> None:
        item = self.current
        self.pending.append(VoiceStarted(time.monotonic_ns()))
        self.pending.append(BargeIn(time.monotonic_ns(), item, self.played.get(item or "", 0)))
        self.calls.append(("engine_clear", item))
        self._drop()

    def finish_playback(self) -> None:
        for item, ms in self.queued_ms.items():
            self.played[item] = round(ms)
            self.first_audible.setdefault(item, time.monotonic_ns())
        self.current = None

    def _drop(self) -> None:
        for item in list(self.queued_ms):
            self.queued_ms[item] = self.played.get(item, 0)
        self.current = None

    # port side
    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def process(self) -> list[Any]:
        out, self.pending = self.pending, []
        return out

    def play(self, item_id: str, pcm16: bytes, rate_hz: int) -> None:
        self.calls.append(("play", item_id))
        self.queued_ms[item_id] = self.queued_ms.get(item_id, 0) + len(pcm16) / 2 / rate_hz * 1000
        self.current = item_id

    def clear_playback(self) -> None:
        self.calls.append(("clear", self.current))
        self._drop()

    def played_ms(self, item_id: str) -> int:
        return self.played.get(item_id, 0)

    def first_audible_ns(self, item_id: str) -> int | None:
        return self.first_audible.get(item_id)

    @property
    def is_playing(self) -> bool:
        return any(self.played.get(i, 0) < round(q) for i, q in self.queued_ms.items())

    def meters(self) -> Meters:
        return Meters(mic_dbfs=-30.0)

    def set_send_rate(self, hz: int) -> None:
        self.send_rate = hz

    def end_item(self, item_id: str) -> None:
        self.calls.append(("end_item", item_id))

    def set_mode(self, mode: Any) -> None:
        self.calls.append(("set_mode", mode))

    def talk_press(self) -> None:
        self.calls.append(("talk_press", None))

    def talk_release(self) -> None:
        self.calls.append(("talk_release", None))

    def on_session_ready(self) -> None:
        self.calls.append(("session_ready", None))


class NullRecorder:
    """A ``RecorderPort`` that keeps nothing (subclass it to watch one method)."""

    def on_wire(self, direction: str, message: str | bytes, t_mono_ns: int) -> None:
        pass

    def record_mic(self, pcm16: bytes, rate_hz: int, t_ns: int) -> None:
        pass

    def record_playback(
        self, item_id: str, pcm16: bytes, rate_hz: int, position_ms: int, t_ns: int
    ) -> None:
        pass

    def record_reply(
        self, item_id: str, pcm16: bytes, rate_hz: int, position_ms: int, t_ns: int
    ) -> None:
        pass

    def record_frame(self, jpeg: bytes, t_ns: int, sent: bool, reason: str = "") -> None:
        pass

    def record_turn(
        self,
        role: Literal["user", "assistant"],
        text: str,
        t_ns: int,
        item_id: str = "",
        *,
        t_start_ns: int | None = None,
        t_end_ns: int | None = None,
        source: str = "voice",
        status: str = "completed",
    ) -> None:
        pass

    def record_latency(self, item_id: str, metric: str, value_ms: float, t_ns: int) -> None:
        pass

    def record_usage(
        self, usage: Usage, t_ns: int, *, response_id: str = "", cost_usd: float | None = None
    ) -> None:
        pass

    def record_mark(self, kind: str, detail: str, t_ns: int) -> None:
        pass


class FakeSession:
    """Session port: records every command; the test pushes events with ``emit``."""

    def __init__(self, log: list[Any]) -> None:
        self.log = log
        self.queue: asyncio.Queue[Event] | None = None
        self.config: SessionConfig | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def connect(self, config: SessionConfig) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue()
        self.config = config
        self.queue.put_nowait(SessionReady(session_id="s1", model=config.model))

    async def send(self, cmd: Command) -> None:
        self.log.append(cmd)

    async def events(self) -> AsyncIterator[Event]:
        assert self.queue is not None
        while True:
            ev = await self.queue.get()
            yield ev
            if isinstance(ev, Closed):
                return

    async def close(self) -> None:
        self.log.append("close")
        if self.queue is not None:
            self.queue.put_nowait(Closed(1000, "bye", by_client=True))

    def emit(self, *events: Event) -> None:
        """Thread-safe: push server events from the test thread."""
        assert self.loop is not None and self.queue is not None
        for ev in events:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, ev)


@dataclass
class FakeSpec:
    name: str = "fake"
    provider: str = "openai"
    model: str = "gpt-realtime"
    voice: str = "alloy"
    input_rate_hz: int = 24000
    free: bool = False
    session_cap_s: float | None = 3600.0
    sent: list[Any] = field(default_factory=list)
    sessions: list[FakeSession] = field(default_factory=list)

    def prepare(self, on_progress: Any = None) -> None:
        pass

    def recent_crash(self) -> str:
        return ""

    def make_session(self, recorder: Any, context: Any = None) -> FakeSession:
        s = FakeSession(self.sent)
        self.sessions.append(s)
        return s


class FakeThread:
    """A scripted fake provider (``tests.fakes``) on its own loop thread; ``call(fn, ...)`` runs
    one of its coroutine methods there and returns the result."""

    def __init__(self, fake: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake = fake
        self.call(self.fake.__aenter__)

    def call(self, fn: Any, *args: Any, timeout: float = 30, **kw: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(fn(*args, **kw), self.loop).result(timeout)

    def close(self) -> None:
        self.call(self.fake.__aexit__, None, None, None)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    @property
    def url(self) -> str:
        return str(self.fake.url).split("?")[0]
