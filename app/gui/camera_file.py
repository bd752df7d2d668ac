"""A video file or image as the camera, without typing a path (issue 14, item 6).

GUI thread only.

- :class:`CameraField`: the Settings → Camera field: the line edit (a camera name, index,
  stream URL or file) and a "Browse…" button that opens a file dialog (window-modal, not
  blocking: ``open()``) for a video or image; the chosen path goes into the field.
- :class:`FileDropTarget`: drag and drop of one local file onto a widget (the preview); the
  dropped path is passed to ``on_file``. Anything else (several files, a web link) is refused
  while dragging, so the cursor says so before the drop.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

from app.cli_validate import IMAGE_SUFFIXES

__all__ = ["CAMERA_FILE_FILTER", "VIDEO_SUFFIXES", "CameraField", "FileDropTarget", "dropped_file"]

#: Video containers offered by the file dialog (any file may still be chosen: "All files").
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".ogv")
CAMERA_FILE_FILTER = (
    "Videos and images ("
    + " ".join(f"*{s}" for s in (*VIDEO_SUFFIXES, *sorted(IMAGE_SUFFIXES)))
    + ");;All files (*)"
)


class CameraField(QWidget):
    """``edit`` (the camera spec) + ``browse_btn``; ``dialog`` is the open file dialog."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText("First camera (or a name, index, URL, video file)")
        self.edit.setAccessibleName("Camera")
        self.browse_btn = QPushButton("Browse…")
        self.browse_btn.setAccessibleName("Choose a video file or image as the camera")
        self.browse_btn.setToolTip("Show the model a video file or an image instead of a camera")
        self.browse_btn.clicked.connect(self.browse)
        self.dialog: QFileDialog | None = None
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse_btn)

    def browse(self) -> None:
        """Open the file dialog (returns at once; the choice fills the field)."""
        if self.dialog is not None:
            self.dialog.deleteLater()
        current = Path(self.edit.text().strip()).expanduser()
        folder = str(current.parent) if current.suffix and current.parent.is_dir() else ""
        dlg = QFileDialog(self, "Choose a video file or image", folder, CAMERA_FILE_FILTER)
        dlg.setFileMode(QFileDialog.FileMode.ExistingFile)
        dlg.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # same on every desktop
        dlg.fileSelected.connect(self.edit.setText)
        self.dialog = dlg
        dlg.open()


def dropped_file(mime: QMimeData) -> str:
    """The one local file in a drag's data ("" if it holds anything else)."""
    if not mime.hasUrls():
        return ""
    urls = mime.urls()
    if len(urls) != 1 or not urls[0].isLocalFile():
        return ""
    path = urls[0].toLocalFile()
    return path if Path(path).is_file() else ""


class FileDropTarget(QObject):
    """Lets ``target`` accept one dropped local file, passed to ``on_file(path)``."""

    def __init__(self, target: QWidget, on_file: Callable[[str], None]) -> None:
        super().__init__(target)
        self._on_file = on_file
        target.setAcceptDrops(True)
        target.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if isinstance(event, QDragEnterEvent | QDragMoveEvent):
            if dropped_file(event.mimeData()):
                event.acceptProposedAction()
            else:
                event.ignore()
            return True
        if isinstance(event, QDropEvent):
            path = dropped_file(event.mimeData())
            if path:
                event.acceptProposedAction()
                self._on_file(path)
            return True
        return False
