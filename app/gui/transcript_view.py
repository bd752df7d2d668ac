"""Transcript: one bubble per turn, live partials, interrupted turns marked heard vs unheard.

GUI thread only. ``update_turn(turn)`` creates or updates the bubble with that ``turn_id``;
only that bubble is touched, so long conversations stay cheap. Each assistant bubble has a
detail line (latency, tokens, cost) and the full latency waterfall as its tooltip.
"""

from __future__ import annotations

import html
from datetime import datetime

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.model import Turn, TurnLatency


def format_ms(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms / 1000:.2f} s" if ms >= 1000 else f"{ms:.0f} ms"


def format_cost(cost: float | None, free: bool = False) -> str:
    if free:
        return "free (offline)"
    if cost is None:
        return "—"
    if cost == 0:
        return "free"
    return f"${cost:.4f}" if cost < 0.1 else f"${cost:.2f}"


def _since_speech_end_ms(lat: TurnLatency, t_ns: int | None) -> float | None:
    if lat.speech_end_ns is None or t_ns is None:
        return None
    return (t_ns - lat.speech_end_ns) / 1e6


def latency_tooltip(lat: TurnLatency) -> str:
    """The waterfall, each stage from the end of the user's speech."""
    return (
        "Latency from the end of your speech:\n"
        f"  turn closed: {format_ms(_since_speech_end_ms(lat, lat.commit_ns))}\n"
        f"  first reply byte: {format_ms(_since_speech_end_ms(lat, lat.first_byte_ns))}\n"
        f"  first audible sound: {format_ms(_since_speech_end_ms(lat, lat.first_audible_ns))}"
    )


def latency_parts(lat: TurnLatency) -> str:
    """The stages of a reply's latency, each named with its unit: "turn ended 120 ms + first
    byte 450 ms + to sound 250 ms" (a stage not measured is left out)."""
    named = (
        ("turn ended", lat.to_commit_ms),
        ("first byte", lat.to_first_byte_ms),
        ("to sound", lat.to_audible_ms),
    )
    return " + ".join(f"{name} {format_ms(ms)}" for name, ms in named if ms is not None)


def detail_line(turn: Turn) -> str:
    parts: list[str] = []
    if turn.latency is not None and turn.latency.total_ms is not None:
        stages = latency_parts(turn.latency)
        reply = f"reply in {format_ms(turn.latency.total_ms)}"
        parts.append(f"{reply} ({stages})" if stages else reply)
    if turn.usage is not None:
        parts.append(f"{turn.usage.input_tokens} in / {turn.usage.output_tokens} out tokens")
    if turn.cost_usd is not None:
        parts.append(format_cost(turn.cost_usd))
    if turn.interrupted:
        parts.insert(0, "interrupted")
    return " · ".join(parts)


def conversation_label(backend: str, when: datetime | None = None) -> str:
    """The divider above a new conversation: "New conversation · OpenAI · 14:05"."""
    at = (when or datetime.now()).strftime("%H:%M")
    return " · ".join(p for p in ("New conversation", backend, at) if p)


def capitalised(text: str) -> str:
    """``text`` with its first letter upper case when it starts lower case ("the mug…" →
    "The mug…"); leading spaces and quotes are kept."""
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :] if ch.islower() else text
        if not (ch.isspace() or ch in "\"'“‘«(¿¡"):
            return text
    return text


def turn_html(turn: Turn) -> str:
    """Heard text normally; unheard text greyed and struck through; a caret while partial; a
    backchannel ("mhm" over the reply, not a turn) wholly greyed and in italics."""
    if turn.backchannel:
        return f'<span style="color:#8a929e; font-style: italic;">{html.escape(turn.text)}</span>'
    heard, unheard = turn.heard_text, turn.unheard_text
    if turn.role == "assistant":  # shown capitalised; the transcript keeps what was said
        if heard:
            heard = capitalised(heard)
        elif unheard:
            unheard = capitalised(unheard)
    out = html.escape(heard)
    if unheard:
        out += (
            f' <span style="color:#8a929e; text-decoration: line-through;">'
            f"{html.escape(unheard)}</span>"
        )
    if turn.partial:
        out += ' <span style="color:#8a929e;">▍</span>'
    if not out:
        out = '<span style="color:#8a929e;">…</span>'
    return out


class TurnBubble(QFrame):
    """One turn: speaker name, text, detail line."""

    def __init__(self, turn: Turn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"bubble_{turn.role}")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 8)
        lay.setSpacing(2)
        self.who = QLabel("You" if turn.role == "user" else "Assistant")
        self.who.setObjectName("sectionTitle")
        self.body = QLabel()
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.detail = QLabel()
        self.detail.setObjectName("detail")
        self.detail.setWordWrap(True)
        lay.addWidget(self.who)
        lay.addWidget(self.body)
        lay.addWidget(self.detail)
        self.turn = turn
        self.set_turn(turn)

    def set_turn(self, turn: Turn) -> None:
        self.turn = turn
        self.body.setText(turn_html(turn))
        self.body.setAccessibleName(f"{self.who.text()}: {turn.heard_text}")
        d = detail_line(turn)
        self.detail.setText(d)
        self.detail.setVisible(bool(d))
        tip = latency_tooltip(turn.latency) if turn.latency is not None else ""
        if turn.unheard_text:
            tip = ("Struck-through text was generated but never heard.\n" + tip).strip()
        if turn.backchannel:
            tip = "Said over the reply as an acknowledgement: the reply went on; not a question."
        self.setToolTip(tip)


class _Column(QWidget):
    """The scrolled column of bubbles. Its height is its layout's height for the viewport's
    width: the default minimum size hint is the height at the narrowest width (every bubble
    wrapped to a few words a line), which made the column far taller than its bubbles, so
    "scrolled to the bottom" showed blank space under the newest bubble (issue 14, item 1)."""

    def minimumSizeHint(self) -> QSize:
        return QSize(0, 0)

    def sizeHint(self) -> QSize:
        lay = self.layout()
        w = self.width()
        if lay is None or w <= 0:
            return super().sizeHint()
        return QSize(w, lay.totalHeightForWidth(w))


class TranscriptView(QScrollArea):
    """Scrollable list of bubbles; sticks to the bottom while the user has not scrolled up."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Transcript")
        inner = _Column()
        inner.setObjectName("transcriptInner")
        self._layout = QVBoxLayout(inner)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self._layout.setSpacing(8)
        self._placeholder = QLabel("The conversation will appear here.")
        self._placeholder.setObjectName("muted")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(self._placeholder)
        self._layout.addStretch(1)
        self.setWidget(inner)
        self._bubbles: dict[str, TurnBubble] = {}
        self._rows: dict[str, QWidget] = {}
        self._order: list[str] = []
        #: Rows of earlier conversations and the dividers after them (kept, not updated).
        self._kept: list[QWidget] = []
        self._dividers: list[QLabel] = []
        self._stick = True
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().rangeChanged.connect(self._on_range)

    # ------------------------------------------------------------------ API
    def turns(self) -> list[Turn]:
        """The current conversation's turns (those above the last divider are kept, shown,
        and not counted)."""
        return [self._bubbles[t].turn for t in self._order]

    def dividers(self) -> list[str]:
        """The divider texts between conversations, oldest first."""
        return [d.text() for d in self._dividers]

    def start_conversation(self, label: str) -> None:
        """A new conversation starts (a connect, another backend): the turns shown so far stay,
        above a divider saying ``label``; turn ids start again below it (issue 14, item 11).
        Nothing is added while the current conversation has no turns."""
        if not self._order:
            if self._dividers and not self._kept:  # only a divider so far: relabel it
                self._dividers[-1].setText(label)
            return
        self._kept.extend(self._rows.values())
        self._rows.clear()
        self._bubbles.clear()
        self._order.clear()
        divider = QLabel(label)
        divider.setObjectName("conversationDivider")
        divider.setAlignment(Qt.AlignmentFlag.AlignCenter)
        divider.setAccessibleName(f"Conversation divider: {label}")
        self._dividers.append(divider)
        self._kept.append(divider)
        self._layout.insertWidget(self._layout.count() - 1, divider)

    def bubble(self, turn_id: str) -> TurnBubble | None:
        return self._bubbles.get(turn_id)

    def update_turn(self, turn: Turn) -> None:
        b = self._bubbles.get(turn.turn_id)
        if b is not None:
            b.set_turn(turn)
            return
        self._placeholder.hide()
        b = TurnBubble(turn)
        self._bubbles[turn.turn_id] = b
        self._order.append(turn.turn_id)
        # chat layout: your turns indented from the left, the assistant's from the right
        row = QWidget()
        row_l = QHBoxLayout(row)
        row_l.setContentsMargins(0, 0, 0, 0)
        if turn.role == "user":
            row_l.addSpacing(36)
        row_l.addWidget(b)
        if turn.role != "user":
            row_l.addSpacing(36)
        self._rows[turn.turn_id] = row
        # insert before the trailing stretch
        self._layout.insertWidget(self._layout.count() - 1, row)

    def set_turns(self, turns: tuple[Turn, ...] | list[Turn]) -> None:
        self.clear()
        for t in turns:
            self.update_turn(t)

    def clear(self) -> None:
        """Forget every conversation shown (a replay loads another session)."""
        for row in [*self._kept, *self._rows.values()]:
            self._layout.removeWidget(row)
            row.deleteLater()
        self._kept.clear()
        self._dividers.clear()
        self._rows.clear()
        self._bubbles.clear()
        self._order.clear()
        self._placeholder.show()

    # ------------------------------------------------------------------ scrolling
    def _on_scrolled(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._stick = value >= bar.maximum() - 24

    def _on_range(self, _lo: int, hi: int) -> None:
        if self._stick:
            self.verticalScrollBar().setValue(hi)
