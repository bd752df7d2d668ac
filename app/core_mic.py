"""The microphone half of ``ConversationCore``: the mic's audio, local voice activity and the
talk control (push-to-talk, toggle). Pure functions over the core they are given (its state, its
effects); see ``app.core`` for the contract."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app import core_budget, core_record, core_reply
from app.effects import MarkSpeech, PressTalk, RecordMic
from app.model import Mode
from app.state import ConversationState as S
from audio.events import MicAudio
from realtime.events import ActivityEnd, ActivityStart, AppendAudio

if TYPE_CHECKING:
    from app.core import ConversationCore


def on_talk(core: ConversationCore, pressed: bool, now: int) -> None:
    if core.mode in (Mode.PUSH_TO_TALK, Mode.TOGGLE):
        core._emit(PressTalk(pressed))
    if core.mode == Mode.PUSH_TO_TALK:
        if pressed and not core._talking:
            start_talk(core, now)
        elif not pressed and core._talking:
            end_talk(core, now)
    elif core.mode == Mode.TOGGLE and pressed:
        if core._talking:
            end_talk(core, now)
        else:
            start_talk(core, now)


def mic_open(core: ConversationCore) -> bool:
    if core.mode == Mode.MUTE or core_budget.stopped(core):
        return False
    if core.mode == Mode.HANDS_FREE and not core.options.client_vad_turns:
        return True  # the provider's VAD listens to everything
    return core._talking


def append(core: ConversationCore, pcm: bytes) -> AppendAudio:
    return AppendAudio(pcm=pcm, rate_hz=core.backend.input_rate_hz)


def on_mic(core: ConversationCore, ev: MicAudio) -> None:
    core._emit(RecordMic(ev.pcm16_16k, 16000, ev.t_ns))
    if not core.ready:
        return
    if mic_open(core):
        core._send(append(core, ev.pcm16_send))
    elif core.mode != Mode.MUTE:
        core._preroll.push(ev.pcm16_send)


def on_voice_started(core: ConversationCore, t_ns: int) -> None:
    core._user_voice = True
    if core.mode == Mode.MUTE or not core.ready:
        return  # (a voice still going on when the session gets ready opens a turn then)
    if core.mode == Mode.HANDS_FREE:
        if core._playing():
            core_reply.barge_in(core, "voice")
        if core_budget.stopped(core):
            return  # the spend limit is reached: no voice turn (app.core_budget)
        if core.options.client_vad_turns and not core._talking:
            start_talk(core, t_ns)
        elif not core.options.client_vad_turns:
            core_record.speech_started(core, t_ns)  # earlier than the provider's own start
            core._emit(MarkSpeech(True, t_ns))


def on_voice_stopped(core: ConversationCore, t_ns: int) -> None:
    core._user_voice = False
    if core.options.client_vad_turns and core.mode == Mode.HANDS_FREE and core._talking:
        end_talk(core, t_ns)
    elif core.mode == Mode.HANDS_FREE and core.ready:
        core.latency.speech_ended(t_ns)
        core_record.speech_ended(core, t_ns)
        core._emit(MarkSpeech(False, t_ns))


def start_talk(core: ConversationCore, t_ns: int) -> None:
    if not core_budget.turn_allowed(core):
        return  # the spend limit is reached: the notice says so (app.core_budget)
    if core._playing() or core._response_active:
        core_reply.barge_in(core, "talk")
    core._talking = True
    core_record.speech_started(core, t_ns)
    core.transcript.user_started()
    core._turn_changed("user", "")
    core._send(ActivityStart())
    pre = core._preroll.drain()
    if pre and core.options.client_vad_turns:
        core._send(append(core, pre))
    core._turn_move(S.USER_SPEAKING)
    core._emit(MarkSpeech(True, t_ns))
    core._poll_frame()


def end_talk(core: ConversationCore, t_ns: int) -> None:
    core._talking = False
    core_record.speech_ended(core, t_ns)
    core._emit(MarkSpeech(False, t_ns))
    core.latency.speech_ended(t_ns)
    core._send(ActivityEnd())
    core.latency.committed(core._now)
    core._turn_move(S.THINKING)
