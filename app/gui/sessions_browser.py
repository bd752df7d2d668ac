"""Recorded sessions: a list (date, duration, backend/model, first question, thumbnail, cost)
and the replay view; delete with confirmation.

GUI thread only; listing (with the thumbnails' decoding) and deleting run on a
:class:`app.gui.tasks.TaskRunner` (each file is opened to summarise it). Uses the Qt-free
:mod:`app.sessions`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import TypedDict

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QIcon, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.preview import decode_thumbnail
from app.gui.replay_view import ReplayView, fmt_clock
from app.gui.session_actions import AskPath, AskTitle, SessionActions
from app.gui.session_search import SessionSearch
from app.gui.tasks import TaskRunner
from app.gui.transcript_view import format_cost
from app.sessions import SessionSummary, default_sessions_dir, delete_session, list_sessions


class SessionActionOptions(TypedDict, total=False):
    """Dialogs tests inject into the Rename…/Share…/Export… actions."""

    ask_title: AskTitle
    ask_path: AskPath


COLUMNS = ("", "Date", "Duration", "Backend / model", "First question", "Cost")
THUMB = QSize(80, 45)


def _listed_with_thumbnails(folder: str | None) -> list[tuple[SessionSummary, QImage | None]]:
    """Worker thread: the sessions, each with its thumbnail decoded at the table's size."""
    return [
        (s, decode_thumbnail(s.thumbnail_jpeg, THUMB) if s.thumbnail_jpeg else None)
        for s in list_sessions(folder)
    ]


def _confirm_delete(parent: QWidget, name: str) -> bool:
    answer = QMessageBox.question(
        parent,
        "Delete session",
        f"Delete the recorded session “{name}”? This cannot be undone.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class SessionsBrowser(QWidget):
    """A separate window (child of the main window). ``refresh()`` re-lists in the background."""

    listed = Signal(int)  # number of sessions after a refresh
    deleted = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        folder: str | None = None,
        confirm: Callable[[QWidget, str], bool] = _confirm_delete,
        audio: bool = True,
        live: Callable[[], Collection[str]] = frozenset,
        actions: SessionActionOptions | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("VoiceCam — recorded sessions")
        self.setAccessibleName("Recorded sessions")
        self.folder = folder
        self._confirm = confirm
        #: Session files being recorded now: shown as such, never as "did not end cleanly".
        self._live = live
        self.tasks = TaskRunner(self)
        self.summaries: list[SessionSummary] = []

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setAccessibleName("Sessions")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setIconSize(THUMB)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(THUMB.height() + 10)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _: self.open_selected())
        self.table.itemSelectionChanged.connect(self._update_buttons)

        self.status = QLabel("")
        self.status.setObjectName("muted")
        self.refresh_btn = QPushButton("Refresh")
        self.refresh_btn.setAccessibleName("Refresh the list")
        self.refresh_btn.setShortcut(QKeySequence("F5"))
        self.refresh_btn.clicked.connect(self.refresh)
        self.open_btn = QPushButton("Replay")
        self.open_btn.setAccessibleName("Replay the selected session")
        self.open_btn.setToolTip("Replay (Enter)")
        self.open_btn.clicked.connect(self.open_selected)
        self.delete_btn = QPushButton("Delete")
        self.delete_btn.setAccessibleName("Delete the selected session")
        self.delete_btn.setToolTip("Delete (Del)")
        self.delete_btn.clicked.connect(self.delete_selected)
        # only while the table has focus: Enter on a search hit opens the hit, and Delete in
        # the search box edits the text (it must never delete a session)
        for key, slot in (
            (Qt.Key.Key_Delete, self.delete_selected),
            (Qt.Key.Key_Return, self.open_selected),
        ):
            QShortcut(QKeySequence(key), self.table, slot).setContext(
                Qt.ShortcutContext.WidgetShortcut
            )

        self.search = SessionSearch(Path(folder) if folder else default_sessions_dir())
        self.search.open_hit.connect(self.open_at)
        list_page = QWidget()
        lp = QVBoxLayout(list_page)
        lp.setContentsMargins(0, 0, 0, 0)
        lp.addWidget(self.search)
        lp.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.refresh_btn)
        row.addWidget(self.delete_btn)
        row.addWidget(self.open_btn)
        lp.addLayout(row)
        self.session_actions = SessionActions(self, self, row, **(actions or {}))

        self.replay = ReplayView(audio=audio)
        back = QPushButton("← All sessions")
        back.setAccessibleName("Back to all sessions")
        back.setShortcut(QKeySequence("Alt+Left"))
        back.clicked.connect(self.show_list)
        replay_page = QWidget()
        rp = QVBoxLayout(replay_page)
        rp.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(back)
        top.addStretch(1)
        rp.addLayout(top)
        rp.addWidget(self.replay, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(list_page)
        self.stack.addWidget(replay_page)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 12, 12, 12)
        lay.addWidget(self.stack)
        self.resize(900, 560)
        self._update_buttons()
        self.refresh()

    # ------------------------------------------------------------------ list
    def refresh(self) -> None:
        self.status.setText("Reading sessions…")
        self.refresh_btn.setEnabled(False)
        folder = self.folder
        self.tasks.submit(lambda: _listed_with_thumbnails(folder), self._on_listed, self._on_error)

    def _on_listed(self, listed: list[tuple[SessionSummary, QImage | None]]) -> None:
        summaries = [s for s, _ in listed]
        thumbnails = [img for _, img in listed]
        self.summaries = summaries
        self.refresh_btn.setEnabled(True)
        self.table.setRowCount(0)
        live = {str(p) for p in self._live()}
        for s in summaries:
            r = self.table.rowCount()
            self.table.insertRow(r)
            thumb = QTableWidgetItem()
            img = thumbnails[r]
            if img is not None and not img.isNull():
                thumb.setIcon(QIcon(QPixmap.fromImage(img)))
            date = s.started_at.astimezone().strftime("%Y-%m-%d %H:%M") if s.started_at else "?"
            if s.error:
                cells = (date, "—", "unreadable", s.error, "—")
            else:
                model = " / ".join(x for x in (s.backend, s.model) if x)
                question = s.title or s.first_question or "(no question)"
                if str(s.path) in live:
                    question += "  (recording now)"
                elif s.unfinished:
                    question += "  (did not end cleanly)"
                cells = (
                    date,
                    fmt_clock(s.duration_ms),
                    model,
                    question,
                    format_cost(s.cost_usd, s.backend in ("local", "offline")),
                )
            self.table.setItem(r, 0, thumb)
            for c, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                item.setToolTip(str(s.path) if c == 1 else text)
                self.table.setItem(r, c, item)
        n = len(summaries)
        self.status.setText(
            f"{n} session{'s' if n != 1 else ''}" if n else "No recorded sessions yet."
        )
        if n:
            self.table.selectRow(0)
        self._update_buttons()
        self.listed.emit(n)

    def _on_error(self, msg: str) -> None:
        self.refresh_btn.setEnabled(True)
        self.status.setText(f"Could not read the sessions folder: {msg}")

    def selected(self) -> SessionSummary | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        r = rows[0].row()
        return self.summaries[r] if 0 <= r < len(self.summaries) else None

    def is_live(self, path: Path) -> bool:
        """True for the session being recorded now (not to be deleted, renamed or shared)."""
        return str(path) in {str(p) for p in self._live()}

    def _update_buttons(self) -> None:
        s = self.selected()
        self.session_actions.update_buttons(s)
        self.delete_btn.setEnabled(s is not None and not self.is_live(s.path))
        self.open_btn.setEnabled(s is not None and not s.error)

    # ------------------------------------------------------------------ actions
    def open_selected(self) -> None:
        s = self.selected()
        if s is None or s.error:
            return
        self.replay.open(s.path)
        self.stack.setCurrentIndex(1)

    def open_at(self, path: str, t_ms: float) -> None:
        """Replay ``path`` from ``t_ms`` into it (a search hit)."""
        self.replay.open(path, start_ms=t_ms)
        self.stack.setCurrentIndex(1)

    def show_list(self) -> None:
        self.replay.stop()
        self.stack.setCurrentIndex(0)

    def delete_selected(self) -> None:
        s = self.selected()
        if s is not None and self.is_live(s.path):
            self.status.setText("This session is being recorded: end the conversation first.")
            return
        if s is None or not self._confirm(self, s.path.name):
            return
        path = s.path
        self.status.setText(f"Deleting {path.name}…")
        self.tasks.submit(
            lambda: delete_session(path), lambda _: self._on_deleted(path), self._on_delete_error
        )

    def _on_deleted(self, path: Path) -> None:
        self.deleted.emit(str(path))
        self.refresh()

    def _on_delete_error(self, msg: str) -> None:
        self.status.setText(msg)

    def shutdown(self) -> None:
        self.session_actions.shutdown()
        self.search.shutdown()
        self.replay.shutdown()
        self.tasks.shutdown(cancel_pending=False)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.replay.stop()
        super().closeEvent(event)
