"""What goes into ``ConversationCore`` besides audio and provider events, and what comes out.

Inputs (``Intent``): what the user asked for and what the front end observed. Each is a frozen
value; the core is told the time with every input (``handle(input, now_ns)``).

Effects (``Effect``): what the front end must do, in order. Commands to the outside world
(``Send``, ``Play``, ``ClearPlayback`` …), recording (``Record…``, each matching one
``app.ports.RecorderPort`` method) and the model's change events (``app.model.ModelEvent``) that
the front end publishes to its subscribers.

Units are in the names (``_ns`` monotonic nanoseconds, ``_ms`` milliseconds, ``_hz``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from app.model import Loading, Mode, ModelEvent
from app.transcript import Role
from audio.events import AudioEvent
from realtime.budget import Limits
from realtime.events import AudioDelta, Command, Event, Usage
from video.feed import SentFrame

# ---------------------------------------------------------------------- inputs: lifecycle


@dataclass(frozen=True)
class Connecting:
    """The front end starts connecting (state ``connecting``)."""


@dataclass(frozen=True)
class LoadingProgress:
    """Offline models are loading: ``loading`` is the model's value (step of total, what;
    ``what="ready"`` at the end), published as ``LoadingChanged``."""

    loading: Loading


@dataclass(frozen=True)
class ConnectFailed:
    """Connecting failed; ``message`` says why in words a person can act on."""

    message: str


@dataclass(frozen=True)
class StopRequested:
    """The user asked to end the conversation (a close that follows is not an error)."""


@dataclass(frozen=True)
class Ended:
    """The front end has torn the conversation down (after a stop, a close or a failure)."""


@dataclass(frozen=True)
class BackendCrashed:
    """The offline server died (``reason``, e.g. "exit code -9"); said in the next
    reconnect notice."""

    reason: str


# ---------------------------------------------------------------------- inputs: user intents


@dataclass(frozen=True)
class SetMode:
    mode: Mode


@dataclass(frozen=True)
class Mute:
    """Mute on; off returns to the mode used before muting."""

    on: bool


@dataclass(frozen=True)
class Talk:
    """The talk control: held (push-to-talk) or pressed (toggle flips on each press)."""

    pressed: bool


@dataclass(frozen=True)
class TypeText:
    """A typed message (interrupts a reply being played)."""

    text: str


@dataclass(frozen=True)
class LookAtThis:
    """Send a high-detail snapshot of the camera with the next question."""


@dataclass(frozen=True)
class SetBudget:
    """New spend limits (Settings changed) for the rest of the conversation; raising a limit
    that was reached lets audio and frames go again (``app.core_budget``)."""

    limits: Limits


# ---------------------------------------------------------------------- inputs: observations


@dataclass(frozen=True)
class FrameReady:
    """The frame feed released a frame for the model (answer to ``PollFrame``)."""

    frame: SentFrame


@dataclass(frozen=True)
class CameraProblem:
    """The camera/screen source reported a problem (a sentence for the user)."""

    message: str


@dataclass(frozen=True)
class PlayerReport:
    """What the speaker is doing, sent before every other input: ``playing`` (reply audio still
    queued or sounding) and, for the items the core watches (``core.watched_items()``), when
    their first sample was heard (``first_audible_ns``, monotonic ns)."""

    playing: bool
    first_audible_ns: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PlaybackCleared:
    """The answer to ``ClearPlayback``: the player stopped; ``played_ms`` of ``item_id``
    reached the device (underruns not counted), read after the clear."""

    item_id: str | None
    played_ms: int


@dataclass(frozen=True)
class DaySpendProblem:
    """The day's total could not be read (a damaged file, at the start) or written
    (``AddDaySpend`` failed); ``message`` says why, for the user."""

    message: str


@dataclass(frozen=True)
class Tick:
    """The front end's periodic tick (every ~10 ms): reply drain, time left."""


Intent = (
    Connecting
    | LoadingProgress
    | ConnectFailed
    | StopRequested
    | Ended
    | BackendCrashed
    | SetMode
    | Mute
    | Talk
    | TypeText
    | LookAtThis
    | SetBudget
    | FrameReady
    | CameraProblem
    | PlayerReport
    | PlaybackCleared
    | DaySpendProblem
    | Tick
)

#: Everything ``ConversationCore.handle`` accepts.
Input = Intent | AudioEvent | Event


# ---------------------------------------------------------------------- effects: the outside


@dataclass(frozen=True)
class Send:
    """Send ``command`` on the session (only emitted while the session is ready)."""

    command: Command


@dataclass(frozen=True)
class Play:
    """Queue the reply audio ``delta`` (the provider's event, as received): it starts
    ``position_ms`` into its item (the audio received before it)."""

    delta: AudioDelta
    position_ms: int

    @property
    def item_id(self) -> str:
        return self.delta.item_id

    @property
    def pcm16(self) -> bytes:
        return self.delta.pcm

    @property
    def rate_hz(self) -> int:
        return self.delta.rate_hz


@dataclass(frozen=True)
class ClearPlayback:
    """Stop the reply now. ``item_id``: the reply that was cut (None between replies);
    ``done_by_engine``: the audio engine already cleared it (its ``BargeIn``); otherwise answer
    with ``PlaybackCleared`` before performing the next effect."""

    item_id: str | None
    done_by_engine: bool = False


@dataclass(frozen=True)
class EndPlaybackItem:
    """All audio of ``item_id`` has arrived (``cut``: it was cut off; do not finish playing)."""

    item_id: str
    cut: bool


@dataclass(frozen=True)
class SetAudioMode:
    """Mirror the mode into the audio engine (its talk gate and local barge-in)."""

    mode: Mode


@dataclass(frozen=True)
class PressTalk:
    """Mirror the talk control into the audio engine's talk gate."""

    pressed: bool


@dataclass(frozen=True)
class StartInput:
    """The session is ready: a file "microphone" may start talking now."""


@dataclass(frozen=True)
class MarkSpeech:
    """Tell the frame pacer the user started/stopped speaking at ``t_ns``."""

    started: bool
    t_ns: int


@dataclass(frozen=True)
class RequestSnapshot:
    """Ask the frame feed for a high-detail "look at this" frame."""


@dataclass(frozen=True)
class PollFrame:
    """Ask the frame feed for a frame now; answer with ``CameraProblem`` for each problem it
    reports and ``FrameReady`` if it releases a frame. Only emitted while the session is
    ready."""


@dataclass(frozen=True)
class AddDaySpend:
    """Add ``usd`` (a response's cost, > 0) to today's total that survives restarts
    (``realtime.spend_store``); answer a failure with ``DaySpendProblem``."""

    usd: float


# ---------------------------------------------------------------------- effects: recording


@dataclass(frozen=True)
class RecordMic:
    pcm16: bytes
    rate_hz: int
    t_ns: int


@dataclass(frozen=True)
class RecordFrame:
    jpeg: bytes
    t_ns: int
    sent: bool
    reason: str


@dataclass(frozen=True)
class RecordTurn:
    """A finished turn of the core's transcript, as the recording stores it: ``t_ns`` when it
    was final, ``t_start_ns``/``t_end_ns`` when it was spoken (user: speech start/end; a reply:
    first audible sample, else first byte; ``None`` unknown), ``source`` ``"voice"``/``"text"``,
    ``status`` ``"completed"``/``"interrupted"``/``"incomplete"``/``"failed"``."""

    role: Role
    text: str
    item_id: str
    t_ns: int
    t_start_ns: int | None
    t_end_ns: int | None
    source: str
    status: str


@dataclass(frozen=True)
class RecordLatency:
    """One figure of the core's latency waterfall (``app.latency``) for reply ``item_id``, in ms
    from the end of the user's turn (see ``app.core_record.LATENCY_METRICS``)."""

    item_id: str
    metric: str
    value_ms: float
    t_ns: int


@dataclass(frozen=True)
class RecordUsage:
    """Token usage of one response and its cost (``None``: the recorder estimates it)."""

    usage: Usage
    response_id: str
    cost_usd: float | None
    t_ns: int


@dataclass(frozen=True)
class RecordMark:
    kind: str
    detail: str
    t_ns: int


Record = RecordMic | RecordFrame | RecordTurn | RecordLatency | RecordUsage | RecordMark

Effect = (
    Send
    | Play
    | ClearPlayback
    | EndPlaybackItem
    | SetAudioMode
    | PressTalk
    | StartInput
    | MarkSpeech
    | RequestSnapshot
    | PollFrame
    | AddDaySpend
    | Record
    | ModelEvent
)
