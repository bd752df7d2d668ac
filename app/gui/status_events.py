"""The model events that only update widgets, with no window state behind them: the transcript,
the status bar's latency, spend, time left and notices, and the sent-frames strip.

GUI thread only. ``MainWindow.apply_events`` offers each (already scrubbed) event here first and
handles the rest itself (state, loading, recording, budget, camera).
"""

from __future__ import annotations

from app.core_budget import frame_cost_text
from app.gui.layout import MainWindowUi
from app.gui.transcript_view import conversation_label, latency_parts
from app.model import (
    FrameSent,
    ModelEvent,
    NoticeChanged,
    SpendChanged,
    TimeLeftChanged,
    TranscriptReset,
    TurnUpdated,
)

#: How long a notice stays in the status bar (ms) unless a newer one replaces it.
NOTICE_SHOWN_MS = 8000


def show_on_widgets(ui: MainWindowUi, event: ModelEvent) -> bool:
    """Show ``event`` on the widgets it concerns; False when it is not one of these events."""
    if isinstance(event, TurnUpdated):
        turn = event.turn
        ui.transcript.update_turn(turn)
        if turn.role == "assistant" and turn.latency is not None:
            ui.status.set_latency_ms(turn.latency.total_ms, latency_parts(turn.latency))
    elif isinstance(event, TranscriptReset):  # earlier conversations stay (issue 14)
        ui.transcript.start_conversation(conversation_label(ui.backend_box.currentText()))
    elif isinstance(event, SpendChanged):
        ui.status.set_spend(event.spend)
    elif isinstance(event, TimeLeftChanged):
        ui.status.set_time_left(event.seconds)
    elif isinstance(event, FrameSent):  # decoded on the strip's worker
        cost = frame_cost_text(event.cost_usd, event.free)
        ui.thumbs.add_jpeg(event.frame.jpeg, event.frame.snapshot, cost)
    elif isinstance(event, NoticeChanged):
        if event.message:
            ui.status.showMessage(event.message, NOTICE_SHOWN_MS)
        else:
            ui.status.clearMessage()
    else:
        return False
    return True
