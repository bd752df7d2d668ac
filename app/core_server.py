"""Provider events → ``ConversationCore``: the half of ``ConversationCore.handle`` that reacts to
the session (``realtime.events``). Pure, like the core; one function per concern, each taking
the core it works on (fully typed: no re-declared attributes). Each branch names the
provider-neutral event it handles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app import core_budget, core_mic, core_record, core_reply
from app.effects import EndPlaybackItem, MarkSpeech, Play, PollFrame, RecordUsage, StartInput
from app.model import ServerErrorReported, SpendChanged, TurnUpdated
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
    Reconnected,
    Reconnecting,
    ResponseDone,
    ResponseStarted,
    ServerError,
    SessionReady,
    SpeechStarted,
    SpeechStopped,
    TranscriptDelta,
    TranscriptDone,
    TurnComplete,
)
from realtime.events import Event as RealtimeEvent
from realtime.openai_vocab import ErrorCode

if TYPE_CHECKING:
    from app.core import ConversationCore

#: Notices that a successful reconnect makes obsolete.
RECONNECT_NOTICE_PREFIXES = ("Connection lost", "The offline server stopped")


def on_server_event(core: ConversationCore, ev: RealtimeEvent) -> None:
    """Apply one provider event to ``core`` (effects go to ``core``'s output)."""
    now = core._now
    if isinstance(ev, SessionReady):
        core.ready = True
        core._emit(StartInput())
        if core.backend.session_cap_s:
            core._deadline_ns = now + int(core.backend.session_cap_s * 1e9)
        if core.sm.state in (S.CONNECTING, S.RECONNECTING):
            core._go(S.LISTENING)
        core_budget.session_ready(core)
        if core._user_voice and core.options.client_vad_turns and not core._talking:
            core_mic.start_talk(core, now)
    elif isinstance(ev, SpeechStarted):  # the provider's VAD
        core_record.speech_started(core, now)
        core.transcript.user_started(ev.item_id)
        core._turn_changed("user", ev.item_id)
        if core._playing() or core._playing_item:
            core_reply.barge_in(core, "server")
        core._turn_move(S.USER_SPEAKING)
        core._emit(MarkSpeech(True, now))
        if core.ready:
            core._emit(PollFrame())
    elif isinstance(ev, SpeechStopped):
        core.latency.speech_ended(now, override=False)
        core_record.speech_ended(core, now)
        core._emit(MarkSpeech(False, now))
        core._turn_move(S.THINKING)
    elif isinstance(ev, InputCommitted):
        core.latency.committed(now)
        core_record.speech_ended(core, now)
        core_record.committed(core, ev.item_id)
        if ev.item_id:
            core.transcript.user_started(ev.item_id)
        if core.sm.state in (S.USER_SPEAKING, S.LISTENING) and not core._talking:
            core._go(S.THINKING)
    elif isinstance(ev, InputTranscript):
        core.transcript.user_transcript(ev.text, ev.final, ev.item_id)
        core._turn_changed("user", ev.item_id)
    elif isinstance(ev, ResponseStarted):
        core._response_active = True
        core._cancel_sent = False
        core._awaiting_drain = False
        if core.sm.state in (S.LISTENING, S.USER_SPEAKING) and not core._talking:
            core._go(S.THINKING)
    elif isinstance(ev, AudioDelta):
        _on_audio_delta(core, ev)
    elif isinstance(ev, AudioDone):
        core._emit(EndPlaybackItem(ev.item_id, cut=ev.item_id in core._cut_items))
    elif isinstance(ev, TranscriptDelta):
        core.latency.first_byte(now, ev.item_id)
        core._first_byte_ns.setdefault(ev.item_id, now)
        core.transcript.assistant_delta(ev.item_id, ev.text)
        core._turn_changed("assistant", ev.item_id)
    elif isinstance(ev, TranscriptDone):
        core.transcript.assistant_done(ev.item_id, ev.text)
        core._turn_changed("assistant", ev.item_id)
    elif isinstance(ev, ResponseDone | TurnComplete):
        _on_response_done(core, ev)
    elif isinstance(ev, Interrupted):
        if core._playing() or core._playing_item:
            core_reply.barge_in(core, "server")
    elif isinstance(ev, ServerError):
        core.server_errors.append(ev)
        core._emit(ServerErrorReported(ev))
        if ev.fatal:
            core._go(S.ERROR, f"The server reported an error: {ev.message}")
        elif ev.code not in ErrorCode.EXPECTED_RACES:  # e.g. a cancel after the reply ended
            core._set_notice(f"Server: {ev.message}")
    elif isinstance(ev, CommandRefused):
        if ev.command in ("CommitInput", "ActivityEnd") and core.sm.state == S.THINKING:
            core.transcript.close_user_partials()
            core.transcript.drop_empty_user()
            core._go(S.LISTENING)
    elif isinstance(ev, GoAway):
        core._deadline_ns = now + ev.time_left_ms * 1_000_000
    elif isinstance(ev, Reconnecting):
        core.ready = False
        core._set_notice(_reconnect_notice(core, ev))
        if core.sm.state.connected or core.sm.state in (S.CONNECTING, S.RECONNECTING):
            core._go(S.RECONNECTING)
    elif isinstance(ev, Reconnected):
        core.ready = True
        if core.notice.startswith(RECONNECT_NOTICE_PREFIXES):
            core._set_notice("")
        if core.backend.session_cap_s and not ev.resumed:  # a new session: a new cap
            core._deadline_ns = now + int(core.backend.session_cap_s * 1e9)
        if core.sm.state == S.RECONNECTING or core.sm.state.connected:
            core._go(S.LISTENING)
    elif isinstance(ev, Closed):
        core.ready = False
        core.closed = ev
        if not ev.by_client and not core._stopping:
            why = f" ({ev.reason})" if ev.reason else ""
            core._go(
                S.ERROR,
                f"The connection to {core.backend.name} closed unexpectedly "
                f"(code {ev.code}){why}. Press start to reconnect.",
            )
    # ProtocolViolation, ResumptionHandle, SessionUpdated …: nothing to do here (the front end
    # logs violations; the reconnecting session keeps the resumption handle).


def _on_audio_delta(core: ConversationCore, ev: AudioDelta) -> None:
    if ev.item_id in core._cut_items:
        return  # generated for a reply the user already cut off
    core.latency.first_byte(core._now, ev.item_id)
    core._first_byte_ns.setdefault(ev.item_id, core._now)
    prev_ms = core._received_ms.get(ev.item_id, 0.0)
    core._received_ms[ev.item_id] = prev_ms + len(ev.pcm) / 2 / ev.rate_hz * 1000
    core._playing_item = ev.item_id
    core._emit(Play(ev, round(prev_ms)))
    if core.sm.state != S.USER_SPEAKING or not core._talking:
        core._turn_move(S.ASSISTANT_SPEAKING)


def _on_response_done(core: ConversationCore, ev: ResponseDone | TurnComplete) -> None:
    core._response_active = False
    core._cancel_sent = False
    status = ev.status if isinstance(ev, ResponseDone) else "completed"
    usage = ev.usage if isinstance(ev, ResponseDone) else None
    if usage is not None:
        usd = core.cost.add(usage)
        current = core.latency.current
        turn = core.transcript.annotate(
            current.item_id if current else "",
            usage=usage,
            cost_usd=None if not core.cost.known else usd,
        )
        core._emit(SpendChanged(core.spend()))
        if turn is not None:
            core._emit(TurnUpdated(turn))
        response_id = ev.response_id if isinstance(ev, ResponseDone) else ""
        cost = usd if core.cost.known else None
        core._emit(RecordUsage(usage, response_id, cost, core._now))
        core_budget.response_done(core, usage)
    core.transcript.assistant_finished()
    core.transcript.close_user_partials()
    core_record.user_turns(core)  # (Gemini's user turns end here) before their times reset
    core_record.response_over(core)
    for t in core.transcript.turns()[-3:]:
        core._emit(TurnUpdated(t))
    core._last_status = status
    if status in ("cancelled", "failed"):
        if not core._playing():
            core_reply.reply_finished(core)
        if status == "failed":
            core._set_notice("The model could not answer (response failed).")
        return
    core._awaiting_drain = True
    core._drain_ticks = 0
    if not core.has_player:
        core_reply.reply_finished(core)


def _reconnect_notice(core: ConversationCore, ev: Reconnecting) -> str:
    """What the user is told while reconnecting: a crashed offline server says so."""
    crash, core._crash = core._crash, ""
    if crash:
        doing = "restarting it" if ev.attempt == 1 else f"reconnecting (attempt {ev.attempt})"
        return f"The offline server stopped unexpectedly ({crash}); {doing}…"
    return (
        f"Connection lost ({ev.reason}); reconnecting in {ev.delay_s:.1f} s (attempt {ev.attempt})…"
    )
