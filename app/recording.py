"""Performing the conversation core's ``Record…`` effects on a ``RecorderPort``.

Every front end of ``app.core.ConversationCore`` that records (the engine-thread
``app.conversation.Conversation``, ``voicecam rerun``) hands each recording effect to
``perform_record``: one mapping from effect to recorder method, one argument order.
"""

from __future__ import annotations

from app.effects import (
    Record,
    RecordFrame,
    RecordLatency,
    RecordMark,
    RecordMic,
    RecordTurn,
    RecordUsage,
)
from app.ports import RecorderPort


def perform_record(rec: RecorderPort, effect: Record) -> None:
    """Call the recorder method ``effect`` stands for (may raise only if ``rec`` breaks its
    contract; callers guard)."""
    if isinstance(effect, RecordMic):
        rec.record_mic(effect.pcm16, effect.rate_hz, effect.t_ns)
    elif isinstance(effect, RecordFrame):
        rec.record_frame(effect.jpeg, effect.t_ns, effect.sent, effect.reason)
    elif isinstance(effect, RecordTurn):
        rec.record_turn(
            effect.role,
            effect.text,
            effect.t_ns,
            effect.item_id,
            t_start_ns=effect.t_start_ns,
            t_end_ns=effect.t_end_ns,
            source=effect.source,
            status=effect.status,
        )
    elif isinstance(effect, RecordLatency):
        rec.record_latency(effect.item_id, effect.metric, effect.value_ms, effect.t_ns)
    elif isinstance(effect, RecordUsage):
        rec.record_usage(
            effect.usage, effect.t_ns, response_id=effect.response_id, cost_usd=effect.cost_usd
        )
    elif isinstance(effect, RecordMark):
        rec.record_mark(effect.kind, effect.detail, effect.t_ns)
