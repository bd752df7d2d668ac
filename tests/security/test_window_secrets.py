"""Issue 17, item 6 (the window): every text the window shows from the assistant's model events
is scrubbed of the secrets the process holds — state messages (errors, close reasons), notices,
recording errors, server errors and transcript text — whatever the secret's shape.

The window receives ``app.model`` events (``app.gui.events.ModelEventQueue`` →
``MainWindow.apply_events``); ``app.scrubbed_output.scrub_event`` is applied there to each one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.model import (
    NoticeChanged,
    RecordingChanged,
    ServerErrorReported,
    StateChanged,
    Turn,
    TurnUpdated,
)
from app.scrubbed_output import scrub_event
from app.state import ConversationState as State
from realtime.events import ServerError
from realtime.recording.scrub import REDACTED, hold_secret

SECRET = "windowHeldToken" + "w4" * 8  # no key shape: only the held-secret registry finds it


def _events() -> list[Any]:
    return [
        StateChanged(State.ERROR, f"closed (1008: token {SECRET} revoked)"),
        NoticeChanged(f"Server: bad token {SECRET}"),
        RecordingChanged(False, None, f"Recording stopped: {SECRET}"),
        ServerErrorReported(ServerError(f"key {SECRET} is not valid")),
        TurnUpdated(Turn(7, "assistant", f"your token is {SECRET}", partial=False)),
    ]


def test_scrub_event_redacts_held_secrets_from_every_text_a_window_shows() -> None:
    hold_secret(SECRET)
    state, notice, recording, server, turn = (scrub_event(e) for e in _events())
    assert state == StateChanged(State.ERROR, f"closed (1008: token {REDACTED} revoked)")
    assert notice == NoticeChanged(f"Server: bad token {REDACTED}")
    assert recording == RecordingChanged(False, None, f"Recording stopped: {REDACTED}")
    assert isinstance(server, ServerErrorReported)
    assert server.error.message == f"key {REDACTED} is not valid"
    assert isinstance(turn, TurnUpdated) and turn.turn.text == f"your token is {REDACTED}"
    plain = StateChanged(State.LISTENING, "all fine")
    assert scrub_event(plain) is plain  # nothing to scrub: the same event


@pytest.fixture
def window_and_fake(qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    import keyring
    from PySide6.QtCore import QSettings

    from app.config import Settings
    from app.gui.main import build_window
    from tests.app.gui.conftest import MemoryKeyring
    from tests.app.gui.fake_assistant import FakeAssistant

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        fake = FakeAssistant()
        qsettings = QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)
        window = build_window(fake, qsettings, Settings())
        qtbot.addWidget(window)
        fake.pump = window.events.flush  # events published on this thread show at once
        window.show()
        yield window, fake
    finally:
        keyring.set_keyring(previous)


@pytest.mark.gui
def test_the_window_never_shows_a_held_secret(window_and_fake: tuple[Any, Any]) -> None:
    from PySide6.QtWidgets import QLabel, QLineEdit, QTextBrowser, QTextEdit

    window, fake = window_and_fake
    hold_secret(SECRET)
    shown: list[str] = []
    for event in _events():
        fake.emit(event)
        shown.append(window.ui.status.currentMessage())
    for label in window.findChildren(QLabel):
        shown.append(label.text() + "|" + label.toolTip())
    for edit in window.findChildren(QLineEdit):
        shown.append(edit.text())
    for doc in window.findChildren(QTextEdit) + window.findChildren(QTextBrowser):
        shown.append(doc.toPlainText())
    text = "\n".join(shown)
    assert SECRET not in text
    # The texts really reached the widgets (else the check above would pass vacuously).
    assert f"Server: bad token {REDACTED}" in text
    assert f"Recording stopped: {REDACTED}" in text
    assert f"our token is {REDACTED}" in text  # the transcript capitalises its first word
