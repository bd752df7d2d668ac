"""How the main window fits small sizes (issue 14, item 8).

GUI thread only. The window has a minimum size at which every control is whole
(``MIN_WIDTH`` × ``MIN_HEIGHT``: each button's text fits, nothing overlaps); above it,
space is taken from these first, in order:

1. the camera preview (it keeps its aspect ratio and can shrink to ``PREVIEW_MIN``);
2. the bottom bar reflows: when the talk button, the state text, the mode buttons and the
   meters no longer fit on one row, the meters go under the mode buttons
   (:class:`BottomReflow`), and the state text wraps.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QBoxLayout, QWidget

__all__ = ["MIN_HEIGHT", "MIN_WIDTH", "PREVIEW_MIN", "STATE_MIN_WIDTH", "BottomReflow"]

#: The window's minimum size (logical pixels).
MIN_WIDTH = 760
MIN_HEIGHT = 540
#: The preview shrinks to this before anything else gives way.
PREVIEW_MIN = QSize(176, 99)
#: The state text ("Ready — say something") is given at least this width before reflowing.
STATE_MIN_WIDTH = 230


class BottomReflow(QObject):
    """Watches ``bar`` (the bottom card) and lays ``side`` (modes + meters) out in a row when
    the bar is wide enough for ``fixed_width`` (the talk button, margins, spacing) plus the
    state text and ``side``'s row, else in a column."""

    def __init__(self, bar: QWidget, side: QBoxLayout, fixed_width: int) -> None:
        super().__init__(bar)
        self._bar = bar
        self._side = side
        self._fixed = fixed_width
        bar.installEventFilter(self)

    def row_width(self) -> int:
        """Width the bar needs to keep everything on one row."""
        spacing = max(0, self._side.spacing())
        items = [self._side.itemAt(i) for i in range(self._side.count())]
        widths = [item.sizeHint().width() for item in items if item and not item.isEmpty()]
        return self._fixed + STATE_MIN_WIDTH + sum(widths) + spacing * max(0, len(widths) - 1)

    def is_row(self) -> bool:
        return self._side.direction() == QBoxLayout.Direction.LeftToRight

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self._bar and event.type() == QEvent.Type.Resize:
            self.apply(self._bar.width())
        return False

    def apply(self, width: int) -> None:
        want = (
            QBoxLayout.Direction.LeftToRight
            if width >= self.row_width()
            else QBoxLayout.Direction.TopToBottom
        )
        if self._side.direction() != want:
            self._side.setDirection(want)
