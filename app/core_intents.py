"""The user's side of ``ConversationCore`` besides the microphone: the talk mode (mute
included), typed messages, frames, and the offline models' loading progress.

Pure functions over the core they are given (its state, its effects), like ``app.core_mic``;
called from ``ConversationCore.handle`` only. See ``app.core`` for the contract.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from app import core_budget, core_mic, core_record, core_reply
from app.effects import FrameReady, LoadingProgress, MarkSpeech, RecordFrame, SetAudioMode
from app.model import FrameSent, LoadingChanged, Mode, ModeChanged
from app.state import ConversationState as S
from realtime.events import AppendImage, AudioStreamEnd, SendText, UpdateSession

if TYPE_CHECKING:
    from app.core import ConversationCore

__all__ = ["on_frame", "on_loading", "on_text", "set_mode"]


def on_loading(core: ConversationCore, item: LoadingProgress) -> None:
    """Offline models loading: published, and ``connecting`` ↔ ``loading`` follows it."""
    loading = item.loading
    core._emit(LoadingChanged(loading))
    if not loading.done and core.sm.state == S.CONNECTING:
        core._go(S.LOADING)
    elif loading.done and core.sm.state == S.LOADING:
        core._go(S.CONNECTING)


def set_mode(core: ConversationCore, mode: Mode) -> None:
    """Switch the talk mode (mute remembers the mode to return to). A held talk press ends
    first; the provider's turn detection is switched on or off when the change needs it."""
    old = core.mode
    if mode == old:
        return
    if mode == Mode.MUTE:
        core._mode_before_mute = old
    if core._talking:
        core_mic.end_talk(core, core._now)
    core.mode = mode
    core._emit(SetAudioMode(mode))
    if mode == Mode.MUTE:
        core._send(AudioStreamEnd())
    was_server = old == Mode.HANDS_FREE and core.options.turn_detection != "client"
    now_server = mode == Mode.HANDS_FREE and core.options.turn_detection != "client"
    if was_server != now_server:
        opts = replace(core.options, mode=mode)
        core._send(UpdateSession(opts.session_config(core.backend.model)))
    core.options = replace(core.options, mode=mode)
    core._emit(ModeChanged(mode))


def on_text(core: ConversationCore, text: str, now: int) -> None:
    """A typed message: interrupts a reply, takes a fresh frame along, counts as a user turn
    that is committed at once, and asks for a response."""
    text = text.strip()
    if not text:
        return
    if core._playing() or core._response_active:
        core_reply.barge_in(core, "text")
    # a typed question gets a fresh frame too, sent first
    core._emit(MarkSpeech(True, now))
    core._poll_frame()
    core._emit(MarkSpeech(False, now))
    core.transcript.user_typed(text)
    core_record.speech_started(core, now)
    core_record.speech_ended(core, now)
    core._turn_changed("user", "")
    core.latency.speech_ended(now)
    core.latency.committed(now)
    core._send(SendText(text=text, respond=True))
    core._turn_move(S.THINKING)


def on_frame(core: ConversationCore, item: FrameReady) -> None:
    """A frame the feed made ready: sent and recorded, or (spend limit reached) recorded as
    not sent. Ignored before the session is ready."""
    if not core.ready:
        return
    f = item.frame
    cost_usd = None if core_budget.stopped(core) else core_budget.frame_sent(core, f.snapshot)
    if core_budget.stopped(core):  # the spend limit is reached: recorded, not sent
        core._emit(RecordFrame(f.jpeg, f.sent_ns, False, "spend-limit"))
        return
    core._send(AppendImage(jpeg=f.jpeg, detail=f.detail))
    core._emit(RecordFrame(f.jpeg, f.sent_ns, True, str(f.reason)))
    core._emit(FrameSent(f, cost_usd, core.cost.free))
