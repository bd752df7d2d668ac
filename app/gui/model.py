"""What the window needs from the assistant: a small, Qt-free contract.

The GUI is thin: widgets observe an :class:`AssistantModel` and call it. The real assistant
(``app.assistant``) is adapted to this protocol in :mod:`app.gui.adapter`; tests use a fake.

Threads: every command method (``connect``, ``send_text`` ...) is called on the GUI thread and
must return at once (the assistant hands the work to its own engine thread). Listener callbacks
(:class:`AssistantListener`) may arrive on ANY thread; :mod:`app.gui.bridge` turns them into
queued Qt signals. The polled getters (``meters()``, ``preview_frame()``) are called from GUI
timers and must be cheap and non-blocking (they return the latest value, nothing more).

Units are in the names: ``_ms`` milliseconds, ``_s`` seconds, ``_db``/``_dbfs`` decibels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol, runtime_checkable


class State(StrEnum):
    """Conversation states the window renders (the assistant's state machine, plus loading)."""

    IDLE = "idle"
    LOADING = "loading"
    CONNECTING = "connecting"
    LISTENING = "listening"
    USER_SPEAKING = "user_speaking"
    THINKING = "thinking"
    SPEAKING = "speaking"
    RECONNECTING = "reconnecting"
    ERROR = "error"


class Mode(StrEnum):
    """Turn-taking modes."""

    HANDS_FREE = "hands_free"
    PUSH_TO_TALK = "push_to_talk"
    TOGGLE = "toggle"
    MUTE = "mute"


@dataclass(frozen=True)
class StateInfo:
    """The current state plus a person-actionable message (errors) or detail text."""

    state: State
    message: str = ""


@dataclass(frozen=True)
class Latency:
    """Client-measured latency waterfall of one turn, all in ms from the end of user speech.

    Any stage may be ``None`` when it was not observed (text turns have no speech end).
    """

    commit_ms: float | None = None
    first_byte_ms: float | None = None
    first_audible_ms: float | None = None

    @property
    def total_ms(self) -> float | None:
        """The headline figure: first audible sample, else first byte."""
        return self.first_audible_ms if self.first_audible_ms is not None else self.first_byte_ms


@dataclass(frozen=True)
class Turn:
    """One transcript turn.

    ``text`` is what was said (user) or what was heard (assistant); ``unheard`` is assistant text
    that was generated but never played (barge-in). ``partial`` while still being transcribed or
    generated. ``turn_id`` is stable across updates of the same turn.
    """

    turn_id: str
    role: Literal["user", "assistant"]
    text: str
    partial: bool = False
    interrupted: bool = False
    unheard: str = ""
    latency: Latency | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None


@dataclass(frozen=True)
class Meters:
    """Latest audio levels. ``erle_db`` is echo return loss enhancement (None: no AEC data)."""

    mic_dbfs: float = -120.0
    speaker_dbfs: float = -120.0
    erle_db: float | None = None
    #: The audio engine's verdict, if it has one: "speakers_ok", "use_headphones",
    #: "converging", "no_playback", "aec_off".
    echo_hint: str | None = None


@dataclass(frozen=True)
class Usage:
    """Session totals. ``cost_usd`` is ``0.0`` for the local backend (free) and ``None`` unknown."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    free: bool = False


@dataclass(frozen=True)
class Loading:
    """Offline model loading progress: ``fraction`` in [0, 1], ``label`` names the stage."""

    fraction: float
    label: str = ""
    done: bool = False


@dataclass(frozen=True)
class Backend:
    """A selectable backend: its models and voices. ``needs_key`` names the env var, if any."""

    name: str
    label: str
    models: tuple[str, ...]
    voices: tuple[str, ...]
    needs_key: str | None = None


@dataclass(frozen=True)
class PreviewFrame:
    """A preview image: BGR ``uint8`` array ``(h, w, 3)`` (numpy), sequence number for dedup."""

    image: Any
    seq: int


@dataclass(frozen=True)
class Snapshot:
    """Everything a freshly built window needs to render at once (no waiting for callbacks)."""

    state: StateInfo = field(default_factory=lambda: StateInfo(State.IDLE))
    mode: Mode = Mode.HANDS_FREE
    turns: tuple[Turn, ...] = ()
    usage: Usage = field(default_factory=Usage)
    time_left_s: float | None = None
    recording: bool = True
    camera_on: bool = False
    screen_on: bool = False
    connected: bool = False


@runtime_checkable
class AssistantListener(Protocol):
    """Discrete changes the assistant reports (any thread). Never called per audio block."""

    def on_state(self, info: StateInfo) -> None: ...
    def on_turn(self, turn: Turn) -> None: ...
    def on_usage(self, usage: Usage) -> None: ...
    def on_time_left(self, seconds: float | None) -> None: ...
    def on_loading(self, loading: Loading) -> None: ...
    def on_frame_sent(self, jpeg: bytes, t_ns: int) -> None: ...
    def on_recording(self, on: bool, path: str | None, error: str | None) -> None: ...
    def on_transcript_reset(self) -> None: ...
    def on_notice(self, message: str) -> None: ...
    def on_camera(self, on: bool) -> None:
        """The camera was switched by the assistant (e.g. on at start per the settings)."""
        ...


@runtime_checkable
class AssistantModel(Protocol):
    """The assistant as the window sees it. Commands return immediately (see module doc)."""

    def backends(self) -> tuple[Backend, ...]: ...
    def snapshot(self) -> Snapshot: ...
    def add_listener(self, listener: AssistantListener) -> None: ...
    def remove_listener(self, listener: AssistantListener) -> None: ...

    # commands (GUI thread, non-blocking)
    def connect(self, backend: str, model: str, voice: str) -> None: ...
    def disconnect(self) -> None: ...
    def set_mode(self, mode: Mode) -> None: ...
    def talk_start(self) -> None: ...
    def talk_end(self) -> None: ...
    def set_camera(self, on: bool) -> None: ...
    def set_screen(self, on: bool) -> None: ...
    def look_at_this(self) -> None: ...
    def send_text(self, text: str) -> None: ...
    def set_recording(self, on: bool) -> None: ...
    def apply_settings(self, settings: Any) -> None:
        """New ``app.config.Settings``; used from the next conversation on (mode at once)."""
        ...

    # polled by GUI timers (cheap, latest value only)
    def meters(self) -> Meters: ...
    def preview_frame(self) -> PreviewFrame | None: ...

    def close(self) -> None: ...
