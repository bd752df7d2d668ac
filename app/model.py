"""The app's one vocabulary: the values and change events every front end reads.

Qt-free and pure. The GUI, the headless CLI and the tests import these names from here and keep
no copies:

- ``Mode`` — how the user takes turns (defined once, in ``audio.config`` as ``TalkMode``, because
  the audio engine's talk gate needs it and ``audio`` may not import ``app``);
- ``State`` — the conversation state (``app.state.ConversationState``; illegal moves raise
  ``InvalidTransition``), including ``LOADING`` while the offline models load;
- ``Turn`` — one side's turn of the transcript (``app.transcript``), with ``heard_text`` and
  ``unheard_text`` for an interrupted reply and its ``TurnLatency`` (``app.latency``);
- ``Usage`` — token counts (``realtime.events.Usage``); ``Spend`` — the session's running
  total and its price;
- ``Meters`` — the audio engine's levels (``audio.engine.Meters``), ``SentFrame`` — a frame that
  went to the model (``video.feed.SentFrame``), ``Frame`` — a captured camera/screen image
  (``video.frame.Frame``, BGR ndarray + ``t_ns`` + ``seq``).

Change events (``ModelEvent``) are frozen values the conversation core emits and the assistant
publishes to its subscribers (``Assistant.subscribe(callback)``). A subscriber dispatches with
``isinstance``/``match``; no string kinds. Subscribers are called on the assistant's engine
thread: keep them cheap and marshal to your own thread (the GUI coalesces them per frame).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.latency import TurnLatency
from app.state import ConversationState, InvalidTransition
from app.transcript import Role, Turn
from audio.config import TalkMode
from audio.meters import Meters
from realtime.budget import BudgetLevel, BudgetStatus
from realtime.events import ServerError, Usage
from video.feed import SentFrame
from video.frame import Frame

#: How the user takes turns: ``hands_free``, ``push_to_talk``, ``toggle``, ``mute``.
Mode = TalkMode
#: The conversation state (``idle`` … ``error``).
State = ConversationState

__all__ = [
    "BudgetChanged",
    "BudgetLevel",
    "BudgetStatus",
    "CameraChanged",
    "Frame",
    "FrameSent",
    "InvalidTransition",
    "Loading",
    "LoadingChanged",
    "Meters",
    "Mode",
    "ModeChanged",
    "ModelEvent",
    "ModelListener",
    "NoticeChanged",
    "RecordingChanged",
    "Role",
    "SentFrame",
    "ServerError",
    "ServerErrorReported",
    "Spend",
    "SpendChanged",
    "State",
    "StateChanged",
    "TimeLeftChanged",
    "TranscriptReset",
    "Turn",
    "TurnCompleted",
    "TurnLatency",
    "TurnUpdated",
    "Usage",
]


@dataclass(frozen=True)
class Spend:
    """The session's token usage so far and its price.

    ``cost_usd``: ``0.0`` for a free backend (offline server, a loopback URL), ``None`` when the
    model's price is unknown. ``line``: one human line (``"1.2k in · 300 out · $0.0123"``).
    """

    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = 0.0
    free: bool = False
    line: str = ""


@dataclass(frozen=True)
class Loading:
    """Offline model loading: step ``step`` of ``total``, ``what`` names it (``"ready"`` at the
    end, then ``done`` is True)."""

    step: int
    total: int
    what: str

    @property
    def done(self) -> bool:
        return self.what == "ready"

    @property
    def fraction(self) -> float:
        """0 … 1."""
        if self.done:
            return 1.0
        return self.step / self.total if self.total else 0.0


# ---------------------------------------------------------------------- change events


@dataclass(frozen=True)
class StateChanged:
    """The conversation moved to ``state``; ``message`` is the person-actionable error text for
    ``State.ERROR`` (empty otherwise)."""

    state: ConversationState
    message: str = ""


@dataclass(frozen=True)
class TurnUpdated:
    """A turn was added or changed (same ``turn.turn_id`` across updates)."""

    turn: Turn


@dataclass(frozen=True)
class TranscriptReset:
    """A new conversation started: forget the turns shown so far."""


@dataclass(frozen=True)
class SpendChanged:
    """A response reported token usage; ``spend`` is the new session total."""

    spend: Spend


@dataclass(frozen=True)
class ModeChanged:
    mode: TalkMode


@dataclass(frozen=True)
class NoticeChanged:
    """A non-fatal problem to show (device lost, server warning, reconnecting…); ``""`` clears
    it."""

    message: str


@dataclass(frozen=True)
class TimeLeftChanged:
    """Seconds left before the provider's session cap (None: no cap). Emitted when it moved by
    at least one second."""

    seconds: float | None


@dataclass(frozen=True)
class FrameSent:
    """A camera/screen frame went to the model. ``cost_usd``: what it adds to the turn it is
    sent in (every later turn bills it again); ``None`` when the model's price is unknown;
    ``free``: the backend costs nothing."""

    frame: SentFrame
    cost_usd: float | None = None
    free: bool = False


@dataclass(frozen=True)
class BudgetChanged:
    """The spend limit's reading changed level (``app.core_budget``): ``status.level`` is
    ``ok``/``warning`` (from 80 %)/``stopped`` (100 %: no audio or frames are sent)/``unknown``
    (a budget is set but the price is not known)/``none``; ``status.message`` says it."""

    status: BudgetStatus


@dataclass(frozen=True)
class TurnCompleted:
    """A reply finished playing completely (not cut off): ``count`` so far, at ``t_ns``
    (monotonic ns, the core's clock)."""

    count: int
    t_ns: int


@dataclass(frozen=True)
class ServerErrorReported:
    """The provider reported an error (fatal ones also move the state to ``ERROR``)."""

    error: ServerError


@dataclass(frozen=True)
class LoadingChanged:
    """Offline models are loading (``loading.done`` once ready)."""

    loading: Loading


@dataclass(frozen=True)
class CameraChanged:
    """The camera (or screen share) was switched on/off by the assistant."""

    on: bool


@dataclass(frozen=True)
class RecordingChanged:
    """Session recording switched on/off; ``path`` of the file, ``error`` if it failed."""

    on: bool
    path: str | None = None
    error: str | None = None


ModelEvent = (
    StateChanged
    | TurnUpdated
    | TranscriptReset
    | SpendChanged
    | ModeChanged
    | NoticeChanged
    | TimeLeftChanged
    | FrameSent
    | TurnCompleted
    | ServerErrorReported
    | LoadingChanged
    | CameraChanged
    | RecordingChanged
    | BudgetChanged
)

#: A subscriber: called with each ``ModelEvent`` (on the assistant's engine thread).
ModelListener = Callable[[ModelEvent], None]
