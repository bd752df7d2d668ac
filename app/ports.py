"""The small surfaces the assistant needs from audio, video, the realtime session and recorder.

The assistant is written against these Protocols so it can be driven by fakes in tests and by the
real modules in the app (``audio.engine.AudioEngine``, ``video.source.FrameSource`` sources,
``realtime.session.RealtimeSession``, ``realtime.recording`` ``SessionRecorder``).

Audio events are matched by class name (``MicAudio``, ``VoiceStarted``, ``VoiceStopped``,
``AudioDeviceError``, ``DeviceRecovered``) and their documented fields, so the assistant does not
depend on where the audio package defines them; ``audio_event_kind()`` is that one rule.

Threads: every method here is called from the assistant's engine thread only, except
``FrameSourcePort`` (thread-safe by its own contract).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Literal, Protocol, runtime_checkable

from realtime.events import Command, Event, SessionConfig

AUDIO_EVENT_KINDS = frozenset(
    {"MicAudio", "VoiceStarted", "VoiceStopped", "AudioDeviceError", "DeviceRecovered"}
)


def audio_event_kind(event: object) -> str:
    """``"MicAudio"``/``"VoiceStarted"``/… for an audio event, ``""`` for anything else."""
    name = type(event).__name__
    return name if name in AUDIO_EVENT_KINDS else ""


class MicAudioLike(Protocol):
    """Captured microphone audio after echo cancellation: 16 kHz for VAD/recording and the same
    audio at the provider's send rate."""

    pcm16_16k: bytes
    pcm16_send: bytes
    send_rate_hz: int
    t_ns: int


@runtime_checkable
class AudioPort(Protocol):
    """Microphone + speaker (the audio engine facade, or a file-backed stand-in)."""

    def start(self) -> None: ...
    def stop(self) -> None: ...

    def process(self) -> list[Any]:
        """Drain captured audio; returns MicAudio / VoiceStarted / VoiceStopped /
        AudioDeviceError / DeviceRecovered in capture order. Called every ~10 ms."""
        ...

    def play(self, item_id: str, pcm16: bytes, rate_hz: int) -> None: ...
    def clear_playback(self) -> None: ...
    def played_ms(self, item_id: str) -> int: ...
    def first_audible_ns(self, item_id: str) -> int | None: ...

    @property
    def is_playing(self) -> bool: ...

    def meters(self) -> Any: ...
    def set_send_rate(self, hz: int) -> None: ...


@runtime_checkable
class FrameSourcePort(Protocol):
    """A camera/file/screen source (``video.source.FrameSource``): thread-safe."""

    @property
    def name(self) -> str: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def latest(self) -> Any: ...
    def errors(self) -> list[Any]: ...


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


class RecorderPort(Protocol):
    """What the assistant records besides the wire (the recording package's SessionRecorder).

    Optional methods are looked up with ``getattr`` so a recorder may implement a subset; none of
    them may raise (the recorder reports its own errors).
    """

    def on_wire(
        self, direction: Literal["in", "out"], message: str | bytes, t_mono_ns: int
    ) -> None: ...


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

    def make_session(self, recorder: WireRecorderPort | None) -> SessionPort: ...
