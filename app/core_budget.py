"""The spend-limit half of ``ConversationCore``: what audio and frames cost, and when to stop.

Pure functions over the core they are given (like ``app.core_record``); the arithmetic is
``realtime.budget.BudgetMeter`` (``core.budget``), the day's earlier spend comes from the front
end (``realtime.spend_store``, read when the conversation starts). See ``app.core`` for the
contract.

What the core does with it:

* every frame and every second of speech sent is counted (``frame_sent`` / ``media_allowed``;
  silence streamed to the provider's own detector is not: it drops it); each response's usage
  is spent (``response_done``), and its cost is handed to the front end as ``AddDaySpend`` so
  the day's total survives restarts;
* the next turn is estimated (re-billed context + media since the last response + an average
  reply) whenever something was sent or answered, and before a user turn opens
  (``turn_allowed``). ``BudgetChanged`` is published on each change of level (``warning``
  from 80 % of a budget, ``stopped`` once the next turn would pass 100 %) and, with a budget
  set, when the session is ready and after each answer (new figures);
* ``stopped``: no audio and no frames go out (frames are still recorded, as not sent), no voice
  turn opens, a turn being spoken is dropped unanswered (OpenAI: the uncommitted audio is
  cleared; Gemini cannot drop audio it has, so its turn is closed and answered as it is),
  and the user is told in a notice. Typed text still goes (without a frame); the
  recording goes on. Raising a limit (``SetBudget``) lets media go again;
* an unknown price with a budget set is ``unknown``: never counted as $0, and nothing is
  blocked (the limit cannot be checked); the front ends say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.effects import AddDaySpend, MarkSpeech
from app.model import BudgetChanged
from app.pricing import CostMeter
from app.state import ConversationState as S
from realtime.budget import BudgetLevel, BudgetMeter, BudgetStatus, Limits, rates_for
from realtime.events import AppendAudio, AudioStreamEnd, ClearInput, Command, Usage

if TYPE_CHECKING:
    from app.core import ConversationCore

__all__ = [
    "budget_figure",
    "frame_cost_text",
    "frame_sent",
    "media_allowed",
    "new_meter",
    "response_done",
    "session_ready",
    "set_limits",
    "stopped",
    "turn_allowed",
]


def new_meter(
    cost: CostMeter, provider: str, limits: Limits | None = None, day_spent_usd: float = 0.0
) -> BudgetMeter:
    """The meter for a conversation priced by ``cost`` (its model's price: free, known or
    ``None`` = unknown) with ``limits`` (none by default) and the day's earlier spend."""
    return BudgetMeter(
        limits or Limits(), cost.price, rates_for(provider), day_spent_usd=day_spent_usd
    )


def stopped(core: ConversationCore) -> bool:
    """The budget is reached: no audio or frames are sent."""
    return core.budget_status.level is BudgetLevel.STOPPED


# ---------------------------------------------------------------------- what was sent


def media_allowed(core: ConversationCore, cmd: Command) -> bool:
    """Called for each command before it is sent: False drops it (audio or a frame while
    stopped). Counts the seconds of speech sent (a turn is open, or the local voice detector
    hears the user while the provider's detector listens to everything); the chunk that
    reaches the limit is not sent."""
    if not isinstance(cmd, AppendAudio):
        return True  # frames are counted by frame_sent; text and control always go
    if stopped(core):
        return False
    if cmd.rate_hz <= 0 or not (core._talking or core._user_voice):
        return True  # the provider's detector drops silence: it is not billed as a turn
    core.budget.audio_sent(len(cmd.pcm) / 2 / cmd.rate_hz)
    return not stopped(_check(core))


def frame_sent(core: ConversationCore, snapshot: bool) -> float | None:
    """Count one frame about to be sent; returns what it adds to this turn (``None``:
    unknown price) and re-checks the limit (the frame that reaches it is not sent)."""
    usd = core.budget.frame_sent(snapshot)
    _check(core)
    return usd


def response_done(core: ConversationCore, usage: Usage) -> None:
    """A response's usage: spend it (and add it to the day's total), then re-estimate."""
    usd = core.budget.response_done(usage)
    if usd:
        core._emit(AddDaySpend(usd))
    _check(core, publish=core.budget.limits.any)


def turn_allowed(core: ConversationCore) -> bool:
    """Before a user voice turn opens (the response it asks for is the next turn)."""
    return not stopped(_check(core))


def session_ready(core: ConversationCore) -> None:
    """The session is ready: say where the budget stands (a day's budget may already be
    spent, or the price unknown)."""
    _check(core, publish=core.budget.limits.any)


def set_limits(core: ConversationCore, limits: Limits) -> None:
    """New limits from Settings: re-check at once (raising a reached limit resumes)."""
    core.budget.set_limits(limits)
    _check(core, publish=True)


# ---------------------------------------------------------------------- levels


def _check(core: ConversationCore, publish: bool = False) -> ConversationCore:
    """Read the meter; on a change of level (or ``publish``) emit ``BudgetChanged`` and act."""
    status = core.budget.status()
    before = core.budget_status
    core.budget_status = status
    if status.level is before.level and not publish:
        return core
    core._emit(BudgetChanged(status))
    was, now = before.level is BudgetLevel.STOPPED, status.level is BudgetLevel.STOPPED
    if now and not was:
        _stop_media(core, status)
    elif was and not now and core.notice == before.message:
        core._set_notice("")  # a raised limit: media go again
    return core


def _stop_media(core: ConversationCore, status: BudgetStatus) -> None:
    """The limit is reached: end a turn being spoken (unanswered where the provider can drop
    its audio), say so."""
    core._preroll.drain()
    if core._talking and core.backend.provider == "gemini":
        # Gemini cannot drop audio it has received, and a manual activity left open has no
        # defined end (typed text would wait on it): the turn is closed, answered as it is.
        from app.core_mic import end_talk

        end_talk(core, core._now)
    elif core._talking:  # its audio goes unanswered (nothing asks for the response)
        core._talking = False
        core._emit(MarkSpeech(False, core._now))
        core.transcript.drop_open_user()
        core.transcript.close_user_partials()
        core._turn_changed("user", "")
        if core.sm.state == S.USER_SPEAKING:
            core._turn_move(S.LISTENING)
    if core.ready:  # OpenAI: audio appended but not committed is dropped; Gemini: its
        # automatic detector is told the stream paused (as on mute)
        core._send(AudioStreamEnd() if core.backend.provider == "gemini" else ClearInput())
    core._set_notice(status.message)


# ---------------------------------------------------------------------- words


def budget_figure(status: BudgetStatus) -> str:
    """Where the budget stands, in a few words ("" without a budget): the window's status bar
    and the CLI's last line."""
    level = status.level
    if level is BudgetLevel.NONE:
        return ""
    if level is BudgetLevel.UNKNOWN:
        return "Budget: price unknown"
    if level is BudgetLevel.STOPPED:
        return f"Budget reached ({status.which})"
    return f"Budget: {status.fraction:.0%} of ${status.limit_usd or 0.0:.2f} ({status.which})"


def frame_cost_text(cost_usd: float | None, free: bool) -> str:
    """What a frame cost, for the sent-frames strip's tooltip."""
    if free:
        return "free (runs on this computer)"
    if cost_usd is None:
        return "cost unknown (no price for this model)"
    return f"${cost_usd:.4f} this turn, billed again on every later turn"
