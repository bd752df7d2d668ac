"""The assistant over a reconnecting session: an abrupt loss shows ``reconnecting`` and the
conversation carries on (context replayed) on the scripted fake OpenAI server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.assistant import Assistant
from app.backends import resolve
from app.file_audio import FileAudio
from app.model import StateChanged
from app.state import ConversationState as S
from tests.app.fakes import FakeThread
from tests.fakes.fake_openai import FakeOpenAI

KEY = "sk-test-reconnect-key-0123456789"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeThread]:
    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", KEY)
    ft = FakeThread(FakeOpenAI(api_key=KEY))
    yield ft
    ft.close()


def test_abrupt_loss_reconnects_and_keeps_the_conversation(fake: FakeThread) -> None:
    states: list[S] = []

    spec = resolve(fake.url, reconnect=True)
    a = Assistant(spec, FileAudio(None, None))
    a.subscribe(lambda e: states.append(e.state) if isinstance(e, StateChanged) else None)
    try:
        a.start()
        assert a.wait_for(lambda s: s.state == S.LISTENING, 10)
        a.send_text("What is on my desk?")
        assert a.wait_for(lambda s: s.completed_turns == 1 and s.state == S.LISTENING, 10)
        fake.fake.abort()
        fake.call(fake.fake.wait_connections, 2)
        assert a.wait_for(lambda s: s.state == S.LISTENING and S.RECONNECTING in states, 20)
        a.send_text("And now?")
        snap = a.wait_for(lambda s: s.completed_turns == 2 and s.state == S.LISTENING, 20)
        assert snap is not None, a.snapshot()
        # the earlier turns went to the new connection as context
        replayed = [text for conn, role, text in fake.fake.history if conn == 1]
        assert "What is on my desk?" in replayed
        assert [t.text for t in snap.turns if t.role == "user"] == [
            "What is on my desk?",
            "And now?",
        ]
    finally:
        a.close()
