"""The state line under the talk button: headline, hint, colour, loading progress, and the
controls that follow the state (connect button, selectors, talk button). GUI thread only."""

from __future__ import annotations

from dataclasses import dataclass

from app.gui.layout import MainWindowUi
from app.gui.theme import MUTED_COLOUR, STATE_COLOURS
from app.model import Loading, Mode, State

__all__ = ["ACTIVE_STATES", "StateView", "render_state", "state_texts"]

#: States in which the window offers "Disconnect" (a conversation is starting or running).
ACTIVE_STATES = frozenset(
    {
        State.LOADING,
        State.CONNECTING,
        State.LISTENING,
        State.USER_SPEAKING,
        State.THINKING,
        State.ASSISTANT_SPEAKING,
        State.RECONNECTING,
    }
)

_LISTENING_HINTS = {
    Mode.HANDS_FREE: "Just talk. Click the button to stop.",
    Mode.PUSH_TO_TALK: "Hold Space or the button while you talk.",
    Mode.TOGGLE: "Click (or press Space) to talk, again when you're done.",
    Mode.MUTE: "Microphone muted — press Ctrl+M to unmute.",
}

_TALK_NAMES = {
    Mode.HANDS_FREE: "Stop conversation",
    Mode.PUSH_TO_TALK: "Hold to talk",
    Mode.TOGGLE: "Start talking",
    Mode.MUTE: "Unmute",
}


@dataclass(frozen=True)
class StateView:
    """What the state line shows. ``message``: the assistant's text for errors/reconnects;
    ``loading``: offline model progress while ``State.LOADING`` (None: not reported yet)."""

    state: State
    message: str
    mode: Mode
    talking: bool
    loading: Loading | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


def state_texts(state: State, message: str, mode: Mode) -> tuple[str, str]:
    """(headline, hint) for a state; errors carry the assistant's actionable message."""
    if state == State.IDLE:
        return "Not connected", "Press the big button or Ctrl+K to start a conversation."
    if state == State.LOADING:
        return "Loading models…", message or "First start: loading the offline models."
    if state == State.CONNECTING:
        return "Connecting…", message
    if state == State.LISTENING:
        head = "Muted" if mode == Mode.MUTE else "Ready — say something"
        return head, _LISTENING_HINTS[mode]
    if state == State.USER_SPEAKING:
        return "Listening to you…", ""
    if state == State.THINKING:
        return "Thinking…", ""
    if state == State.ASSISTANT_SPEAKING:
        return "Speaking", "Talk to interrupt."
    if state == State.RECONNECTING:
        return "Reconnecting…", message or "The connection dropped; trying again."
    return "Something went wrong", message or "See the log for details."


def render_state(ui: MainWindowUi, view: StateView) -> None:
    """Show ``view`` on the window's widgets."""
    state, mode = view.state, view.mode
    head, hint = state_texts(state, view.message, mode)
    if state == State.LOADING and view.loading is not None:
        head = f"Loading models… {int(view.loading.fraction * 100)}%"
        hint = view.loading.what or hint
    if view.talking and state in (State.LISTENING, State.USER_SPEAKING):
        head = "Talking — release to send" if mode == Mode.PUSH_TO_TALK else "Talking…"
        if mode == Mode.TOGGLE:
            hint = "Click again (or Space) when you're done."
    ui.state_label.setText(head)
    ui.hint_label.setText(hint)
    ui.hint_label.setVisible(bool(hint))
    muted = mode == Mode.MUTE and state in (State.LISTENING, State.USER_SPEAKING)
    colour = MUTED_COLOUR if muted else STATE_COLOURS[state]  # off, not "listening" green
    ui.state_label.setStyleSheet(f"color: {colour};")
    ui.progress.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")
    ui.progress.setVisible(state == State.LOADING)
    active = view.active
    ui.connect_btn.setText("Disconnect" if active else "Connect")
    ui.connect_btn.setAccessibleName("Disconnect" if active else "Connect")
    for w in (ui.backend_box, ui.model_box):
        w.setEnabled(not active)
    ui.voice_box.setEnabled(not active and ui.voice_box.count() > 0)
    ui.send_btn.setEnabled(active)
    ui.talk_btn.set_state(state)
    ui.talk_btn.set_muted(muted)
    ui.talk_btn.set_active((active and mode == Mode.HANDS_FREE) or view.talking)
    ui.talk_btn.setAccessibleDescription(head)
    if not active:
        name = "Start conversation"
    elif mode == Mode.TOGGLE and view.talking:
        name = "Stop talking"
    else:
        name = _TALK_NAMES[mode]
    ui.talk_btn.setAccessibleName(name)
    ui.talk_btn.setToolTip(name + " (Space; Ctrl+Space also from the message box)")
