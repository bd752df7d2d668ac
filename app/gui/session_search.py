"""The Sessions browser's search: a box, and the hits (session, time, speaker, snippet).

Typing searches every recorded session (``app.session_search``, SQLite FTS5) on a worker,
250 ms after the last key; an older search's answer arriving late is ignored. Activating a hit
(Enter, double-click) emits ``open_hit(path, t_ms)``: the browser replays that session from
the moment the words were said. GUI thread only.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.tasks import TaskRunner
from app.session_search import (
    MARK_END,
    MARK_START,
    SessionHit,
    clock,
    local_time,
    search_sessions,
)

__all__ = ["SessionSearch", "hit_html"]

DEBOUNCE_MS = 250


def hit_html(hit: SessionHit) -> str:
    """One hit as rich text: date and time in the session, speaker, the snippet with the
    matched words in bold (the text itself escaped)."""
    snippet = html.escape(hit.snippet)
    snippet = snippet.replace(MARK_START, "<b>").replace(MARK_END, "</b>")
    when = local_time(hit.started_at)
    typed = " (typed)" if hit.typed else ""
    title = f" · {html.escape(hit.title)}" if hit.title else ""
    return (
        f"<span style='color: gray'>{html.escape(when)}{title} · at {clock(hit.t_ms)}</span>"
        f"<br>{hit.speaker}{typed}: {snippet}"
    )


class SessionSearch(QWidget):
    """Search box + hits (see module docstring)."""

    open_hit = Signal(str, float)  # session file, ms into the session
    searched = Signal(int)  # number of hits shown

    def __init__(self, folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = folder
        self.tasks = TaskRunner(self)
        self.hits: list[SessionHit] = []
        self._seq = 0
        self.box = QLineEdit()
        self.box.setPlaceholderText("Search what was said or typed in every session…")
        self.box.setAccessibleName("Search sessions")
        self.box.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setAccessibleName("Search results")
        self.results.itemActivated.connect(self._activated)
        self.results.setVisible(False)
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        self.summary.setVisible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.box)
        lay.addWidget(self.summary)
        lay.addWidget(self.results, 1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.search_now)
        self.box.textChanged.connect(lambda _t: self.timer.start())
        self.box.returnPressed.connect(self.search_now)

    def search_now(self) -> None:
        """Search for the box's text now (an empty box hides the results)."""
        self.timer.stop()
        query = self.box.text().strip()
        self._seq += 1
        seq = self._seq
        if not query:
            self._show(seq, query, [])
            return
        folder = self.folder
        self.summary.setText("Searching…")
        self.summary.setVisible(True)
        self.tasks.submit(
            lambda: search_sessions(folder, query),
            lambda hits: self._show(seq, query, hits),
            lambda msg: self._failed(seq, msg),
        )

    def _show(self, seq: int, query: str, hits: list[SessionHit]) -> None:
        if seq != self._seq:
            return  # a newer search is on its way
        self.hits = hits
        self.results.clear()
        for hit in hits:
            item = QListWidgetItem()
            label = QLabel(hit_html(hit))
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setContentsMargins(6, 3, 6, 3)
            item.setSizeHint(label.sizeHint())
            item.setToolTip(str(hit.path))
            self.results.addItem(item)
            self.results.setItemWidget(item, label)
        self.results.setVisible(bool(query))
        self.summary.setVisible(bool(query))
        n = len(hits)
        self.summary.setText(
            (f"{n} place{'s' if n != 1 else ''} — Enter or double-click replays from there")
            if n
            else f"No session mentions “{query}”."
        )
        if n:
            self.results.setCurrentRow(0)
        self.searched.emit(n)

    def _failed(self, seq: int, msg: str) -> None:
        if seq == self._seq:
            self.summary.setText(f"Search failed: {msg}")
            self.summary.setVisible(True)

    def _activated(self, item: QListWidgetItem) -> None:
        row = self.results.row(item)
        if 0 <= row < len(self.hits):
            hit = self.hits[row]
            self.open_hit.emit(str(hit.path), hit.t_ms)

    def open_current(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self._activated(item)

    def shutdown(self) -> None:
        self.timer.stop()
        self.tasks.shutdown(cancel_pending=True)
