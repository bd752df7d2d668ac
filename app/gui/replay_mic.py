"""A replay and a live conversation at once: the live microphone pauses while the replay plays.

The replay comes out of the speaker; a live conversation's microphone would hear it and send it
as the user's speech (and barge in on the reply). So while a replay plays and a conversation is
running, the window's talk mode goes to Mute, the replay view and the status bar say so, and
the mode the person had comes back when the replay pauses or ends (unless they chose another
mode meanwhile). GUI thread only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.modes import Mode

if TYPE_CHECKING:
    from app.gui.replay_view import ReplayView
    from app.gui.window import MainWindow

__all__ = ["PAUSED_NOTE", "ReplayMicPause"]

PAUSED_NOTE = (
    "The live conversation's microphone is paused while the replay plays; "
    "it listens again when you pause the replay."
)


class ReplayMicPause(QObject):
    """Connects ``replay.playing_changed`` to ``window``'s talk mode (see module docstring).
    Parented to the replay view: it lives and goes with it."""

    def __init__(self, replay: ReplayView, window: MainWindow) -> None:
        super().__init__(replay)
        self._replay = replay
        self._window = window
        self.paused_from: Mode | None = None  # the mode to restore, while paused
        replay.playing_changed.connect(self._on_playing)

    def _on_playing(self, playing: bool) -> None:
        win = self._window
        if playing:
            if self.paused_from is None and win.is_connected() and win.talk.mode != Mode.MUTE:
                self.paused_from = win.talk.mode
                win.set_mode(Mode.MUTE)
                self._replay.set_live_note(PAUSED_NOTE)
                win.ui.status.showMessage("Microphone paused while the replay plays", 5000)
            return
        if self.paused_from is not None:
            before, self.paused_from = self.paused_from, None
            if win.talk.mode == Mode.MUTE:  # not changed by the person meanwhile
                win.set_mode(before)
            self._replay.set_live_note("")
            win.ui.status.showMessage("Microphone listening again", 3000)
