"""``AssistantSnapshot``: everything observable about the assistant at one moment.

A frozen value the ``app.assistant.Assistant`` swaps under its lock, so ``snapshot()`` is
cheap and safe from any thread. ``first_snapshot`` is the value at the start of a conversation
(nothing said, nothing spent yet); ``after_event`` is the next value after the conversation
core reported ``event``, read from the core and the frame feed. Both are pure functions of
their arguments; ``after_event`` must run on the engine thread, where the core lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from app.core import ConversationCore
from app.frames import SentFrame
from app.latency import TurnLatency
from app.model import BudgetStatus, FrameSent, ModelEvent
from app.modes import Mode
from app.state import ConversationState
from app.transcript import Turn
from realtime.events import ServerError, Usage

__all__ = ["AssistantSnapshot", "after_event", "first_snapshot"]


@dataclass(frozen=True)
class AssistantSnapshot:
    """Everything observable about the assistant at one moment. Immutable; any thread."""

    state: ConversationState = ConversationState.IDLE
    error: str = ""
    notice: str = ""
    mode: Mode = Mode.HANDS_FREE
    camera_on: bool = False
    backend: str = ""
    model: str = ""
    turns: tuple[Turn, ...] = ()
    latency: tuple[TurnLatency, ...] = ()
    usage: Usage = field(default_factory=Usage)
    #: Session cost in USD; None when the model's price is unknown; 0.0 for free backends.
    cost_usd: float | None = 0.0
    cost_line: str = ""
    free: bool = False
    time_left_s: float | None = None
    completed_turns: int = 0
    #: Engine clock (monotonic ns) when the last completed reply finished playing.
    last_complete_ns: int = 0
    server_errors: tuple[ServerError, ...] = ()
    frames_sent: int = 0
    last_frame: SentFrame | None = None
    #: The spend limit's last reading (``app.core_budget``); None before a conversation.
    budget: BudgetStatus | None = None

    @property
    def connected(self) -> bool:
        return self.state.connected


def first_snapshot(
    core: ConversationCore, *, mode: Mode, camera_on: bool, backend: str, model: str, free: bool
) -> AssistantSnapshot:
    """The snapshot when a conversation starts on ``core`` (state idle, the cost line of no
    spend yet)."""
    spend = core.spend()
    return AssistantSnapshot(
        mode=mode,
        camera_on=camera_on,
        backend=backend,
        model=model,
        free=free,
        cost_line=spend.line,
        cost_usd=spend.cost_usd,
    )


def after_event(
    prev: AssistantSnapshot,
    core: ConversationCore,
    event: ModelEvent,
    sent_frames: tuple[SentFrame, ...],
) -> AssistantSnapshot:
    """``prev`` brought up to date with ``core`` after it reported ``event``; the frames sent
    so far are ``sent_frames`` (oldest first), and a ``FrameSent`` event counts one more."""
    spend = core.spend()
    return replace(
        prev,
        state=core.state,
        error=core.error,
        notice=core.notice,
        mode=core.mode,
        turns=core.turns(),
        latency=core.latencies(),
        usage=spend.usage,
        cost_usd=spend.cost_usd,
        cost_line=spend.line,
        time_left_s=core.time_left_s,
        completed_turns=core.completed_turns,
        last_complete_ns=core.last_complete_ns,
        server_errors=tuple(core.server_errors),
        frames_sent=prev.frames_sent + isinstance(event, FrameSent),
        last_frame=sent_frames[-1] if sent_frames else None,
        budget=core.budget_status,
    )
