"""``ConversationCore``: one conversation's turn-taking, as a pure function of its inputs.

No threads, no I/O, no clock, no randomness (like the protocol cores in ``realtime/``): the front
end hands it typed inputs with the time (``handle(input, now_ns)``) and performs the effects it
returns, in order. Inputs are audio-engine events (``audio.events``), provider events
(``realtime.events``) and ``app.effects`` intents/observations; effects are ``app.effects``
commands (``Send``, ``Play``, ``ClearPlayback`` …), ``Record…`` values and the model's change
events (``app.model``). The microphone half lives in ``app.core_mic``, the reply and barge-in
half in ``app.core_reply``, the mode, typed text and frames in ``app.core_intents``, the
provider events in ``app.core_server``, what the recording stores (finished turns, latency,
usage: the one turn model) in ``app.core_record`` (functions over the core).
Front ends: ``app.conversation.Conversation`` (the assistant's engine
thread), the tests (recorded event sequences, golden streams), the benches.

Contract for front ends: before every input, send a ``PlayerReport`` for ``watched_items()``
(when there is a player); send ``Tick()`` every ~10 ms; answer ``ClearPlayback`` (unless
``done_by_engine``) with ``PlaybackCleared`` and ``PollFrame`` with ``CameraProblem``/
``FrameReady``, each before performing the next effect.

Barge-in, local first (``core_reply.barge_in``): when the user's voice starts during playback
the player is cleared at once (``ClearPlayback``; or the audio engine already did it and
reported ``BargeIn``), then for the OpenAI protocol (OpenAI, the offline server, ws:// URLs)
``CancelResponse`` and ``Truncate(item_id, played_ms)`` with the position actually played,
clamped to the audio received; for Gemini nothing is sent (it reports ``Interrupted`` itself).
Audio still arriving for a cut item is dropped. A server-reported interruption
(``SpeechStarted`` from the provider's VAD, ``Interrupted``) flushes playback the same way. Each
item is truncated at most once and never at 0 ms. The transcript keeps the cut reply's played
and received milliseconds (``Turn.heard_text``).

States move only along ``app.state.ALLOWED``; an illegal move raises ``InvalidTransition``.
Turn-taking moves (listening ↔ user speaking ↔ thinking ↔ assistant speaking) are made only while
connected: before the session is ready, typed text or a talk press changes no state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app import core_budget, core_intents, core_mic, core_record, core_reply
from app.effects import (
    BackendCrashed,
    CameraProblem,
    ConnectFailed,
    Connecting,
    DaySpendProblem,
    Effect,
    Ended,
    FrameReady,
    Input,
    LoadingProgress,
    LookAtThis,
    Mute,
    PlaybackCleared,
    PlayerReport,
    PollFrame,
    RecordMark,
    RequestSnapshot,
    Send,
    SetBudget,
    SetMode,
    StopRequested,
    Talk,
    Tick,
    TypeText,
)
from app.latency import LatencyTracker, TurnLatency
from app.model import (
    Mode,
    NoticeChanged,
    Spend,
    StateChanged,
    TimeLeftChanged,
    TurnUpdated,
)
from app.modes import ConversationOptions
from app.pricing import CostMeter
from app.state import ConversationState as S
from app.state import StateMachine
from app.transcript import Role, Transcript, Turn
from audio.errors import AudioDeviceError
from audio.events import (
    AudioHealthChanged,
    Backchannel,
    BargeIn,
    DeviceRecovered,
    DeviceWarning,
    MicAudio,
    StreamOpened,
    VoiceStarted,
    VoiceStopped,
)
from dsp.vad import PreRoll
from realtime.budget import BudgetLevel, BudgetMeter, BudgetStatus
from realtime.events import (
    AppendAudio,
    AppendImage,
    Closed,
    Command,
    ServerError,
    SessionConfig,
)
from realtime.events import Event as RealtimeEvent


@dataclass(frozen=True)
class Backend:
    """What the core needs to know about the backend (a subset of ``app.ports.ConnectSpec``)."""

    name: str
    #: "openai" (cancel + truncate on barge-in) or "gemini" (the server reports ``interrupted``).
    provider: str
    model: str
    input_rate_hz: int
    voice: str = ""
    #: Hard session length cap in seconds, or None.
    session_cap_s: float | None = None


class ConversationCore:
    """Turn-taking state of one conversation. Not thread-safe: one front end drives it."""

    def __init__(
        self,
        backend: Backend,
        options: ConversationOptions,
        cost: CostMeter,
        *,
        has_player: bool,
        budget: BudgetMeter | None = None,
    ) -> None:
        """``budget``: the spend limit's meter (``app.core_budget.new_meter``; default: no
        limit, still pricing each frame)."""
        self.backend = backend
        self.options = options
        self.cost = cost
        self.budget = budget or core_budget.new_meter(cost, backend.provider)
        self.budget_status = BudgetStatus(BudgetLevel.NONE, None, None, None)
        self.has_player = has_player
        self.sm = StateMachine()
        self.transcript = Transcript()
        self.latency = LatencyTracker()
        self.mode: Mode = options.mode
        self.ready = False
        self.notice = ""
        self.time_left_s: float | None = None
        self.completed_turns = 0
        self.last_complete_ns = 0
        self.server_errors: list[ServerError] = []
        self.closed: Closed | None = None
        self._mode_before_mute: Mode = (
            options.mode if options.mode != Mode.MUTE else Mode.HANDS_FREE
        )
        self._stopping = False
        self._talking = False  # the mic is in an open turn (client VAD / push-to-talk / toggle)
        self._user_voice = False  # local VAD says the user is speaking
        self._preroll = PreRoll(options.preroll_ms, backend.input_rate_hz)
        self._response_active = False
        self._cancel_sent = False
        self._awaiting_drain = False
        self._drain_ticks = 0
        self._last_status = ""
        self._playing_item: str | None = None
        self._received_ms: dict[str, float] = {}
        self._cut_items: set[str] = set()
        self._truncated: set[str] = set()
        self._deadline_ns: int | None = None
        self._crash = ""
        self._player = PlayerReport(playing=False)
        self._clearing: str | None = None  # the reason of a ClearPlayback not yet answered
        self._out: list[Effect] = []
        self._now = 0
        # the recording's view of the turn model (app.core_record)
        self._user_start_ns: int | None = None
        self._user_end_ns: int | None = None
        self._first_byte_ns: dict[str, int] = {}
        self._user_times: dict[str, tuple[int | None, int | None]] = {}  # by committed item
        self._recorded: set[int] = set()  # Turn.seq written
        self._recorded_latency: set[int] = set()  # TurnLatency.turn written
        self._recorded_version = 0
        self._audio_struggling = ""  # the notice shown while the audio struggles

    # ------------------------------------------------------------------ reading
    @property
    def state(self) -> S:
        return self.sm.state

    @property
    def error(self) -> str:
        return self.sm.error

    def turns(self) -> tuple[Turn, ...]:
        return self.transcript.turns()

    def latencies(self) -> tuple[TurnLatency, ...]:
        return self.latency.turns()

    def spend(self) -> Spend:
        known = self.cost.known
        return Spend(
            usage=self.cost.usage,
            cost_usd=(0.0 if self.cost.free else self.cost.usd) if known else None,
            free=self.cost.free,
            line=self.cost.describe(),
        )

    def watched_items(self) -> tuple[str, ...]:
        """Items whose first audible time the next ``PlayerReport`` must carry."""
        item = self.latency.waiting_for_audible
        return (item,) if item else ()

    def session_config(self) -> SessionConfig:
        """The session to connect with (the backend's voice unless the options name one)."""
        config = self.options.session_config(self.backend.model)
        return config if config.voice else replace(config, voice=self.backend.voice)

    # ------------------------------------------------------------------ the one entry point
    def handle(self, item: Input, now_ns: int) -> list[Effect]:
        """Apply one input at ``now_ns`` (monotonic ns); return the effects, in order."""
        self._out = []
        self._now = now_ns
        if isinstance(item, RealtimeEvent):
            self._on_server_event(item)
            self._update_time_left()
        else:
            self._on_local(item)
        core_record.user_turns(self)
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ helpers
    def _emit(self, effect: Effect) -> None:
        self._out.append(effect)

    def _send(self, cmd: Command) -> None:
        if not self.ready:
            return
        if isinstance(cmd, AppendAudio | AppendImage) and not core_budget.media_allowed(self, cmd):
            return  # the spend limit is reached (app.core_budget)
        self._emit(Send(cmd))

    def _go(self, state: S, message: str = "") -> None:
        """Move (raises ``InvalidTransition`` if ``ALLOWED`` forbids it); report a change."""
        if self.sm.state == state and state != S.ERROR:
            return
        self.sm.go(state, message)
        self._emit(StateChanged(state, message))

    def _turn_move(self, state: S) -> None:
        """A turn-taking move: made only while connected (see the module docstring)."""
        if self.sm.state.connected:
            self._go(state)

    def _playing(self) -> bool:
        return self.has_player and self._player.playing

    def _turn_changed(self, role: Role, item_id: str) -> None:
        turn = self.transcript.get(role, item_id) if item_id else None
        if turn is None:
            turns = [t for t in self.transcript.turns() if t.role == role]
            turn = turns[-1] if turns else None
        if turn is not None:
            self._emit(TurnUpdated(turn))

    def _set_notice(self, message: str) -> None:
        self.notice = message
        self._emit(NoticeChanged(message))

    def _update_time_left(self) -> None:
        if self._deadline_ns is None:
            return
        left = max(0.0, (self._deadline_ns - self._now) / 1e9)
        if self.time_left_s is None or abs(left - self.time_left_s) >= 1.0:
            self.time_left_s = left
            self._emit(TimeLeftChanged(left))

    # ------------------------------------------------------------------ local inputs
    def _on_local(self, item: Input) -> None:
        now = self._now
        if isinstance(item, PlayerReport):
            self._player = item
        elif isinstance(item, PlaybackCleared):
            core_reply.on_cleared(self, item)
        elif isinstance(item, Tick):
            core_reply.check_playback(self)
            self._update_time_left()
        elif isinstance(item, MicAudio):
            core_mic.on_mic(self, item)
        elif isinstance(item, VoiceStarted):
            core_mic.on_voice_started(self, item.t_ns)
        elif isinstance(item, VoiceStopped):
            core_mic.on_voice_stopped(self, item.t_ns)
        elif isinstance(item, Backchannel):  # the reply went on: quiet entry, not a turn
            self.transcript.user_backchannel(item.text)
            self._turn_changed("user", "")
            self._emit(RecordMark("backchannel", item.text, now))
        elif isinstance(item, BargeIn):  # the engine already cleared playback
            core_reply.barge_in(self, "engine", item.item_id, item.played_ms)
        elif isinstance(item, AudioHealthChanged):  # busy computer: say so, not "Ready"
            if item.struggling:
                self._audio_struggling = item.message
                self._set_notice(item.message)
            elif self.notice == self._audio_struggling:
                self._audio_struggling = ""
                self._set_notice("")
        elif isinstance(item, AudioDeviceError | DeviceWarning):
            self._set_notice(item.message)
        elif isinstance(item, DeviceRecovered | StreamOpened):
            if self.notice:
                self._set_notice("")
        elif isinstance(item, Connecting):
            self._stopping = False
            self._go(S.CONNECTING)
        elif isinstance(item, LoadingProgress):
            core_intents.on_loading(self, item)
        elif isinstance(item, ConnectFailed):
            self._go(S.ERROR, item.message)
        elif isinstance(item, StopRequested):
            self._stopping = True
        elif isinstance(item, Ended):
            self.ready = False
            core_record.replies(self, "incomplete")
            if self._stopping or self.sm.state != S.ERROR:
                self._go(S.IDLE)
        elif isinstance(item, BackendCrashed):
            self._crash = item.reason
        elif isinstance(item, SetMode):
            core_intents.set_mode(self, item.mode)
        elif isinstance(item, Mute):
            core_intents.set_mode(self, Mode.MUTE if item.on else self._mode_before_mute)
        elif isinstance(item, Talk):
            core_mic.on_talk(self, item.pressed, now)
        elif isinstance(item, TypeText):
            core_intents.on_text(self, item.text, now)
        elif isinstance(item, LookAtThis):
            self._emit(RequestSnapshot())
            self._poll_frame()
        elif isinstance(item, FrameReady):
            core_intents.on_frame(self, item)
        elif isinstance(item, CameraProblem):
            self._set_notice(item.message)
        elif isinstance(item, SetBudget):
            core_budget.set_limits(self, item.limits)
        elif isinstance(item, DaySpendProblem):
            self._set_notice(item.message)

    # ------------------------------------------------------------------ frames
    def _poll_frame(self) -> None:
        if self.ready and not core_budget.stopped(self):
            self._emit(PollFrame())

    # ------------------------------------------------------------------ provider events
    def _on_server_event(self, ev: RealtimeEvent) -> None:
        from app.core_server import on_server_event

        on_server_event(self, ev)
