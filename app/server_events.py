"""Provider events → conversation: the half of ``Conversation`` that reacts to the session.

A mixin of ``app.conversation.Conversation`` (same object, same engine thread); split out only to
keep modules small. Each branch names the provider-neutral event it handles (``realtime.events``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from app.state import ConversationState as S
from realtime.events import (
    AudioDelta,
    AudioDone,
    Closed,
    CommandRefused,
    GoAway,
    InputCommitted,
    InputTranscript,
    Interrupted,
    ProtocolViolation,
    Reconnected,
    Reconnecting,
    ResponseDone,
    ResponseStarted,
    ResumptionHandle,
    ServerError,
    SessionReady,
    SpeechStarted,
    SpeechStopped,
    TranscriptDelta,
    TranscriptDone,
    TurnComplete,
)

log = logging.getLogger("app.conversation")


#: Notices that a successful reconnect makes obsolete.
RECONNECT_NOTICE_PREFIXES = ("Connection lost", "The offline server stopped")


class ServerEvents:
    """Session-event handlers; relies on ``Conversation``'s state and on its helpers
    ``_go``, ``_record``, ``_barge_in``, ``_start_talk``, ``_frame_tick``, ``_is_playing`` and
    ``_reply_finished``."""

    # provided by Conversation
    session: Any
    spec: Any
    audio: Any
    frames: Any
    transcript: Any
    latency: Any
    cost: Any
    notify: Any
    options: Any
    sm: Any
    clock: Any
    _stop: Any
    _ready: bool
    _talking: bool
    _user_voice: bool
    _response_active: bool
    _cancel_sent: bool
    _awaiting_drain: bool
    _drain_ticks: int
    _last_status: str
    _playing_item: str | None
    _received_ms: dict[str, float]
    _played_audio: Any
    _cut_items: set[str]
    _deadline_ns: int | None
    time_left_s: float | None
    server_errors: list[ServerError]
    closed: Closed | None
    notice: str

    if TYPE_CHECKING:

        def _go(self, state: S, message: str = "") -> None: ...
        def _record(self, method: str, *args: Any) -> None: ...
        async def _barge_in(
            self, reason: str, item_id: str | None = None, played_ms: int | None = None
        ) -> None: ...
        async def _start_talk(self, t_ns: int) -> None: ...
        async def _frame_tick(self) -> None: ...
        def _is_playing(self) -> bool: ...
        def _reply_finished(self) -> None: ...

    async def _pump_events(self) -> None:
        assert self.session is not None
        async for ev in self.session.events():
            self._record("on_event", ev, self.clock())
            try:
                await self._on_event(ev)
            except Exception:  # one bad event must not end the conversation
                log.exception("handling %s failed", type(ev).__name__)
            if isinstance(ev, Closed):
                break

    async def _on_event(self, ev: Any) -> None:
        now = self.clock()
        if isinstance(ev, SessionReady):
            self._ready = True
            ready_hook = getattr(self.audio, "on_session_ready", None)
            if ready_hook is not None:  # a file "microphone" starts talking only now
                ready_hook()
            if self.spec.session_cap_s:
                self._deadline_ns = now + int(self.spec.session_cap_s * 1e9)
            self._go(S.LISTENING)
            if self._user_voice and self.options.client_vad_turns and not self._talking:
                await self._start_talk(now)
        elif isinstance(ev, SpeechStarted):  # the provider's VAD
            self.transcript.user_started(ev.item_id)
            self._turn_changed("user", ev.item_id)
            if self._is_playing() or self._playing_item:
                await self._barge_in(reason="server")
            self._go(S.USER_SPEAKING)
            if self.frames is not None:
                self.frames.speech_started(now)
                await self._frame_tick()
        elif isinstance(ev, SpeechStopped):
            self.latency.speech_ended(now, override=False)
            if self.frames is not None:
                self.frames.speech_stopped(now)
            self._go(S.THINKING)
        elif isinstance(ev, InputCommitted):
            self.latency.committed(now)
            if ev.item_id:
                self.transcript.user_started(ev.item_id)
            if self.sm.state in (S.USER_SPEAKING, S.LISTENING) and not self._talking:
                self._go(S.THINKING)
        elif isinstance(ev, InputTranscript):
            self.transcript.user_transcript(ev.text, ev.final, ev.item_id)
            self._turn_changed("user", ev.item_id)
        elif isinstance(ev, ResponseStarted):
            self._response_active = True
            self._cancel_sent = False
            self._awaiting_drain = False
            if self.sm.state in (S.LISTENING, S.USER_SPEAKING) and not self._talking:
                self._go(S.THINKING)
        elif isinstance(ev, AudioDelta):
            self._on_audio_delta(ev, now)
        elif isinstance(ev, AudioDone):
            end_item = getattr(self.audio, "end_item", None)
            if end_item is not None and ev.item_id not in self._cut_items:
                end_item(ev.item_id)
            if self._played_audio is not None:
                self._played_audio.complete(ev.item_id)
        elif isinstance(ev, TranscriptDelta):
            self.latency.first_byte(now, ev.item_id)
            self.transcript.assistant_delta(ev.item_id, ev.text)
            self._turn_changed("assistant", ev.item_id)
        elif isinstance(ev, TranscriptDone):
            self.transcript.assistant_done(ev.item_id, ev.text)
            self._turn_changed("assistant", ev.item_id)
        elif isinstance(ev, ResponseDone | TurnComplete):
            self._on_response_done(ev)
        elif isinstance(ev, Interrupted):
            if self._is_playing() or self._playing_item:
                await self._barge_in(reason="server")
        elif isinstance(ev, ServerError):
            self.server_errors.append(ev)
            self.notify("error_event", ev)
            log.warning("server error %s: %s", ev.code, ev.message)
            if ev.fatal:
                self._go(S.ERROR, f"The server reported an error: {ev.message}")
            else:
                self.notice = f"Server: {ev.message}"
                self.notify("notice", self.notice)
        elif isinstance(ev, CommandRefused):
            log.info("command refused locally: %s (%s)", ev.command, ev.reason)
            if ev.command in ("CommitInput", "ActivityEnd") and self.sm.state == S.THINKING:
                self.transcript.close_user_partials()
                self.transcript.drop_empty_user()
                self._go(S.LISTENING)
        elif isinstance(ev, GoAway):
            self._deadline_ns = now + ev.time_left_ms * 1_000_000
        elif isinstance(ev, ResumptionHandle):
            pass  # the reconnecting session keeps it
        elif isinstance(ev, Reconnecting):
            self._ready = False
            self.notice = self._reconnect_notice(ev)
            self.notify("notice", self.notice)
            self._go(S.RECONNECTING)
        elif isinstance(ev, Reconnected):
            self._ready = True
            if self.notice.startswith(RECONNECT_NOTICE_PREFIXES):
                self.notice = ""
                self.notify("notice", "")
            if self.spec.session_cap_s and not ev.resumed:  # a new session: a new cap
                self._deadline_ns = now + int(self.spec.session_cap_s * 1e9)
            self._go(S.LISTENING)
        elif isinstance(ev, ProtocolViolation):
            log.warning("protocol violation: %s", ev.reason)
        elif isinstance(ev, Closed):
            self._ready = False
            self.closed = ev
            if not ev.by_client and not self._stop.is_set():
                why = f" ({ev.reason})" if ev.reason else ""
                self._go(
                    S.ERROR,
                    f"The connection to {self.spec.name} closed unexpectedly "
                    f"(code {ev.code}){why}. Press start to reconnect.",
                )
        self._update_time_left(now)

    def _on_audio_delta(self, ev: AudioDelta, now: int) -> None:
        if ev.item_id in self._cut_items:
            return  # generated for a reply the user already cut off
        self.latency.first_byte(now, ev.item_id)
        prev_ms = self._received_ms.get(ev.item_id, 0.0)
        self._received_ms[ev.item_id] = prev_ms + len(ev.pcm) / 2 / ev.rate_hz * 1000
        self._playing_item = ev.item_id
        if self.audio is not None:
            self.audio.play(ev.item_id, ev.pcm, ev.rate_hz)
        if self._played_audio is not None:
            self._played_audio.received(ev.item_id, ev.pcm, ev.rate_hz)
        else:
            self._record("record_reply", now, ev.item_id, ev.rate_hz, round(prev_ms), ev.pcm)
        if self.sm.state != S.USER_SPEAKING or not self._talking:
            self._go(S.ASSISTANT_SPEAKING)

    def _on_response_done(self, ev: ResponseDone | TurnComplete) -> None:
        self._response_active = False
        self._cancel_sent = False
        status = ev.status if isinstance(ev, ResponseDone) else "completed"
        usage = ev.usage if isinstance(ev, ResponseDone) else None
        if usage is not None:
            usd = self.cost.add(usage)
            turn = self.transcript.annotate(
                self.latency.current.item_id if self.latency.current else "",
                usage=usage,
                cost_usd=None if not self.cost.known else usd,
            )
            self.notify("usage", (usage, usd))
            if turn is not None:
                self.notify("turn", turn)
        self.transcript.assistant_finished()
        self.transcript.close_user_partials()
        for t in self.transcript.turns()[-3:]:
            self.notify("turn", t)
        self._last_status = status
        if status in ("cancelled", "failed"):
            self._reply_finished() if not self._is_playing() else None
            if status == "failed":
                self.notice = "The model could not answer (response failed)."
                self.notify("notice", self.notice)
            return
        self._awaiting_drain = True
        self._drain_ticks = 0
        if self.audio is None:
            self._reply_finished()

    # ------------------------------------------------------------------ helpers
    def _turn_changed(self, role: str, item_id: str) -> None:
        turn = self.transcript.get(role, item_id) if item_id else None
        if turn is None:
            turns = [t for t in self.transcript.turns() if t.role == role]
            turn = turns[-1] if turns else None
        if turn is not None:
            self.notify("turn", turn)

    def _annotate_latency(self, item_id: str) -> None:
        lat = self.latency.current
        if lat is None:
            return
        turn = self.transcript.annotate(item_id, latency=lat, detail=lat.describe())
        if turn is not None:
            self.notify("turn", turn)

    def _update_time_left(self, now: int) -> None:
        if self._deadline_ns is None:
            return
        left = max(0.0, (self._deadline_ns - now) / 1e9)
        if self.time_left_s is None or abs(left - self.time_left_s) >= 1.0:
            self.time_left_s = left
            self.notify("time_left", left)

    def _reconnect_notice(self, ev: Reconnecting) -> str:
        """What the user is told while reconnecting: a crashed offline server says so."""
        server = getattr(self.spec, "server", None)
        crash = getattr(server, "recent_crash", lambda: "")() if server is not None else ""
        if crash:
            doing = "restarting it" if ev.attempt == 1 else f"reconnecting (attempt {ev.attempt})"
            return f"The offline server stopped unexpectedly ({crash}); {doing}…"
        return (
            f"Connection lost ({ev.reason}); "
            f"reconnecting in {ev.delay_s:.1f} s (attempt {ev.attempt})…"
        )
