"""``ConversationCore``: one conversation's turn-taking, as a pure function of its inputs.

No threads, no I/O, no clock, no randomness (like the protocol cores in ``realtime/``): the front
end hands it typed inputs with the time (``handle(input, now_ns)``) and performs the effects it
returns, in order. Inputs are audio-engine events (``audio.events``), provider events
(``realtime.events``) and ``app.effects`` intents/observations; effects are ``app.effects``
commands (``Send``, ``Play``, ``ClearPlayback`` …), ``Record…`` values and the model's change
events (``app.model``). Front ends: ``app.conversation.Conversation`` (the assistant's engine
thread), the tests (recorded event sequences, golden streams), the benches.

Contract for front ends: before every input, send a ``PlayerReport`` for ``watched_items()``
(when there is a player); send ``Tick()`` every ~10 ms; answer ``ClearPlayback`` (unless
``done_by_engine``) with ``PlaybackCleared`` and ``PollFrame`` with ``CameraProblem``/
``FrameReady``, each before performing the next effect.

Barge-in, local first (``_barge_in``): when the user's voice starts during playback the player is
cleared at once (``ClearPlayback``; or the audio engine already did it and reported ``BargeIn``),
then for the OpenAI protocol (OpenAI, the offline server, ws:// URLs) ``CancelResponse`` and
``Truncate(item_id, played_ms)`` with the position actually played, clamped to the audio
received; for Gemini nothing is sent (it reports ``Interrupted`` itself). Audio still arriving
for a cut item is dropped. A server-reported interruption (``SpeechStarted`` from the provider's
VAD, ``Interrupted``) flushes playback the same way. Each item is truncated at most once and never
at 0 ms. The transcript keeps the cut reply's played and received milliseconds
(``Turn.heard_text``).

States move only along ``app.state.ALLOWED``; an illegal move raises ``InvalidTransition``.
Turn-taking moves (listening ↔ user speaking ↔ thinking ↔ assistant speaking) are made only while
connected: before the session is ready, typed text or a talk press changes no state.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.effects import (
    BackendCrashed,
    CameraProblem,
    ClearPlayback,
    ConnectFailed,
    Connecting,
    Effect,
    Ended,
    FrameReady,
    Input,
    LoadingProgress,
    LookAtThis,
    MarkSpeech,
    Mute,
    PlaybackCleared,
    PlayerReport,
    PollFrame,
    PressTalk,
    RecordEvent,
    RecordFrame,
    RecordMark,
    RecordMic,
    RecordSpeechEnd,
    RecordUserText,
    RequestSnapshot,
    Send,
    SetAudioMode,
    SetMode,
    StopRequested,
    Talk,
    Tick,
    TypeText,
)
from app.latency import LatencyTracker, TurnLatency
from app.model import (
    FrameSent,
    Loading,
    LoadingChanged,
    Mode,
    ModeChanged,
    NoticeChanged,
    Spend,
    StateChanged,
    TimeLeftChanged,
    TurnCompleted,
    TurnUpdated,
)
from app.modes import ConversationOptions
from app.pricing import CostMeter
from app.state import ConversationState as S
from app.state import StateMachine
from app.transcript import Role, Transcript, Turn
from audio.errors import AudioDeviceError
from audio.events import (
    BargeIn,
    DeviceRecovered,
    DeviceWarning,
    MicAudio,
    StreamOpened,
    VoiceStarted,
    VoiceStopped,
)
from dsp.vad import PreRoll
from realtime.events import (
    ActivityEnd,
    ActivityStart,
    AppendAudio,
    AppendImage,
    AudioStreamEnd,
    CancelResponse,
    Closed,
    Command,
    SendText,
    ServerError,
    SessionConfig,
    Truncate,
    UpdateSession,
)
from realtime.events import Event as RealtimeEvent

#: Ticks without playback after a finished response before the reply counts as played out.
DRAIN_TICKS = 2


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
    ) -> None:
        self.backend = backend
        self.options = options
        self.cost = cost
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
            self._emit(RecordEvent(item, now_ns))
            self._on_server_event(item)
            self._update_time_left()
        else:
            self._on_local(item)
        out, self._out = self._out, []
        return out

    # ------------------------------------------------------------------ helpers
    def _emit(self, effect: Effect) -> None:
        self._out.append(effect)

    def _send(self, cmd: Command) -> None:
        if self.ready:
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
            self._on_cleared(item)
        elif isinstance(item, Tick):
            self._check_playback()
            self._update_time_left()
        elif isinstance(item, MicAudio):
            self._on_mic(item)
        elif isinstance(item, VoiceStarted):
            self._on_voice_started(item.t_ns)
        elif isinstance(item, VoiceStopped):
            self._on_voice_stopped(item.t_ns)
        elif isinstance(item, BargeIn):  # the engine already cleared playback
            self._barge_in("engine", item.item_id, item.played_ms)
        elif isinstance(item, AudioDeviceError | DeviceWarning):
            self._set_notice(item.message)
        elif isinstance(item, DeviceRecovered | StreamOpened):
            if self.notice:
                self._set_notice("")
        elif isinstance(item, Connecting):
            self._stopping = False
            self._go(S.CONNECTING)
        elif isinstance(item, LoadingProgress):
            self._on_loading(item)
        elif isinstance(item, ConnectFailed):
            self._go(S.ERROR, item.message)
        elif isinstance(item, StopRequested):
            self._stopping = True
        elif isinstance(item, Ended):
            self.ready = False
            if self._stopping or self.sm.state != S.ERROR:
                self._go(S.IDLE)
        elif isinstance(item, BackendCrashed):
            self._crash = item.reason
        elif isinstance(item, SetMode):
            self._set_mode(item.mode)
        elif isinstance(item, Mute):
            self._set_mode(Mode.MUTE if item.on else self._mode_before_mute)
        elif isinstance(item, Talk):
            self._on_talk(item.pressed, now)
        elif isinstance(item, TypeText):
            self._on_text(item.text, now)
        elif isinstance(item, LookAtThis):
            self._emit(RequestSnapshot())
            self._poll_frame()
        elif isinstance(item, FrameReady):
            self._on_frame(item)
        elif isinstance(item, CameraProblem):
            self._set_notice(item.message)

    def _on_loading(self, item: LoadingProgress) -> None:
        loading = Loading(item.step, item.total, item.what)
        self._emit(LoadingChanged(loading))
        if not loading.done and self.sm.state == S.CONNECTING:
            self._go(S.LOADING)
        elif loading.done and self.sm.state == S.LOADING:
            self._go(S.CONNECTING)

    def _set_mode(self, mode: Mode) -> None:
        old = self.mode
        if mode == old:
            return
        if mode == Mode.MUTE:
            self._mode_before_mute = old
        if self._talking:
            self._end_talk(self._now)
        self.mode = mode
        self._emit(SetAudioMode(mode))
        if mode == Mode.MUTE:
            self._send(AudioStreamEnd())
        was_server = old == Mode.HANDS_FREE and self.options.turn_detection != "client"
        now_server = mode == Mode.HANDS_FREE and self.options.turn_detection != "client"
        if was_server != now_server:
            opts = replace(self.options, mode=mode)
            self._send(UpdateSession(opts.session_config(self.backend.model)))
        self.options = replace(self.options, mode=mode)
        self._emit(ModeChanged(mode))

    def _on_talk(self, pressed: bool, now: int) -> None:
        if self.mode in (Mode.PUSH_TO_TALK, Mode.TOGGLE):
            self._emit(PressTalk(pressed))
        if self.mode == Mode.PUSH_TO_TALK:
            if pressed and not self._talking:
                self._start_talk(now)
            elif not pressed and self._talking:
                self._end_talk(now)
        elif self.mode == Mode.TOGGLE and pressed:
            if self._talking:
                self._end_talk(now)
            else:
                self._start_talk(now)

    def _on_text(self, text: str, now: int) -> None:
        text = text.strip()
        if not text:
            return
        if self._playing() or self._response_active:
            self._barge_in("text")
        # a typed question gets a fresh frame too, sent first
        self._emit(MarkSpeech(True, now))
        self._poll_frame()
        self._emit(MarkSpeech(False, now))
        self.transcript.user_typed(text)
        self._emit(RecordUserText(text, now))
        self._turn_changed("user", "")
        self.latency.speech_ended(now)
        self.latency.committed(now)
        self._send(SendText(text=text, respond=True))
        self._turn_move(S.THINKING)

    # ------------------------------------------------------------------ frames
    def _poll_frame(self) -> None:
        if self.ready:
            self._emit(PollFrame())

    def _on_frame(self, item: FrameReady) -> None:
        if not self.ready:
            return
        f = item.frame
        self._send(AppendImage(jpeg=f.jpeg, detail=f.detail))
        self._emit(RecordFrame(f.jpeg, f.sent_ns, True, str(f.reason)))
        self._emit(FrameSent(f))

    # ------------------------------------------------------------------ the microphone
    def _mic_open(self) -> bool:
        if self.mode == Mode.MUTE:
            return False
        if self.mode == Mode.HANDS_FREE and not self.options.client_vad_turns:
            return True  # the provider's VAD listens to everything
        return self._talking

    def _append(self, pcm: bytes) -> AppendAudio:
        return AppendAudio(pcm=pcm, rate_hz=self.backend.input_rate_hz)

    def _on_mic(self, ev: MicAudio) -> None:
        self._emit(RecordMic(ev.pcm16_16k, 16000, ev.t_ns))
        if not self.ready:
            return
        if self._mic_open():
            self._send(self._append(ev.pcm16_send))
        elif self.mode != Mode.MUTE:
            self._preroll.push(ev.pcm16_send)

    def _on_voice_started(self, t_ns: int) -> None:
        self._user_voice = True
        if self.mode == Mode.MUTE or not self.ready:
            return  # (a voice still going on when the session gets ready opens a turn then)
        if self.mode == Mode.HANDS_FREE:
            if self._playing():
                self._barge_in("voice")
            if self.options.client_vad_turns and not self._talking:
                self._start_talk(t_ns)
            elif not self.options.client_vad_turns:
                self._emit(MarkSpeech(True, t_ns))

    def _on_voice_stopped(self, t_ns: int) -> None:
        self._user_voice = False
        if self.options.client_vad_turns and self.mode == Mode.HANDS_FREE and self._talking:
            self._end_talk(t_ns)
        elif self.mode == Mode.HANDS_FREE and self.ready:
            self.latency.speech_ended(t_ns)
            self._emit(RecordSpeechEnd(t_ns))
            self._emit(MarkSpeech(False, t_ns))

    def _start_talk(self, t_ns: int) -> None:
        if self._playing() or self._response_active:
            self._barge_in("talk")
        self._talking = True
        self.transcript.user_started()
        self._turn_changed("user", "")
        self._send(ActivityStart())
        pre = self._preroll.drain()
        if pre and self.options.client_vad_turns:
            self._send(self._append(pre))
        self._turn_move(S.USER_SPEAKING)
        self._emit(MarkSpeech(True, t_ns))
        self._poll_frame()

    def _end_talk(self, t_ns: int) -> None:
        self._talking = False
        self._emit(RecordSpeechEnd(t_ns))
        self._emit(MarkSpeech(False, t_ns))
        self.latency.speech_ended(t_ns)
        self._send(ActivityEnd())
        self.latency.committed(self._now)
        self._turn_move(S.THINKING)

    # ------------------------------------------------------------------ playback and barge-in
    def _check_playback(self) -> None:
        """Latency's audible mark; the end of the reply once the response is done and drained."""
        if not self.has_player:
            return
        item = self.latency.waiting_for_audible
        if item:
            t = self._player.first_audible_ns.get(item)
            if t is not None:
                self.latency.audible(t)
                self._annotate_latency(item)
        if self._awaiting_drain:
            if self._player.playing:
                self._drain_ticks = 0
            else:
                self._drain_ticks += 1
                if self._drain_ticks >= DRAIN_TICKS:
                    self._reply_finished()

    def _reply_finished(self) -> None:
        self._awaiting_drain = False
        self._playing_item = None
        item = self.latency.waiting_for_audible
        if item and self.has_player:
            self.latency.audible(self._player.first_audible_ns.get(item))
            self._annotate_latency(item)
        if self._last_status == "completed":
            self.completed_turns += 1
            self.last_complete_ns = self._now
            self._emit(TurnCompleted(self.completed_turns, self._now))
        if self.sm.state in (S.ASSISTANT_SPEAKING, S.THINKING):
            self._go(S.USER_SPEAKING if self._talking else S.LISTENING)

    def _barge_in(
        self, reason: str, item_id: str | None = None, played_ms: int | None = None
    ) -> None:
        """Stop the reply now; tell the server what was heard (see the module docstring).

        The audio engine's ``BargeIn`` already carries the position; otherwise the front end
        answers ``ClearPlayback`` with ``PlaybackCleared`` (the position read after the clear),
        which sends the cancel and truncate before anything emitted after the clear."""
        item = item_id or self._playing_item
        by_engine = reason == "engine"
        self._emit(ClearPlayback(item, done_by_engine=by_engine))
        if item:
            self._cut_items.add(item)
        self._awaiting_drain = False
        self._playing_item = None
        if by_engine or not self.has_player:
            self._reply_cut(reason, item, played_ms)
        else:
            self._clearing = reason
        if self.sm.state in (S.ASSISTANT_SPEAKING, S.THINKING):
            self._go(S.USER_SPEAKING if self._user_voice or self._talking else S.LISTENING)

    def _on_cleared(self, item: PlaybackCleared) -> None:
        reason, self._clearing = self._clearing or "clear", None
        self._reply_cut(reason, item.item_id, item.played_ms)

    def _reply_cut(self, reason: str, item: str | None, played_ms: int | None) -> None:
        """The reply ``item`` stopped after ``played_ms``: cancel, truncate, transcript."""
        heard = int(played_ms or 0)
        if item and item in self._received_ms:  # never claim more than was received
            heard = min(heard, round(self._received_ms[item]))
        self._emit(RecordMark("barge_in", f"{reason} {item} {played_ms}", self._now))
        if self.backend.provider != "gemini":
            if self._response_active and not self._cancel_sent:
                self._cancel_sent = True
                self._send(CancelResponse())
            if item and item not in self._truncated and heard > 0:
                self._truncated.add(item)
                self._send(Truncate(item_id=item, played_ms=heard))
        if item:
            received = round(self._received_ms.get(item, 0.0))
            self.transcript.assistant_interrupted(item, heard, received)
            self._turn_changed("assistant", item)

    def _annotate_latency(self, item_id: str) -> None:
        lat = self.latency.current
        if lat is None:
            return
        turn = self.transcript.annotate(item_id, latency=lat, detail=lat.describe())
        if turn is not None:
            self._emit(TurnUpdated(turn))

    # ------------------------------------------------------------------ provider events
    def _on_server_event(self, ev: RealtimeEvent) -> None:
        from app.core_server import on_server_event

        on_server_event(self, ev)
