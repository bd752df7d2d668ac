"""The real offline server under the app's supervisor: session renewal and crash recovery.

One ``app.local_server.LocalServer`` (real ``voicecam-server`` child, real models) started with
``--session-max-s`` so the server ends each session after a few seconds like OpenAI's 60-minute
cap. The real assistant (``local`` backend, reconnecting session) talks to it by text:

1. renewal: the server expires the session; the app opens a new one by itself, the state comes
   back to listening without an error, and the new session is given the earlier turns (the
   recorded outgoing wire shows the first turn replayed as a conversation item);
2. crash: the server child is killed with SIGKILL by PID; the supervisor notices and restarts it
   (new PID), the app shows reconnecting and then listening, and the next turn is answered.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.state import ConversationState as S
from tests.reliability.helpers import wait_until
from tests.reliability.test_faults import ProbeAudio

pytestmark = pytest.mark.models
SESSION_MAX_S = 12


class Watch:
    def __init__(self) -> None:
        self.states: list[tuple[float, S, str]] = []
        self.notices: list[str] = []

    def __call__(self, event: object) -> None:
        """An ``Assistant.subscribe`` listener: the typed model events it watches."""
        from app.model import NoticeChanged, StateChanged

        if isinstance(event, StateChanged):
            self.on_state(event.state, event.message)
        elif isinstance(event, NoticeChanged):
            self.on_notice(event.message)

    def on_state(self, state: S, message: str) -> None:
        self.states.append((time.monotonic(), state, message))

    def on_notice(self, message: str) -> None:
        self.notices.append(message)

    def since(self, t: float) -> list[S]:
        return [s for ts, s, _ in self.states if ts >= t]


@contextlib.contextmanager
def app_on_local(tmp: Path, *server_args: str) -> Iterator[tuple[Any, ...]]:
    from app.assistant import Assistant
    from app.backends import resolve
    from app.local_server import LocalServer
    from app.modes import ConversationOptions
    from realtime.recording.writer import SessionRecorder

    server = LocalServer(server_args, ready_timeout_s=300)
    spec = resolve("local", local_server=server, reconnect=True)
    spec.prepare(None)
    rec_dir = tmp / "rec"
    rec_dir.mkdir()
    recorder = SessionRecorder(directory=rec_dir, metadata={"backend": "local"})
    audio = ProbeAudio()
    assistant = Assistant(
        spec,
        audio,
        None,
        ConversationOptions(instructions="Answer in one short sentence."),
        recorder=recorder,
    )
    watch = Watch()
    assistant.subscribe(watch)
    try:
        assistant.start()
        assert assistant.wait_for(lambda s: s.state == S.LISTENING, 60), watch.states
        yield assistant, server, watch, recorder, rec_dir
    finally:
        assistant.close()
        recorder.close()
        server.stop()


def _turn(assistant: Any, text: str, timeout: float = 120) -> None:
    n = assistant.snapshot().completed_turns
    assistant.send_text(text)
    snap = assistant.wait_for(lambda s: s.completed_turns > n and s.state == S.LISTENING, timeout)
    assert snap is not None, f"no reply to {text!r}: {assistant.snapshot().state}"


def _wire_out(recorder: Any, rec_dir: Path) -> list[dict[str, Any]]:
    from realtime.recording.reader import SessionFile

    if hasattr(recorder, "flush"):
        recorder.flush()
    files = [p for p in rec_dir.iterdir() if p.is_file() and not p.name.endswith(("-wal", "-shm"))]
    out = []
    with SessionFile(files[0], check=False) as sf:
        for w in sf.wire_messages("out"):
            try:
                out.append(json.loads(w.payload))
            except (ValueError, AttributeError):
                continue
    return out


def test_expired_sessions_are_renewed_with_the_context(tmp_path: Path) -> None:
    with app_on_local(tmp_path, "--session-max-s", str(SESSION_MAX_S)) as rig:
        _renewal(*rig)


def _renewal(assistant: Any, _server: Any, watch: Watch, recorder: Any, rec_dir: Path) -> None:
    t0 = time.monotonic()
    _turn(assistant, "My name is Alice and my cat is called Pixel.")
    # the server's cap passes (SESSION_MAX_S after the connect): the session is renewed
    wait_until(
        lambda: sum(m.get("type") == "session.update" for m in _wire_out(recorder, rec_dir)) >= 2,
        SESSION_MAX_S + 60,
        "the renewed session's session.update",
    )
    snap = assistant.wait_for(lambda s: s.state in (S.LISTENING, S.ERROR), 60)
    assert snap is not None and snap.state == S.LISTENING, watch.states[-6:]
    _turn(assistant, "What is my cat called?")
    states = watch.since(t0)
    assert S.ERROR not in states, watch.states
    assert assistant.running()
    out = _wire_out(recorder, rec_dir)
    updates = [i for i, m in enumerate(out) if m.get("type") == "session.update"]
    assert len(updates) >= 2, "no second session was opened"
    replayed = [
        m
        for m in out[updates[1] :]
        if m.get("type") == "conversation.item.create" and "Pixel" in json.dumps(m)
    ]
    assert replayed, "the earlier turn was not carried into the renewed session"


def test_killed_server_is_restarted_and_the_user_told(tmp_path: Path) -> None:
    with app_on_local(tmp_path) as (assistant, server, watch, _recorder, _rec_dir):
        _kill_and_recover(assistant, server, watch)


def _kill_and_recover(assistant: Any, server: Any, watch: Watch) -> None:
    pid = server.pid
    assert pid is not None
    restarts = server.restart_count
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: server.restart_count > restarts, 30, "the supervisor to notice the kill")
    wait_until(lambda: server.pid not in (None, pid) and server.url, 300, "the restarted server")
    snap = assistant.wait_for(lambda s: s.state == S.LISTENING and time.monotonic() > t0, 300)
    assert snap is not None, watch.states[-8:]
    states = watch.since(t0)
    assert S.RECONNECTING in states, f"the user was not told: {watch.states[-8:]}"
    assert any("offline server stopped unexpectedly" in n for n in watch.notices), watch.notices
    assert states[-1] == S.LISTENING, watch.states[-8:]
    _turn(assistant, "Are you back?")


def test_real_server_behind_the_fault_proxy_survives_a_1011_mid_reply(tmp_path: Path) -> None:
    """The fault proxy between the app and the real offline server: the connection is closed
    with 1011 while a real reply streams; the app reconnects and the next turn is answered
    with the earlier turn carried over (seen in the recorded outgoing wire)."""
    from app.assistant import Assistant
    from app.backends import resolve
    from app.local_server import LocalServer
    from app.modes import ConversationOptions
    from realtime.recording.writer import SessionRecorder
    from tests.fixtures.fault_proxy import FaultProxy
    from tests.reliability.helpers import LoopThread

    server = LocalServer(ready_timeout_s=300)
    server.start()
    loop = LoopThread()
    proxy = FaultProxy(server.url or "")
    loop.call(proxy.__aenter__)
    os.environ["VOICECAM_BACKEND_TOKEN"] = server.token
    try:
        spec = resolve(f"ws://127.0.0.1:{proxy.port}/v1/realtime", reconnect=True)
    finally:
        os.environ.pop("VOICECAM_BACKEND_TOKEN", None)
    rec_dir = tmp_path / "rec"
    rec_dir.mkdir()
    recorder = SessionRecorder(directory=rec_dir, metadata={"backend": "local+proxy"})
    audio = ProbeAudio()
    assistant = Assistant(
        spec, audio, None, ConversationOptions(instructions="Be brief."), recorder=recorder
    )
    watch = Watch()
    assistant.subscribe(watch)
    try:
        assistant.start()
        assert assistant.wait_for(lambda s: s.state == S.LISTENING, 60), watch.states
        t0 = time.monotonic()
        assistant.send_text("My dog is called Biscuit. Tell me a long story about him.")
        wait_until(lambda: audio.play_calls > 0, 120, "the real reply's audio")
        loop.call(proxy.close_with, 1011)
        wait_until(lambda: S.RECONNECTING in watch.since(t0), 30, "the reconnecting state")
        assert assistant.wait_for(lambda s: s.state == S.LISTENING, 90), watch.states[-8:]
        states = watch.since(t0)
        assert S.RECONNECTING in states and S.ERROR not in states, watch.states[-8:]
        assert audio.serviced_between(t0, time.monotonic()) > 20
        _turn(assistant, "What is my dog called?")
        out = _wire_out(recorder, rec_dir)
        updates = [i for i, m in enumerate(out) if m.get("type") == "session.update"]
        assert len(updates) >= 2
        assert any(
            m.get("type") == "conversation.item.create" and "Biscuit" in json.dumps(m)
            for m in out[updates[1] :]
        ), "the first turn was not carried over"
    finally:
        assistant.close()
        recorder.close()
        loop.call(proxy.__aexit__, None, None, None)
        loop.stop()
        server.stop()
