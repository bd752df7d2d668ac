"""The small surfaces the assistant needs from audio, video, the realtime session and recorder.

The assistant is written against these Protocols so it can be driven by fakes in tests and by the
real modules in the app (``audio.engine.AudioEngine`` or ``app.file_audio.FileAudio``,
``video.source.FrameSource`` sources, ``realtime.session.RealtimeSession``,
``realtime.recording.writer.SessionRecorder``). Every method is typed: audio events are the
``audio.events`` classes (dispatched with ``isinstance``), recorder methods take one argument
order (payload, then its rate/position, then the time ``t_ns`` last).

Threads: every method here is called from the assistant's engine thread only, except
``FrameSourcePort`` (thread-safe by its own contract).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable

from audio.config import TalkMode
from audio.events import AudioEvent
from audio.meters import Meters
from realtime.context_log import HistorySource
from realtime.events import Command, Event, SessionConfig, Usage
from video.frame import Frame

#: Offline-model loading progress: (step, total, what); ``what="ready"`` at the end.
ProgressCallback = Callable[[int, int, str], None]


@runtime_checkable
class AudioPort(Protocol):
    """Microphone + speaker (the audio engine facade, or a file-backed stand-in)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...

    def process(self) -> Sequence[AudioEvent]:
        """Drain captured audio; returns ``audio.events`` values in capture order. Called
        every ~10 ms tick, or at the port's ``PacedAudio.process_period_ms``."""
        ...

    def play(self, item_id: str, pcm16: bytes, rate_hz: int) -> None: ...
    def end_item(self, item_id: str) -> None: ...
    def clear_playback(self) -> None: ...
    def played_ms(self, item_id: str) -> int: ...
    def first_audible_ns(self, item_id: str) -> int | None: ...

    @property
    def is_playing(self) -> bool: ...

    def meters(self) -> Meters: ...
    def set_send_rate(self, hz: int) -> None: ...
    def set_mode(self, mode: TalkMode) -> None:
        """The talk gate and local barge-in follow the conversation's mode."""
        ...

    def talk_press(self) -> None: ...
    def talk_release(self) -> None: ...


@runtime_checkable
class PacedAudio(Protocol):
    """An ``AudioPort`` that says how often ``process()`` must run (``audio.engine.AudioEngine``:
    every 10 ms while a reply plays, every 20 ms while only listening). Ports without it are
    processed every tick."""

    @property
    def process_period_ms(self) -> int: ...


@runtime_checkable
class WaitsForSession(Protocol):
    """An input that starts only once the session is ready (``app.file_audio.FileAudio``: a
    slow connect must not swallow the beginning of the question)."""

    def on_session_ready(self) -> None: ...


@runtime_checkable
class FrameSourcePort(Protocol):
    """A camera/file/screen source (``video.source.FrameSource``): thread-safe."""

    @property
    def name(self) -> str: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def latest(self) -> Frame | None: ...
    def errors(self) -> Sequence[Exception]: ...


@runtime_checkable
class SessionPort(Protocol):
    """One realtime connection (``realtime.session.RealtimeSession``)."""

    async def connect(self, config: SessionConfig) -> None: ...
    async def send(self, cmd: Command) -> None: ...
    def events(self) -> AsyncIterator[Event]: ...
    async def close(self) -> None: ...


class WireRecorderPort(Protocol):
    def on_wire(
        self, direction: Literal["in", "out"], message: str | bytes, t_mono_ns: int
    ) -> None: ...


#: Builds a fresh, unconnected session; the argument is the recorder's wire hook (or None).
SessionFactory = Callable[[WireRecorderPort | None], SessionPort]


class RecorderPort(WireRecorderPort, Protocol):
    """What the assistant records (``realtime.recording.writer.SessionRecorder``).

    One argument order everywhere: what, then its rate/position, then ``t_ns`` (monotonic ns)
    last. None of them may raise (the recorder reports its own errors). The recorder derives
    nothing: turns, latency and usage come from the conversation core's one turn model
    (``app.effects.Record…``, performed by ``app.recording.perform_record``).
    """

    def record_mic(self, pcm16: bytes, rate_hz: int, t_ns: int) -> None: ...
    def record_playback(
        self, item_id: str, pcm16: bytes, rate_hz: int, position_ms: int, t_ns: int
    ) -> None:
        """Reply audio as played: ``position_ms`` into the item, first sample heard at ``t_ns``."""
        ...

    def record_reply(
        self, item_id: str, pcm16: bytes, rate_hz: int, position_ms: int, t_ns: int
    ) -> None:
        """Reply audio as received (when nothing reports what was played)."""
        ...

    def record_frame(self, jpeg: bytes, t_ns: int, sent: bool, reason: str = "") -> None: ...
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
        """One finished turn of the conversation core's transcript (``app.core_record``)."""
        ...

    def record_latency(self, item_id: str, metric: str, value_ms: float, t_ns: int) -> None: ...
    def record_usage(
        self, usage: Usage, t_ns: int, *, response_id: str = "", cost_usd: float | None = None
    ) -> None: ...
    def record_mark(self, kind: str, detail: str, t_ns: int) -> None: ...


class RecordingPort(RecorderPort, Protocol):
    """A recorder the user controls (the window's record switch): its file, pause, close."""

    @property
    def path(self) -> Path | None: ...
    def set_enabled(self, enabled: bool) -> None: ...
    def close(self, timeout_s: float = 10.0) -> object: ...


class ConnectSpec(Protocol):
    """A resolved backend (see ``app.backends.Backend``): how to open sessions to it."""

    #: Backend name shown to people: "openai", "gemini", "local", or the ws:// URL.
    name: str
    #: Protocol family, which decides barge-in handling: "openai" (cancel + truncate) or
    #: "gemini" (stop playing; the server reports ``interrupted``).
    provider: str
    model: str
    voice: str
    input_rate_hz: int
    #: True when using it costs nothing (offline server).
    free: bool
    #: Hard session length cap in seconds (OpenAI: 3600), or None.
    session_cap_s: float | None

    def make_session(
        self, recorder: WireRecorderPort | None, context: HistorySource | None = None
    ) -> SessionPort:
        """A fresh, unconnected session; ``context``: what a reconnect replays (the
        conversation's transcript), else the session derives it from the events."""
        ...

    def prepare(self, on_progress: ProgressCallback | None = None) -> None:
        """Blocking, before the first connect (starts the offline server); run off the loop."""
        ...

    def recent_crash(self) -> str:
        """Why the backend's server process died recently (offline server), else ``""``."""
        ...
