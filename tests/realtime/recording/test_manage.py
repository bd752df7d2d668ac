"""Session management: rename, retention (deletes only what it should), shareable export with
the key scrub verified."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from realtime.recording.listing import list_sessions
from realtime.recording.manage import (
    RetentionRule,
    apply_retention,
    rename_session,
    session_title,
)
from realtime.recording.reader import SessionFile
from realtime.recording.search import SearchIndex
from realtime.recording.share import ExportError, export_session, verify_scrubbed
from tests.realtime.recording.synth import write_session

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
MB = 1024 * 1024


def fake_session(folder: Path, name: str, days_old: float, size_mb: float, src: Path) -> Path:
    """A copy of a real session, started ``days_old`` days before NOW, padded to ~size_mb."""
    p = folder / name
    shutil.copy(src, p)
    conn = sqlite3.connect(p)
    started = (NOW - dt.timedelta(days=days_old)).isoformat()
    conn.execute("UPDATE meta SET value = ? WHERE key = 'started_at'", (json.dumps(started),))
    pad = max(0, int(size_mb * MB) - p.stat().st_size)
    if pad:
        conn.execute("INSERT INTO marks(t_ns, kind, detail) VALUES (0, 'pad', ?)", ("x" * pad,))
    conn.commit()
    conn.close()
    return p


@pytest.fixture
def folder(tmp_path: Path, session_path: Path) -> Path:
    f = tmp_path / "sessions"
    f.mkdir()
    fake_session(f, "d01.voicecam", 1, 1, session_path)
    fake_session(f, "d05.voicecam", 5, 1, session_path)
    fake_session(f, "d10.voicecam", 10, 1, session_path)
    fake_session(f, "d40.voicecam", 40, 1, session_path)
    (f / "notes.txt").write_text("old notes")
    os.utime(f / "notes.txt", (0, 0))  # ancient, but not a session
    (f / "broken.voicecam").write_bytes(b"garbage")
    os.utime(f / "broken.voicecam", (NOW.timestamp() - 3 * 86400,) * 2)  # 3 days by mtime
    return f


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if not p.name.startswith("search-index")}


def test_retention_by_age_deletes_only_older_sessions(folder: Path):
    index = SearchIndex.open(folder)
    assert index.count()[0] == 4  # the broken file is not indexed
    report = apply_retention(folder, RetentionRule(keep_days=7), now=NOW, index=index)
    assert sorted(p.name for p in report.deleted) == ["d10.voicecam", "d40.voicecam"]
    assert names(folder) == {"d01.voicecam", "d05.voicecam", "broken.voicecam", "notes.txt"}
    unit = (folder / "d01.voicecam").stat().st_size
    assert report.kept == 3 and report.freed_bytes >= 2 * unit and report.errors == ()
    assert index.count()[0] == 2
    index.close()


def test_retention_by_size_keeps_the_newest_and_protects_the_live_session(folder: Path):
    unit = (folder / "d01.voicecam").stat().st_size  # every session is about this big
    report = apply_retention(
        folder,
        RetentionRule(keep_bytes=int(2.5 * unit)),
        now=NOW,
        protect=[folder / "d40.voicecam"],  # being recorded: never deleted
    )
    left = names(folder)
    assert "d40.voicecam" in left and "notes.txt" in left
    assert "d01.voicecam" in left  # newest kept first
    assert {p.name for p in report.deleted} == {"d05.voicecam", "d10.voicecam"}
    assert "broken.voicecam" in left  # tiny, newer than d05 by mtime: fits
    # the live session (protected) used its share of the budget first
    assert report.kept == 3


def test_no_rule_deletes_nothing_and_a_bad_rule_is_refused(folder: Path):
    before = names(folder)
    assert apply_retention(folder, RetentionRule(), now=NOW).deleted == ()
    assert names(folder) == before
    with pytest.raises(ValueError, match="keep_days"):
        RetentionRule(keep_days=0)


def test_rename_sets_a_clean_title_seen_by_listing_and_search(tmp_path: Path, session_path):
    p = tmp_path / "s.voicecam"
    shutil.copy(session_path, p)
    index = SearchIndex.open(tmp_path)
    key = "sk-proj-" + "Z" * 40
    title = rename_session(p, f"  Desk\tcheck\n with {key} ", index=index)
    assert title == "Desk check with [REDACTED]"
    assert session_title(p) == title
    (summary,) = list_sessions(tmp_path)
    assert summary.title == title
    hit = index.search("mug")[0]
    assert hit.title == title
    with pytest.raises(ValueError, match="empty"):
        rename_session(p, " \n ")
    with SessionFile(p) as sf:  # still a valid session
        assert sf.turns()
    index.close()


def test_export_is_one_verified_file_without_keys(tmp_path: Path):
    key = "sk-proj-" + "Q" * 40
    src = write_session(tmp_path / "src.voicecam", turns=2, secrets=(), leak=key, raw_mic=True)
    # the recorder scrubbed key shapes already; plant the exact key where no pattern finds it
    conn = sqlite3.connect(src.path)
    b64 = base64.b64encode(key[3:].encode()).decode()
    conn.execute("INSERT INTO marks(t_ns, kind, detail) VALUES (2, 'note', ?)", (b64,))
    conn.commit()
    with pytest.raises(ExportError, match="base64-encoded API key"):
        verify_scrubbed(src.path, (key[3:],))
    conn.execute("INSERT INTO marks(t_ns, kind, detail) VALUES (1, 'note', ?)", (f"k={key[3:]}",))
    conn.commit()
    conn.close()
    with pytest.raises(ExportError, match=r"still in marks\.detail"):
        verify_scrubbed(src.path, (key[3:],))
    verify_scrubbed(src.path)  # without the exact key nothing key-shaped is left

    out = tmp_path / "share" / "desk.voicecam"
    report = export_session(src.path, out, secrets=[key[3:]])
    assert report.path == out and report.scrubbed_cells >= 1 and report.verified_cells > 100
    assert sorted(p.name for p in out.parent.iterdir()) == ["desk.voicecam"]  # one file
    data = out.read_bytes()
    assert key[3:].encode() not in data and b64.rstrip("=").encode() not in data
    with SessionFile(out) as sf:
        assert len(sf.turns()) == len(SessionFile(src.path).turns())
        assert "exported_at" in sf.metadata.values
        assert not list(sf.mic_chunks(raw=True))  # unprocessed mic dropped by default
    with pytest.raises(ExportError, match="already exists"):
        export_session(src.path, out)
    with pytest.raises(ExportError, match="cannot export"):
        export_session(tmp_path / "missing.voicecam", tmp_path / "x.voicecam")
