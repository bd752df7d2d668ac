"""Sessions a person can manage, in the Sessions browser (issue 15 item 5, issue 14 item 7):
rename, share as one scrubbed file, export with visible progress; the session being recorded is
labelled as such (not "did not end cleanly") and cannot be deleted; a failed connect leaves no
empty "0:00 (no question)" session."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.config import Settings
from app.gui.adapter import AssistantAdapter
from app.gui.main import build_window
from app.gui.sessions_browser import SessionsBrowser
from app.model import State
from app.session_search import search_sessions
from realtime.recording.reader import SessionFile
from realtime.recording.writer import SessionRecorder
from tests.app.fakes import FakeAudio
from tests.app.gui.test_sessions import make_session

pytestmark = pytest.mark.gui

CANARY = "sk-proj-CANARYshare0123456789abcdefWXYZ"


def browser_for(qtbot, folder: Path, **kw) -> SessionsBrowser:  # type: ignore[no-untyped-def]
    b = SessionsBrowser(folder=str(folder), audio=False, confirm=lambda *_: True, **kw)
    qtbot.addWidget(b)
    b.show()
    return b


def test_rename_share_and_export_with_progress(
    qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "sessions"
    path = make_session(folder, "What is on my desk?")
    # a key that reached the file before scrubbing existed (an old recording)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE turns SET text = ? WHERE role = 'assistant'", (f"use {CANARY}",))
    conn.commit()
    conn.close()
    monkeypatch.setenv("OPENAI_API_KEY", CANARY)
    shared, exported = tmp_path / "out" / "desk", tmp_path / "out" / "desk.mp4"
    shared.parent.mkdir()
    answers = iter([str(shared), str(exported)])
    b = browser_for(
        qtbot,
        folder,
        actions={"ask_title": lambda *_: "Desk tour", "ask_path": lambda *_: next(answers)},
    )
    qtbot.waitUntil(lambda: b.table.rowCount() == 1)
    assert b.session_actions.rename_btn.isEnabled()

    with qtbot.waitSignal(b.listed, timeout=10000):
        b.session_actions.rename_btn.click()
    assert b.table.item(0, 4).text() == "Desk tour"
    assert SessionFile(path, check=False).metadata.values["title"] == "Desk tour"
    [hit] = search_sessions(folder, "desk")
    assert hit.title == "Desk tour"

    with qtbot.waitSignal(b.session_actions.finished, timeout=20000) as got:
        b.session_actions.share_btn.click()
    out = shared.with_suffix(".voicecam")
    assert "keys removed and checked" in got.args[0] and out.is_file()
    assert CANARY.encode() not in out.read_bytes()
    with SessionFile(out) as sf:
        assert [t.role for t in sf.turns()] == ["user", "assistant"]

    fractions: list[float] = []
    b.session_actions.progressed.connect(fractions.append)
    with qtbot.waitSignal(b.session_actions.finished, timeout=60000) as got:
        b.session_actions.export_btn.click()
        progress = b.session_actions.progress
        assert progress is not None and progress.isVisible()  # feedback from the first moment
        assert progress.labelText().startswith("Exporting desk.mp4")
        assert not b.session_actions.export_btn.isEnabled()  # one long export at a time
    assert got.args[0].startswith(f"Exported to {exported}")
    assert exported.stat().st_size > 1000
    assert b.session_actions.progress is None and b.session_actions.export_btn.isEnabled()
    assert b.status.text() == got.args[0]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0
    b.shutdown()


def test_the_live_session_is_labelled_as_recording_and_kept(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    done = make_session(folder, "What is on my desk?")
    rec = SessionRecorder(directory=folder, metadata={"backend": "openai", "model": "m"})
    rec.record_turn("user", "Is this recording?", rec.start_mono_ns + 10**9, "u1")
    try:
        live = str(rec.path)
        b = browser_for(qtbot, folder, live=lambda: {live})
        qtbot.waitUntil(lambda: b.table.rowCount() == 2)
        texts = {b.table.item(r, 1).toolTip(): b.table.item(r, 4).text() for r in range(2)}
        assert texts[live].endswith("(recording now)")
        assert "did not end cleanly" not in texts[live]
        row = next(r for r in range(2) if b.table.item(r, 1).toolTip() == live)
        b.table.selectRow(row)
        assert not b.delete_btn.isEnabled() and not b.session_actions.export_btn.isEnabled()
        b.delete_selected()  # refused
        assert Path(live).exists() and "being recorded" in b.status.text()
        other = next(r for r in range(2) if r != row)
        b.table.selectRow(other)
        assert b.delete_btn.isEnabled()
        b.shutdown()
    finally:
        rec.close()
    assert done.exists()


def test_a_failed_connect_leaves_no_empty_session(
    qtbot, qsettings, memory_keyring, config_dir, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    folder = tmp_path / "rec"
    adapter = AssistantAdapter(
        Settings(backend="openai", recordings_dir=str(folder)),
        make_audio=lambda s, rate: FakeAudio(),
    )
    w = build_window(adapter, qsettings, adapter.settings, save_settings=None)
    qtbot.addWidget(w)
    w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData("openai"))
    w.toggle_connection()
    qtbot.waitUntil(lambda: w.conversation_state == State.ERROR, timeout=15000)
    qtbot.waitUntil(lambda: adapter._recorder is None, timeout=10000)
    w.close()
    adapter.close()
    assert folder.is_dir()  # the recording was started …
    assert not list(folder.glob("*.voicecam"))  # … and, empty, not kept


def test_the_window_applies_retention_at_start(
    qtbot, qsettings, memory_keyring, config_dir, tmp_path: Path
) -> None:
    from app.gui.main import start_retention
    from tests.app.gui.fake_assistant import FakeAssistant
    from tests.app.test_retention import age

    folder = tmp_path / "sessions"
    old = age(make_session(folder, "Old question"), 40)
    new = make_session(folder, "New question")
    settings = Settings(recordings_dir=str(folder), keep_days=30)
    w = build_window(FakeAssistant(), qsettings, settings, save_settings=None)
    qtbot.addWidget(w)
    start_retention(w, settings)  # what app.gui.main.main does once the window is built
    qtbot.waitUntil(lambda: "Retention: deleted 1 old session" in w.ui.status.currentMessage())
    assert not old.exists() and new.exists()
    w.close()


def test_the_window_knows_which_session_is_being_recorded(window, fake, qtbot) -> None:
    from app.model import RecordingChanged, StateChanged

    fake.emit(StateChanged(State.LISTENING))
    fake.emit(RecordingChanged(True, "/tmp/s/now.voicecam"))
    qtbot.waitUntil(lambda: window.live_recordings() == {"/tmp/s/now.voicecam"})
    fake.emit(StateChanged(State.IDLE))  # the conversation ended: the file is finished
    qtbot.waitUntil(lambda: window.live_recordings() == set())
