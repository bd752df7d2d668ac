"""Space held anywhere in the window = the talk button held (unless a text field has focus).

An application-wide event filter (installed by the window, removed when it closes): key
auto-repeat is swallowed, so a held Space is one press and one release. GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

__all__ = ["SpaceToTalk"]

_PLAIN = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
_TEXT_INPUTS = (QLineEdit, QTextEdit, QPlainTextEdit, QComboBox)


class SpaceToTalk(QObject):
    """Calls ``on_press()`` when Space goes down in ``window`` and ``on_release()`` when it
    goes up."""

    def __init__(
        self, window: QWidget, on_press: Callable[[], None], on_release: Callable[[], None]
    ) -> None:
        super().__init__(window)
        self._window = window
        self._on_press = on_press
        self._on_release = on_release
        self._down = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        et = event.type()
        if et not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not self._window.isActiveWindow() or not isinstance(event, QKeyEvent):
            return False
        if event.key() != Qt.Key.Key_Space or event.modifiers() not in _PLAIN:
            return False
        target = obj if isinstance(obj, QWidget) else QApplication.focusWidget()
        if target is None or target.window() is not self._window:
            return False
        if isinstance(target, _TEXT_INPUTS):
            return False
        if event.isAutoRepeat():
            return True
        if et == QEvent.Type.KeyPress and not self._down:
            self._down = True
            self._on_press()
        elif et == QEvent.Type.KeyRelease and self._down:
            self._down = False
            self._on_release()
        return True
