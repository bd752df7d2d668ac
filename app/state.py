"""The assistant's one conversation state machine.

States (``ConversationState``)::

    idle ──start()──► connecting ──SessionReady──► listening
    connecting ──offline models load──► loading ──models ready──► connecting
    listening ──user voice──► user_speaking ──voice end / commit──► thinking
    thinking ──first reply audio──► assistant_speaking ──reply done + playback drained──► listening
    assistant_speaking ──barge-in──► user_speaking
    any connected state ──abrupt close──► reconnecting ──SessionReady──► listening
    any ──fatal error──► error ;  any ──stop()──► idle

``StateMachine`` is pure (no clock, no I/O, not thread-safe): the assistant owns it on its engine
thread and reads ``state`` after each ``go()``. ``go()`` returns ``True`` when the state changed.
Transitions that are not in ``ALLOWED`` raise ``InvalidTransition`` — a bug in the caller, not a
user-facing error.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum


class ConversationState(StrEnum):
    IDLE = "idle"
    LOADING = "loading"
    CONNECTING = "connecting"
    LISTENING = "listening"
    USER_SPEAKING = "user_speaking"
    THINKING = "thinking"
    ASSISTANT_SPEAKING = "assistant_speaking"
    RECONNECTING = "reconnecting"
    ERROR = "error"

    @property
    def label(self) -> str:
        """Short human label for status lines ("Listening", "Thinking"…)."""
        return _LABELS[self]

    @property
    def connected(self) -> bool:
        return self in _CONNECTED


S = ConversationState

_LABELS: dict[ConversationState, str] = {
    S.IDLE: "Idle",
    S.LOADING: "Loading models…",
    S.CONNECTING: "Connecting…",
    S.LISTENING: "Listening",
    S.USER_SPEAKING: "You are speaking",
    S.THINKING: "Thinking…",
    S.ASSISTANT_SPEAKING: "Speaking",
    S.RECONNECTING: "Reconnecting…",
    S.ERROR: "Error",
}

_CONNECTED = frozenset({S.LISTENING, S.USER_SPEAKING, S.THINKING, S.ASSISTANT_SPEAKING})

#: Allowed transitions; staying in the same state is always allowed (and is not a change).
ALLOWED: dict[ConversationState, frozenset[ConversationState]] = {
    S.IDLE: frozenset({S.CONNECTING, S.ERROR}),
    S.LOADING: frozenset({S.CONNECTING, S.ERROR, S.IDLE}),
    S.CONNECTING: frozenset({S.LOADING, S.LISTENING, S.RECONNECTING, S.ERROR, S.IDLE}),
    S.LISTENING: frozenset(
        {S.USER_SPEAKING, S.THINKING, S.ASSISTANT_SPEAKING, S.RECONNECTING, S.ERROR, S.IDLE}
    ),
    S.USER_SPEAKING: frozenset(
        {S.LISTENING, S.THINKING, S.ASSISTANT_SPEAKING, S.RECONNECTING, S.ERROR, S.IDLE}
    ),
    S.THINKING: frozenset(
        {S.LISTENING, S.USER_SPEAKING, S.ASSISTANT_SPEAKING, S.RECONNECTING, S.ERROR, S.IDLE}
    ),
    S.ASSISTANT_SPEAKING: frozenset(
        {S.LISTENING, S.USER_SPEAKING, S.THINKING, S.RECONNECTING, S.ERROR, S.IDLE}
    ),
    S.RECONNECTING: frozenset({S.LISTENING, S.CONNECTING, S.ERROR, S.IDLE}),
    S.ERROR: frozenset({S.IDLE, S.CONNECTING}),
}


#: States kept in ``StateMachine.history``.
HISTORY = 64


class InvalidTransition(RuntimeError):
    """A transition the state machine does not allow (a programming error)."""


class StateMachine:
    """Holds the current state and the last error message. Not thread-safe."""

    def __init__(self) -> None:
        self.state: ConversationState = S.IDLE
        self.error: str = ""
        #: The last ``HISTORY`` states (oldest first), for logs and tests.
        self.history: deque[ConversationState] = deque([S.IDLE], maxlen=HISTORY)

    def go(self, new: ConversationState, error: str = "") -> bool:
        """Move to ``new``. Returns ``True`` if the state changed. ``error`` is kept for ERROR."""
        if new == self.state:
            if new == S.ERROR and error:
                self.error = error
            return False
        if new not in ALLOWED[self.state]:
            raise InvalidTransition(f"{self.state.value} -> {new.value}")
        self.state = new
        self.error = error if new == S.ERROR else ""
        self.history.append(new)
        return True

    def can(self, new: ConversationState) -> bool:
        return new == self.state or new in ALLOWED[self.state]
