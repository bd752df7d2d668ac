"""Provider-neutral commands and events: the contract between the app and every protocol core.

Commands are local intents the app hands to a core's ``send()``; events are what a core's
``events()`` yields after ``receive()``. Both are frozen dataclasses holding only immutable
values (``bytes``, ``str``, numbers, tuples), so they may cross threads freely.

Units are in the names: ``_ms`` milliseconds, ``_hz`` samples per second. Audio is always
PCM16 little-endian mono ``bytes``; its rate travels with it.

This module is pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from realtime.session_setup import SessionConfig as SessionConfig
from realtime.session_setup import TurnDetection as TurnDetection
from realtime.session_setup import TurnDetectionMode as TurnDetectionMode

# --------------------------------------------------------------------------- configuration
# (in realtime/session_setup.py; re-exported here)

# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class AppendAudio:
    """Microphone audio: PCM16 mono at ``rate_hz`` (24 kHz for OpenAI, 16 kHz for Gemini)."""

    pcm: bytes
    rate_hz: int


@dataclass(frozen=True)
class AppendImage:
    """One camera/screen frame as JPEG bytes. ``detail`` is OpenAI's hint (auto/low/high)."""

    jpeg: bytes
    detail: Literal["auto", "low", "high"] = "auto"


@dataclass(frozen=True)
class SendText:
    """A typed user message. ``respond=True`` also asks for a response."""

    text: str
    respond: bool = True


@dataclass(frozen=True)
class AddHistoryItem:
    """Seed the conversation with an earlier turn (context carried over to a new session)."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class CommitInput:
    """Close the user's audio turn (push-to-talk). The OpenAI core refuses < 100 ms locally."""


@dataclass(frozen=True)
class ClearInput:
    """Drop audio appended but not yet committed."""


@dataclass(frozen=True)
class CreateResponse:
    """Ask the model to answer now (push-to-talk, text input)."""

    instructions: str | None = None


@dataclass(frozen=True)
class CancelResponse:
    """Stop the response being generated (barge-in). A no-op if none is in progress."""


@dataclass(frozen=True)
class Truncate:
    """Trim an assistant audio item to what the user actually heard (barge-in).

    The core clamps ``played_ms`` to the audio it received for ``item_id`` and never sends 0 ms.
    """

    item_id: str
    played_ms: int


@dataclass(frozen=True)
class UpdateSession:
    config: SessionConfig


@dataclass(frozen=True)
class ActivityStart:
    """Push-to-talk pressed (Gemini manual activity; OpenAI: clears the input buffer)."""


@dataclass(frozen=True)
class ActivityEnd:
    """Push-to-talk released (Gemini manual activity; OpenAI: commit + response.create)."""


@dataclass(frozen=True)
class AudioStreamEnd:
    """The microphone stream paused (mute, device lost). Gemini flushes its detector."""


Command = (
    AppendAudio
    | AppendImage
    | SendText
    | AddHistoryItem
    | CommitInput
    | ClearInput
    | CreateResponse
    | CancelResponse
    | Truncate
    | UpdateSession
    | ActivityStart
    | ActivityEnd
    | AudioStreamEnd
)


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Usage:
    """Token counts of one response, in the providers' own units (tokens)."""

    input_tokens: int = 0
    output_tokens: int = 0
    input_text_tokens: int = 0
    input_audio_tokens: int = 0
    input_image_tokens: int = 0
    input_cached_tokens: int = 0
    output_text_tokens: int = 0
    output_audio_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class SessionReady:
    session_id: str = ""
    model: str = ""


@dataclass(frozen=True)
class SessionUpdated:
    pass


@dataclass(frozen=True)
class SpeechStarted:
    """The provider's detector heard the user start. ``audio_start_ms`` is in the input stream."""

    audio_start_ms: int = 0
    item_id: str = ""


@dataclass(frozen=True)
class SpeechStopped:
    audio_end_ms: int = 0
    item_id: str = ""


@dataclass(frozen=True)
class InputCommitted:
    item_id: str = ""


@dataclass(frozen=True)
class InputTranscript:
    """What the user said. ``final=False`` is a partial (delta text), ``final=True`` the whole."""

    text: str
    final: bool
    item_id: str = ""


@dataclass(frozen=True)
class ResponseStarted:
    response_id: str = ""


@dataclass(frozen=True)
class AudioDelta:
    """Reply audio: PCM16 mono at ``rate_hz`` belonging to assistant item ``item_id``."""

    item_id: str
    pcm: bytes
    rate_hz: int


@dataclass(frozen=True)
class AudioDone:
    item_id: str = ""


@dataclass(frozen=True)
class TranscriptDelta:
    """Assistant speech/text as it streams (audio transcript or text output)."""

    item_id: str
    text: str


@dataclass(frozen=True)
class TranscriptDone:
    item_id: str
    text: str


@dataclass(frozen=True)
class ResponseDone:
    """A response ended. ``status`` is completed / cancelled / incomplete / failed."""

    response_id: str = ""
    status: str = "completed"
    usage: Usage | None = None


@dataclass(frozen=True)
class ItemTruncated:
    item_id: str
    audio_end_ms: int


@dataclass(frozen=True)
class Interrupted:
    """The provider says the user interrupted: drop queued playback now (Gemini)."""


@dataclass(frozen=True)
class TurnComplete:
    """The model finished its turn (Gemini turnComplete)."""


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    arguments_json: str


@dataclass(frozen=True)
class ServerError:
    """An error the provider reported. ``client_event`` is the type of the message it refers to."""

    message: str
    code: str = ""
    error_type: str = ""
    client_event: str = ""
    fatal: bool = False


@dataclass(frozen=True)
class ProtocolViolation:
    """Server input the core could not understand; the session keeps going."""

    reason: str
    raw_excerpt: str = ""


@dataclass(frozen=True)
class CommandRefused:
    """A command the core refused locally (e.g. commit with < 100 ms of audio)."""

    command: str
    reason: str


@dataclass(frozen=True)
class GoAway:
    """The server will close soon; ``time_left_ms`` until it does."""

    time_left_ms: int


@dataclass(frozen=True)
class ResumptionHandle:
    handle: str
    resumable: bool = True


@dataclass(frozen=True)
class Closed:
    """The connection ended. ``code`` is the WebSocket close code (1006 abnormal)."""

    code: int
    reason: str = ""
    by_client: bool = False


@dataclass(frozen=True)
class Reconnecting:
    """The connection was lost (or is being renewed); attempt ``attempt`` starts in ``delay_s``.

    Emitted by ``realtime.reconnect.ReconnectingSession``, never by a core.
    """

    attempt: int
    delay_s: float
    reason: str = ""


@dataclass(frozen=True)
class Reconnected:
    """A new connection carries the conversation on (``ReconnectingSession`` only).

    ``resumed``: Gemini session resumption with a handle; ``replayed_turns``: earlier turns sent
    as context (OpenAI); ``renewed``: a planned switch (session cap, goAway), not a failure.
    """

    attempt: int = 0
    resumed: bool = False
    replayed_turns: int = 0
    renewed: bool = False


Event = (
    SessionReady
    | SessionUpdated
    | SpeechStarted
    | SpeechStopped
    | InputCommitted
    | InputTranscript
    | ResponseStarted
    | AudioDelta
    | AudioDone
    | TranscriptDelta
    | TranscriptDone
    | ResponseDone
    | ItemTruncated
    | Interrupted
    | TurnComplete
    | ToolCall
    | ServerError
    | ProtocolViolation
    | CommandRefused
    | GoAway
    | ResumptionHandle
    | Closed
    | Reconnecting
    | Reconnected
)
