"""What the talk button, Space and the mode buttons mean, per mode (Qt-free).

When not connected, a press connects. Connected:

=============  ================================================================
hands-free     click = stop the conversation (disconnect)
push-to-talk   press/hold (button or Space) = talk, release = end of the turn
toggle         click = start talking, click again = end of the turn
mute           click = unmute (back to the mode before mute)
=============  ================================================================

The hold-to-talk shortcut (Ctrl+Space, :meth:`TalkControl.hold`) is the talk button held,
except that it never ends a hands-free conversation: there it does nothing.

GUI thread only. :class:`TalkControl` keeps the mode and whether the person is talking, and
sends the matching commands to the assistant; the window renders ``mode`` and ``talking`` after
each call (``on_change``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from app.model import Mode, State

__all__ = ["TalkCommands", "TalkControl"]


class TalkCommands(Protocol):
    """The assistant commands the talk control sends (a subset of ``AssistantPort``)."""

    def connect(self, backend: str, model: str, voice: str) -> None: ...
    def disconnect(self) -> None: ...
    def set_mode(self, mode: Mode) -> None: ...
    def talk_start(self) -> None: ...
    def talk_end(self) -> None: ...


class TalkControl:
    """``connected()`` says whether a conversation is starting or running; ``selection()`` is
    the (backend, model, voice) to connect with; ``on_change()`` re-renders."""

    def __init__(
        self,
        assistant: TalkCommands,
        *,
        connected: Callable[[], bool],
        selection: Callable[[], tuple[str, str, str]],
        on_change: Callable[[], None],
        mode: Mode = Mode.HANDS_FREE,
    ) -> None:
        self._assistant = assistant
        self._connected = connected
        self._selection = selection
        self._on_change = on_change
        self.mode = mode
        self.mode_before_mute = Mode.HANDS_FREE if mode == Mode.MUTE else mode
        #: Push-to-talk held, or toggle switched on.
        self.talking = False
        self._press_connected = False
        self._hold_ignored = False

    def set_mode(self, mode: Mode) -> None:
        if mode != Mode.MUTE:
            self.mode_before_mute = mode
        if self.talking and mode != self.mode:
            self.talking = False
            self._assistant.talk_end()
        self.mode = mode
        self._assistant.set_mode(mode)
        self._on_change()

    def toggle_mute(self) -> None:
        self.set_mode(self.mode_before_mute if self.mode == Mode.MUTE else Mode.MUTE)

    def press(self) -> None:
        """Button or Space went down."""
        self._press_connected = self._connected()
        if not self._press_connected:
            self._assistant.connect(*self._selection())
            return
        if self.mode == Mode.PUSH_TO_TALK and not self.talking:
            self.talking = True
            self._assistant.talk_start()
            self._on_change()

    def release(self) -> None:
        """Button or Space went up (a click is press + release)."""
        if not (self._press_connected and self._connected()):
            return
        if self.mode == Mode.PUSH_TO_TALK:
            if self.talking:
                self.talking = False
                self._assistant.talk_end()
                self._on_change()
        elif self.mode == Mode.TOGGLE:
            self.talking = not self.talking
            if self.talking:
                self._assistant.talk_start()
            else:
                self._assistant.talk_end()
            self._on_change()
        elif self.mode == Mode.MUTE:
            self.set_mode(self.mode_before_mute)
        else:
            self._assistant.disconnect()

    def hold(self, down: bool) -> None:
        """The hold-to-talk shortcut went down/up: the talk button held, but a no-op in a
        running hands-free conversation (the microphone is open already)."""
        if down:
            self._hold_ignored = self._connected() and self.mode == Mode.HANDS_FREE
            if not self._hold_ignored:
                self.press()
        elif not self._hold_ignored:
            self.release()

    def stop_talking(self) -> None:
        """The person disconnected: nothing is being said any more."""
        self.talking = False

    def on_state(self, state: State, active: bool) -> None:
        """The conversation moved to ``state`` (``active``: starting or running). A finished
        conversation ends talking; in toggle mode so does the reply starting (the turn ended)."""
        if not active:
            self.talking = False
        if state in (State.THINKING, State.ASSISTANT_SPEAKING) and self.mode == Mode.TOGGLE:
            self.talking = False
