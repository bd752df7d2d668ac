"""The main window's keyboard shortcuts: one ``QAction`` per main action. GUI thread only."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from app.gui.layout import MODE_LABELS, MainWindowUi
from app.model import Mode

__all__ = ["WindowCommands", "make_actions"]


class WindowCommands(Protocol):
    """What the shortcuts call on the window."""

    def toggle_connection(self) -> None: ...
    def toggle_mute(self) -> None: ...
    def set_mode(self, mode: Mode) -> None: ...
    def show_settings(self) -> None: ...
    def show_sessions(self) -> None: ...


def make_actions(
    win: QMainWindow, ui: MainWindowUi, commands: WindowCommands
) -> dict[str, QAction]:
    """Adds the actions to ``win`` (window-wide shortcuts); returns them by name."""

    def act(name: str, keys: str, slot: Callable[[], object]) -> QAction:
        a = QAction(name, win)
        a.setShortcut(QKeySequence(keys))
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.triggered.connect(lambda _=False: slot())
        win.addAction(a)
        return a

    actions = {
        "connect": act("Connect/disconnect", "Ctrl+K", commands.toggle_connection),
        "camera": act("Camera", "Ctrl+E", ui.camera_btn.toggle),
        "screen": act("Share screen", "Ctrl+Shift+S", ui.screen_btn.toggle),
        "look": act("Look at this", "Ctrl+L", ui.look_btn.click),
        "text": act("Type a message", "Ctrl+T", ui.text_box.setFocus),
        "mute": act("Mute", "Ctrl+M", commands.toggle_mute),
        "settings": act("Settings", "Ctrl+,", commands.show_settings),
        "sessions": act("Sessions", "Ctrl+H", commands.show_sessions),
        "record": act("Recording", "Ctrl+R", ui.status.rec_button.toggle),
        "backend": act("Backend", "Ctrl+B", ui.backend_box.showPopup),
        "quit": act("Quit", "Ctrl+Q", win.close),
    }
    for i, m in enumerate((Mode.HANDS_FREE, Mode.PUSH_TO_TALK, Mode.TOGGLE), start=1):
        actions[f"mode{i}"] = act(MODE_LABELS[m], f"Ctrl+{i}", partial(commands.set_mode, m))
    return actions
