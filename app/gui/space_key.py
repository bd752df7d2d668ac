"""Space and Ctrl+Space = the talk button held; Escape leaves the message box.

An application-wide event filter (installed by the window, removed when it closes). GUI thread
only. Key auto-repeat is swallowed, so a held key is one press and one release.

- **Space** anywhere in the window is the talk button, except in a text field where the person
  is typing. The message box counts as "typing" only when it has text, or in the hands-free and
  mute modes (where the talk button would end or unmute the conversation): in push-to-talk and
  toggle modes Space in the *empty* box talks (``space_talks()`` says whether the mode is one of
  those). Other text fields (combo boxes, editors) always keep their Space.
- **Ctrl+Space** is the hold-to-talk shortcut: it reaches ``on_hold`` from anywhere in the
  window, the message box included; it ends when Space goes up (Ctrl may be let go first).
- **Escape** in the message box gives the keyboard back to the talk button (``leave_box``).
- A mouse press on one of ``leave_box_buttons`` (the mode buttons) also leaves the box, so
  Space talks right after a mode was chosen (issue 14, item 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
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
    """Calls ``on_press()`` / ``on_release()`` when Space goes down / up in ``window`` and
    ``on_hold(True)`` / ``on_hold(False)`` for Ctrl+Space (see the module doc)."""

    def __init__(
        self,
        window: QWidget,
        on_press: Callable[[], None],
        on_release: Callable[[], None],
        *,
        message_box: QLineEdit | None = None,
        space_talks: Callable[[], bool] = lambda: False,
        on_hold: Callable[[bool], None] | None = None,
        leave_box: Callable[[], None] | None = None,
        leave_box_buttons: Iterable[QAbstractButton] = (),
    ) -> None:
        super().__init__(window)
        self._window = window
        self._on_press = on_press
        self._on_release = on_release
        self._box = message_box
        self._space_talks = space_talks
        self._on_hold = on_hold
        self._leave_box = leave_box
        self._leave_buttons = tuple(leave_box_buttons)
        self._down: str | None = None  # "space" or "hold" while held

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        et = event.type()
        if et == QEvent.Type.MouseButtonPress:
            if obj in self._leave_buttons:
                self._leave()
            return False
        if et not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            return False
        if not self._window.isActiveWindow() or not isinstance(event, QKeyEvent):
            return False
        target = obj if isinstance(obj, QWidget) else QApplication.focusWidget()
        if target is None or target.window() is not self._window:
            return False
        key = event.key()
        if key == Qt.Key.Key_Escape and et == QEvent.Type.KeyPress and target is self._box:
            self._leave()
            return True
        if key != Qt.Key.Key_Space:
            return False
        if et == QEvent.Type.KeyRelease and self._down is not None:
            if not event.isAutoRepeat():
                self._end()
            return True
        mods = event.modifiers()
        hold = mods == Qt.KeyboardModifier.ControlModifier and self._on_hold is not None
        if not hold and (mods not in _PLAIN or self._typing(target)):
            return False
        if event.isAutoRepeat() or et != QEvent.Type.KeyPress:
            return True
        if self._down is None:
            self._down = "hold" if hold else "space"
            if hold and self._on_hold is not None:
                self._on_hold(True)
            else:
                self._on_press()
        return True

    def _typing(self, target: QWidget) -> bool:
        """Space belongs to ``target`` (the person is typing there)."""
        if target is self._box and self._box is not None:
            return bool(self._box.text()) or not self._space_talks()
        return isinstance(target, _TEXT_INPUTS)

    def _end(self) -> None:
        down, self._down = self._down, None
        if down == "hold" and self._on_hold is not None:
            self._on_hold(False)
        elif down == "space":
            self._on_release()

    def _leave(self) -> None:
        if self._leave_box is not None and self._box is not None and self._box.hasFocus():
            self._leave_box()
