"""Settings → Privacy: what is hidden before frames leave the machine (``app.redaction``), and
how long recorded sessions are kept (``app.retention``).

- "Blur faces": off / for cloud backends / on every backend (``Settings.blur_faces``);
- "Hide windows": titles (comma-separated parts) filled with grey in every screen grab, with a
  "Pick…" menu of the windows open now (listed on a worker thread);
- "Hide a region": ``X,Y,W,H`` in screen pixels, typed or drawn with "Draw…" (a translucent
  full-screen overlay: drag a rectangle, Escape cancels).

:meth:`PrivacyTab.apply` returns the settings with the three fields from the form; a bad region
raises ``SettingsError`` (the dialog shows it and stays open). GUI thread only.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.config import Settings
from app.gui.tasks import TaskRunner
from app.redaction import window_titles

BLUR_LABELS = (
    ("off", "Off"),
    ("cloud", "For cloud backends (OpenAI, Gemini)"),
    ("always", "On every backend, offline too"),
)


class RegionPicker(QWidget):
    """A translucent overlay over the screen: drag a rectangle; ``picked`` gives it in global
    (virtual-screen) pixels as ``X,Y,W,H``. Escape or a click without dragging cancels."""

    picked = Signal(str)

    def __init__(self) -> None:
        super().__init__(
            None, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
        )
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setAccessibleName("Draw the region to hide")
        screen = QGuiApplication.primaryScreen()
        self.setGeometry(screen.virtualGeometry() if screen is not None else QRect(0, 0, 800, 600))
        self._start: QPoint | None = None
        self._rect = QRect()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 90))
        p.setPen(QColor(255, 255, 255))
        p.drawText(
            self.rect().adjusted(0, 24, 0, 0),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            "Drag over the part of the screen to hide from screen sharing (Escape cancels)",
        )
        if not self._rect.isNull():
            p.fillRect(self._rect, QColor(64, 64, 64, 200))
            p.drawRect(self._rect)
        p.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._start = event.position().toPoint()
        self._rect = QRect(self._start, self._start)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._start is not None:
            self._rect = QRect(self._start, event.position().toPoint()).normalized()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        start, end = self._start, event.position().toPoint()
        if start is not None:
            w, h = abs(end.x() - start.x()), abs(end.y() - start.y())
            if w > 4 and h > 4:
                top_left = self.mapToGlobal(
                    QPoint(min(start.x(), end.x()), min(start.y(), end.y()))
                )
                self.picked.emit(f"{top_left.x()},{top_left.y()},{w},{h}")
        self.close()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()


class PrivacyTab(QWidget):
    """The Privacy tab (see module docstring)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = TaskRunner(self)
        form = QFormLayout(self)
        form.setContentsMargins(14, 14, 14, 14)
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(12)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        intro = QLabel(
            "Hidden before a frame is encoded: what is sent, recorded and shown in the strip "
            "of sent frames is the hidden version."
        )
        intro.setWordWrap(True)
        form.addRow(intro)

        self.blur_box = QComboBox()
        for value, label in BLUR_LABELS:
            self.blur_box.addItem(label, value)
        self.blur_box.setCurrentIndex(max(0, self.blur_box.findData(settings.blur_faces)))
        self.blur_box.setAccessibleName("Blur faces")
        form.addRow("Blur faces", self.blur_box)

        self.windows_edit = QLineEdit(settings.exclude_windows)
        self.windows_edit.setPlaceholderText("e.g. Password, Slack (parts of window titles)")
        self.windows_edit.setAccessibleName("Windows hidden from screen sharing")
        self.pick_btn = QPushButton("Pick…")
        self.pick_btn.setAccessibleName("Pick a window to hide")
        self.pick_btn.clicked.connect(self._list_windows)
        row = QHBoxLayout()
        row.addWidget(self.windows_edit, 1)
        row.addWidget(self.pick_btn)
        form.addRow("Hide windows", row)

        self.region_edit = QLineEdit(settings.exclude_region)
        self.region_edit.setPlaceholderText("X,Y,W,H in screen pixels, or draw it")
        self.region_edit.setAccessibleName("Screen region hidden from screen sharing")
        self.draw_btn = QPushButton("Draw…")
        self.draw_btn.setAccessibleName("Draw the region to hide")
        self.draw_btn.clicked.connect(self.draw_region)
        row2 = QHBoxLayout()
        row2.addWidget(self.region_edit, 1)
        row2.addWidget(self.draw_btn)
        form.addRow("Hide a region", row2)
        self.picker: RegionPicker | None = None

        self.keep_days_spin = QSpinBox()
        self.keep_days_spin.setRange(0, 3650)
        self.keep_days_spin.setSpecialValueText("Forever")
        self.keep_days_spin.setSuffix(" days")
        self.keep_days_spin.setValue(settings.keep_days)
        self.keep_days_spin.setAccessibleName("Keep recorded sessions for")
        self.keep_gb_spin = QDoubleSpinBox()
        self.keep_gb_spin.setRange(0.0, 10000.0)
        self.keep_gb_spin.setDecimals(1)
        self.keep_gb_spin.setSingleStep(0.5)
        self.keep_gb_spin.setSpecialValueText("No limit")
        self.keep_gb_spin.setSuffix(" GB")
        self.keep_gb_spin.setValue(settings.keep_gb)
        self.keep_gb_spin.setAccessibleName("Keep at most this much of recorded sessions")
        form.addRow("Keep sessions for", self.keep_days_spin)
        form.addRow("Keep at most", self.keep_gb_spin)
        note = QLabel(
            "Applied when VoiceCam starts: older sessions are deleted, then the oldest ones "
            "beyond the size."
        )
        note.setObjectName("muted")
        note.setWordWrap(True)
        form.addRow(note)

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with the form's privacy fields (``SettingsError`` if one is bad)."""
        return replace(
            settings,
            blur_faces=str(self.blur_box.currentData()),
            exclude_windows=self.windows_edit.text().strip(),
            exclude_region=self.region_edit.text().strip(),
            keep_days=self.keep_days_spin.value(),
            keep_gb=round(self.keep_gb_spin.value(), 1),
        )

    def draw_region(self) -> None:
        self.picker = RegionPicker()
        self.picker.picked.connect(self.region_edit.setText)
        self.picker.show()

    def _list_windows(self) -> None:
        self.pick_btn.setEnabled(False)
        self.tasks.submit(window_titles, self._show_windows, lambda _msg: self._show_windows(()))

    def _show_windows(self, titles: tuple[str, ...]) -> None:
        self.pick_btn.setEnabled(True)
        menu = QMenu(self)
        if not titles:
            menu.addAction("No windows could be listed").setEnabled(False)
        for title in titles:
            menu.addAction(title, partial(self.add_window, title))
        menu.popup(self.pick_btn.mapToGlobal(self.pick_btn.rect().bottomLeft()))

    def add_window(self, title: str) -> None:
        have = [t.strip() for t in self.windows_edit.text().split(",") if t.strip()]
        if title not in have:
            self.windows_edit.setText(", ".join([*have, title]))

    def shutdown(self) -> None:
        self.tasks.shutdown(cancel_pending=True)
