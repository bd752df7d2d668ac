"""The Sessions browser's Rename…, Share… and Export… buttons (``app.session_tools``).

- **Rename…** asks for a title (the file keeps its name) and re-lists.
- **Share…** writes one self-contained ``*.voicecam`` file with every known key scrubbed and the
  scrub verified, then says where it is.
- **Export…** to MP4 / WAV / Markdown / SRT (the format from the name chosen). An export runs on
  its own worker and shows a progress window with the time so far — and, for MP4, how much is
  encoded — so a long export (48 s for a long session) is never silent; the browser stays
  usable meanwhile.

The question dialogs are injectable (``ask_title``, ``ask_path``) so tests drive them without a
modal loop. GUI thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QProgressDialog,
    QPushButton,
    QWidget,
)

from app.gui.tasks import TaskRunner
from app.session_tools import EXPORT_FORMATS, export_to, rename, share
from app.sessions import SessionSummary

__all__ = ["AskPath", "AskTitle", "SessionActions"]

#: ``ask_title(parent, current) -> new title or None`` (cancelled).
AskTitle = Callable[[QWidget, str], str | None]
#: ``ask_path(parent, caption, suggested path, filter) -> chosen path or None``.
AskPath = Callable[[QWidget, str, str, str], str | None]


def _ask_title(parent: QWidget, current: str) -> str | None:
    text, ok = QInputDialog.getText(parent, "Rename session", "Title:", text=current)
    return text if ok else None


def _ask_path(parent: QWidget, caption: str, suggested: str, filters: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, caption, suggested, filters)
    return path or None


class Browser(Protocol):
    """What the actions need from the Sessions browser."""

    status: QLabel
    folder: str | None

    def selected(self) -> SessionSummary | None: ...
    def refresh(self) -> None: ...
    def is_live(self, path: Path) -> bool: ...


class SessionActions(QObject):
    """Adds the three buttons to ``row`` and performs them for the browser's selection."""

    finished = Signal(str)  # the sentence shown when an action ended (done or failed)
    #: fraction done (0–1) of the running export; emitted on the worker, shown on the GUI
    progressed = Signal(float)

    def __init__(
        self,
        browser: Browser,
        parent: QWidget,
        row: QHBoxLayout,
        *,
        ask_title: AskTitle = _ask_title,
        ask_path: AskPath = _ask_path,
    ) -> None:
        super().__init__(parent)
        self._browser = browser
        self._parent = parent
        self._ask_title = ask_title
        self._ask_path = ask_path
        self.tasks = TaskRunner(self)  # its own worker: a long export never blocks the list
        self.progress: QProgressDialog | None = None
        self._started = 0.0
        self._what = ""
        self._ticker = QTimer(self)
        self._ticker.setInterval(500)
        self._ticker.timeout.connect(self._tick)
        self.progressed.connect(self._on_progress)
        self.rename_btn = QPushButton("Rename…")
        self.rename_btn.setAccessibleName("Rename the selected session")
        self.rename_btn.clicked.connect(self.rename_selected)
        self.share_btn = QPushButton("Share…")
        self.share_btn.setAccessibleName("Save the selected session as one file to share")
        self.share_btn.setToolTip("One file, API keys removed and checked")
        self.share_btn.clicked.connect(self.share_selected)
        self.export_btn = QPushButton("Export…")
        self.export_btn.setAccessibleName("Export the selected session")
        self.export_btn.setToolTip("MP4 video, WAV audio, Markdown transcript or SRT subtitles")
        self.export_btn.clicked.connect(self.export_selected)
        for b in (self.rename_btn, self.share_btn, self.export_btn):
            row.insertWidget(row.count() - 1, b)  # before the browser's last button (Replay)

    def update_buttons(self, s: SessionSummary | None) -> None:
        usable = s is not None and not s.error and not self._browser.is_live(s.path)
        busy = self.progress is not None
        for b in (self.rename_btn, self.share_btn, self.export_btn):
            b.setEnabled(usable and not busy)

    # ------------------------------------------------------------------ rename
    def rename_selected(self) -> None:
        s = self._usable()
        if s is None:
            return
        title = self._ask_title(self._parent, s.title or s.first_question)
        if title is None:
            return
        path = s.path
        self.tasks.submit(
            lambda: rename(path, title),
            lambda stored: self._done(f"Renamed to “{stored}”.", relist=True),
            self._failed,
        )

    # ------------------------------------------------------------------ share / export
    def share_selected(self) -> None:
        s = self._usable()
        if s is None:
            return
        suggested = str(Path.home() / f"{s.path.stem}-shared.voicecam")
        out = self._ask_path(self._parent, "Share session", suggested, "Session (*.voicecam)")
        if out is None:
            return
        if not out.endswith(".voicecam"):
            out += ".voicecam"
        path, target = s.path, Path(out)

        def run() -> str:
            report = share(path, target)
            kib = report.size_bytes // 1024
            return f"Saved {report.path} to share ({kib} KiB, keys removed and checked)."

        self._run_long(f"Saving {target.name} to share", run)

    def export_selected(self) -> None:
        s = self._usable()
        if s is None:
            return
        suggested = str(Path.home() / f"{s.path.stem}.mp4")
        filters = ";;".join(label for _, label in EXPORT_FORMATS)
        out = self._ask_path(self._parent, "Export session", suggested, filters)
        if out is None:
            return
        target = Path(out)
        if target.suffix.lower() not in {suffix for suffix, _ in EXPORT_FORMATS}:
            target = target.with_suffix(".mp4")
        path = s.path

        def run() -> str:
            written = export_to(path, target, self.progressed.emit)
            return f"Exported to {written}."

        self._run_long(f"Exporting {target.name}", run)

    def _run_long(self, what: str, work: Callable[[], str]) -> None:
        """``work`` on the worker with a progress window that counts the seconds."""
        self._what = what
        self._started = time.monotonic()
        dlg = QProgressDialog(f"{what}…", "", 0, 0, self._parent)
        dlg.setWindowTitle("VoiceCam")
        dlg.setCancelButton(None)  # exports are not interruptible; the window stays usable
        dlg.setWindowModality(Qt.WindowModality.NonModal)
        dlg.setMinimumDuration(0)
        dlg.setAccessibleName("Export progress")
        self.progress = dlg
        dlg.show()
        self._ticker.start()
        self.update_buttons(self._browser.selected())
        self.tasks.submit(work, self._long_done, self._long_failed)

    def _on_progress(self, fraction: float) -> None:
        if self.progress is not None:
            if self.progress.maximum() == 0:  # from "busy" to a real bar
                self.progress.setRange(0, 1000)
            self.progress.setValue(round(max(0.0, min(1.0, fraction)) * 1000))

    def _tick(self) -> None:
        if self.progress is not None:
            elapsed = time.monotonic() - self._started
            self.progress.setLabelText(f"{self._what}… {elapsed:.0f} s")

    def _close_progress(self) -> None:
        self._ticker.stop()
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None
        self.update_buttons(self._browser.selected())

    def _long_done(self, text: str) -> None:
        self._close_progress()
        took = time.monotonic() - self._started
        self._done(text + (f" ({took:.0f} s)" if took >= 2 else ""))

    def _long_failed(self, msg: str) -> None:
        self._close_progress()
        self._failed(msg)

    # ------------------------------------------------------------------ helpers
    def _usable(self) -> SessionSummary | None:
        s = self._browser.selected()
        if s is None or s.error:
            return None
        if self._browser.is_live(s.path):
            self._browser.status.setText(
                "This session is being recorded: end the conversation first."
            )
            return None
        return s

    def _done(self, text: str, relist: bool = False) -> None:
        self._browser.status.setText(text)
        if relist:
            self._browser.refresh()
        self.finished.emit(text)

    def _failed(self, msg: str) -> None:
        self._browser.status.setText(msg)
        self.finished.emit(msg)

    def shutdown(self) -> None:
        self._ticker.stop()
        self.tasks.shutdown(cancel_pending=False)
