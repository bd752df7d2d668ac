"""The reply half of ``ConversationCore``: the reply playing out, its end, and barge-in with
truncation to what was heard. Pure functions over the core they are given; see ``app.core``
for the contract and the barge-in rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app import core_record
from app.effects import ClearPlayback, PlaybackCleared, RecordMark
from app.model import TurnCompleted, TurnUpdated
from app.state import ConversationState as S
from realtime.events import CancelResponse, Truncate

if TYPE_CHECKING:
    from app.core import ConversationCore

#: Ticks without playback after a finished response before the reply counts as played out.
DRAIN_TICKS = 2


def check_playback(core: ConversationCore) -> None:
    """Latency's audible mark; the end of the reply once the response is done and drained."""
    if not core.has_player:
        return
    item = core.latency.waiting_for_audible
    if item:
        t = core._player.first_audible_ns.get(item)
        if t is not None:
            core.latency.audible(t)
            annotate_latency(core, item)
    if core._awaiting_drain:
        if core._player.playing:
            core._drain_ticks = 0
        else:
            core._drain_ticks += 1
            if core._drain_ticks >= DRAIN_TICKS:
                reply_finished(core)


def reply_finished(core: ConversationCore) -> None:
    core._awaiting_drain = False
    core._playing_item = None
    item = core.latency.waiting_for_audible
    if item and core.has_player:
        core.latency.audible(core._player.first_audible_ns.get(item))
        annotate_latency(core, item)
    core_record.replies(core, core._last_status or "completed")
    if core._last_status == "completed":
        core.completed_turns += 1
        core.last_complete_ns = core._now
        core._emit(TurnCompleted(core.completed_turns, core._now))
    if core.sm.state in (S.ASSISTANT_SPEAKING, S.THINKING):
        core._go(S.USER_SPEAKING if core._talking else S.LISTENING)


def barge_in(
    core: ConversationCore, reason: str, item_id: str | None = None, played_ms: int | None = None
) -> None:
    """Stop the reply now; tell the server what was heard (see the module docstring).

    The audio engine's ``BargeIn`` already carries the position; otherwise the front end
    answers ``ClearPlayback`` with ``PlaybackCleared`` (the position read after the clear),
    which sends the cancel and truncate before anything emitted after the clear."""
    item = item_id or core._playing_item
    by_engine = reason == "engine"
    core._emit(ClearPlayback(item, done_by_engine=by_engine))
    if item:
        core._cut_items.add(item)
    core._awaiting_drain = False
    core._playing_item = None
    if by_engine or not core.has_player:
        reply_cut(core, reason, item, played_ms)
    else:
        core._clearing = reason
    if core.sm.state in (S.ASSISTANT_SPEAKING, S.THINKING):
        core._go(S.USER_SPEAKING if core._user_voice or core._talking else S.LISTENING)


def on_cleared(core: ConversationCore, item: PlaybackCleared) -> None:
    reason, core._clearing = core._clearing or "clear", None
    reply_cut(core, reason, item.item_id, item.played_ms)


def reply_cut(core: ConversationCore, reason: str, item: str | None, played_ms: int | None) -> None:
    """The reply ``item`` stopped after ``played_ms``: cancel, truncate, transcript."""
    heard = int(played_ms or 0)
    if item and item in core._received_ms:  # never claim more than was received
        heard = min(heard, round(core._received_ms[item]))
    core._emit(RecordMark("barge_in", f"{reason} {item} {played_ms}", core._now))
    if core.backend.provider != "gemini":
        if core._response_active and not core._cancel_sent:
            core._cancel_sent = True
            core._send(CancelResponse())
        if item and item not in core._truncated and heard > 0:
            core._truncated.add(item)
            core._send(Truncate(item_id=item, played_ms=heard))
    if item:
        received = round(core._received_ms.get(item, 0.0))
        core.transcript.assistant_interrupted(item, heard, received)
        core._turn_changed("assistant", item)
        if not core._response_active:  # its response is over: so is the reply
            core_record.replies(core, core._last_status or "completed")


def annotate_latency(core: ConversationCore, item_id: str) -> None:
    lat = core.latency.current
    if lat is None:
        return
    turn = core.transcript.annotate(item_id, latency=lat, detail=lat.describe())
    if turn is not None:
        core._emit(TurnUpdated(turn))
