"""The FTS5 search index: filled while sessions are written, rebuilt if missing, emptied with
its session; hits carry session, time and snippet."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from realtime.recording.listing import delete_session
from realtime.recording.reader import SessionFile
from realtime.recording.search import (
    INDEX_NAME,
    MARK_END,
    MARK_START,
    SearchIndex,
    fts_query,
)
from realtime.recording.writer import SessionRecorder

T0 = 5_000_000_000
MS = 1_000_000


def record(folder: Path, name: str, turns: list[tuple[str, str, int]], index=None, **kw) -> Path:
    """A session whose turns are (role, text, ms); typed user text when role is 'typed'."""
    now = [T0]
    rec = SessionRecorder(
        folder / name, metadata={"backend": "local"}, clock=lambda: now[0], search_index=index, **kw
    )
    for role, text, ms in turns:
        t = T0 + ms * MS
        now[0] = t
        if role == "typed":
            rec.record_turn("user", text, t, t_start_ns=t, source="text")
        else:
            rec.record_turn(role, text, t, t_start_ns=t)  # type: ignore[arg-type]
    rec.close()
    return folder / name


def test_query_text_becomes_a_safe_fts_expression():
    assert fts_query("red mug") == '"red" "mug"*'
    assert fts_query('"the red" mug') == '"the red" "mug"*'
    assert fts_query('NEAR(a b) OR "x') == '"NEAR" "a" "b" "OR" "x"*'
    assert fts_query("  ,;  ") == ""


def test_sessions_are_indexed_as_they_are_written_and_hits_have_time_and_snippet(tmp_path):
    index = SearchIndex.open(tmp_path)
    path = record(
        tmp_path,
        "a.voicecam",
        [
            ("user", "What colour is the mug on my desk?", 1200),
            ("assistant", "The mug on your desk is bright red.", 2500),
            ("typed", "and the stapler?", 9000),
        ],
        index=index,
    )
    (hit,) = index.search("stapler")
    assert hit.path == path and hit.role == "user" and hit.source == "text"
    assert abs(hit.t_ms - 9000) < 1
    assert f"{MARK_START}stapler{MARK_END}" in hit.snippet
    hits = index.search("mug")
    assert [h.role for h in hits] and {h.t_ms for h in hits} == {1200.0, 2500.0}
    assert index.search("stap")[0].t_ms == hit.t_ms  # the last word is a prefix
    assert index.search("purple") == []
    # the hit time opens replay at the turn: it matches the file's own turn start
    with SessionFile(path) as sf:
        assert any(abs(t.start_ms - hit.t_ms) < 1 for t in sf.turns())
    index.close()


def test_the_index_is_rebuilt_when_missing_and_synced_with_the_folder(tmp_path):
    a = record(tmp_path, "a.voicecam", [("user", "zebra crossing ahead", 100)])
    b = record(tmp_path, "b.voicecam", [("assistant", "a giraffe and a zebra", 100)])
    (tmp_path / "notes.txt").write_text("zebra")  # not a session
    assert not (tmp_path / INDEX_NAME).exists()
    index = SearchIndex.open(tmp_path)  # built from the files
    assert {h.path for h in index.search("zebra")} == {a, b}
    index.close()

    (tmp_path / INDEX_NAME).write_bytes(b"this is not sqlite at all" * 100)  # damaged
    for side in ("-wal", "-shm"):
        Path(str(tmp_path / INDEX_NAME) + side).unlink(missing_ok=True)
    index = SearchIndex.open(tmp_path)
    assert index.created and len(index.search("zebra")) == 2

    c = tmp_path / "c.voicecam"
    shutil.copy(a, c)  # a new file appears; one disappears behind our back
    b.unlink()
    report = index.sync()
    assert (report.indexed, report.removed) == (1, 1)
    assert {h.path for h in index.search("zebra")} == {a, c}
    assert index.sync().indexed == 0  # unchanged files are not read again
    index.close()


def test_deleting_a_session_deletes_its_index_entries(tmp_path):
    index = SearchIndex.open(tmp_path)
    a = record(tmp_path, "a.voicecam", [("user", "the secret recipe", 100)], index=index)
    record(tmp_path, "b.voicecam", [("user", "another recipe", 100)], index=index)
    assert len(index.search("recipe")) == 2
    delete_session(a, index=index)
    assert [h.path.name for h in index.search("recipe")] == ["b.voicecam"]
    conn = sqlite3.connect(tmp_path / INDEX_NAME)
    assert conn.execute("SELECT count(*) FROM sessions WHERE name = 'a.voicecam'").fetchone() == (
        0,
    )
    conn.close()
    index.close()


def test_keys_never_reach_the_index(tmp_path):
    key = "sk-live-" + "k" * 30
    index = SearchIndex.open(tmp_path)
    record(
        tmp_path, "a.voicecam", [("typed", f"my key is {key} ok", 100)], index=index, secrets=[key]
    )
    (hit,) = index.search("key")
    assert key not in hit.snippet
    index.close()
    assert key.encode() not in (tmp_path / INDEX_NAME).read_bytes()
    wal = Path(str(tmp_path / INDEX_NAME) + "-wal")
    assert not wal.exists() or key.encode() not in wal.read_bytes()


def test_a_broken_index_never_stops_the_recording(tmp_path):
    index = SearchIndex(tmp_path)
    index.close()  # every index call now fails
    now = [T0]
    rec = SessionRecorder(tmp_path / "a.voicecam", clock=lambda: now[0], search_index=index)
    rec.record_turn("user", "still recorded", T0 + MS)
    status = rec.close()
    assert status.state == "closed" and rec.index_error is not None
    with SessionFile(tmp_path / "a.voicecam") as sf:
        assert [t.text for t in sf.turns()] == ["still recorded"]
