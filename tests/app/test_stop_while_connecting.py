"""Stopping while the handshake hangs: the conversation ends at once, by the stop, not by the
connect timeout (a server that accepts TCP and never answers held ``voicecam --headless
--timeout 0.5`` for the session's whole 10 s open timeout)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.assistant import Assistant
from app.model import StateChanged
from app.state import ConversationState as S
from realtime.events import SessionConfig
from tests.app.fakes import FakeAudio, FakeSession, FakeSpec

T = 5.0


class HangingSession(FakeSession):
    """A handshake that never completes (until cancelled)."""

    async def connect(self, config: SessionConfig) -> None:
        await asyncio.Event().wait()


@dataclass
class HangingSpec(FakeSpec):
    def make_session(self, recorder: object, context: object = None) -> FakeSession:
        s = HangingSession(self.sent)
        self.sessions.append(s)
        return s


def test_stop_during_a_hanging_handshake_ends_the_conversation_without_an_error() -> None:
    states: list[S] = []
    a = Assistant(HangingSpec(), FakeAudio())
    a.subscribe(lambda ev: states.append(ev.state) if isinstance(ev, StateChanged) else None)
    try:
        a.start()
        assert a.wait_for(lambda s: s.state == S.CONNECTING, T), states
        a.stop(wait=True, timeout_s=T)
        snap = a.wait_for(lambda s: s.state == S.IDLE, T)
        assert snap is not None, f"still {a.snapshot().state} after stop: {states}"
        assert S.ERROR not in states, states
        assert not a.running()
    finally:
        a.close(timeout_s=T)
