"""``voicecam search`` and the app's recorder feeding the search index (issue 15, item 3):
sessions recorded through ``app.compose.build_recorder`` are searchable while being written,
hits carry the time to replay from, and a deleted session leaves the index."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from app import cli
from app.compose import build_recorder
from app.config import Settings
from app.session_search import search_sessions
from app.sessions import delete_session
from tests.app.fakes import FakeSpec

MS = 1_000_000


def record(folder: Path, question: str, answer: str, *, close: bool = True):  # type: ignore[no-untyped-def]
    """A session written by the app's own recorder: a question at 0.1 s, the reply at 1.5 s."""
    # the app's own sessions folder: indexed as the session is written
    rec = build_recorder(Settings(recordings_dir=str(folder)), FakeSpec(name="openai"))
    t0 = rec._current.start_mono_ns
    tone = (np.sin(np.arange(24000) * 2 * np.pi * 440 / 24000) * 8000).astype(np.int16)
    rec.record_mic(tone.tobytes(), 24000, t0 + 100 * MS)
    rec.record_turn("user", question, t0 + 1100 * MS, "u1", t_start_ns=t0 + 100 * MS)
    rec.record_playback("a1", tone.tobytes(), 24000, 0, t0 + 1500 * MS)
    rec.record_turn("assistant", answer, t0 + 2500 * MS, "a1", t_start_ns=t0 + 1500 * MS)
    if close:
        rec.close()
    return rec


def wait_hits(folder: Path, query: str, n: int) -> list:  # type: ignore[type-arg]
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        hits = search_sessions(folder, query)
        if len(hits) >= n:
            return hits
        time.sleep(0.05)
    raise AssertionError(f"{query!r}: fewer than {n} hits")


def test_the_recorder_feeds_the_index_while_the_session_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    rec = record(folder, "What is on my desk?", "A red mug and a stapler.", close=False)
    try:
        [hit] = wait_hits(folder, "stapler", 1)  # found before the file is closed
        assert hit.path == rec.files[0] and hit.speaker == "Assistant"
        assert hit.t_ms == pytest.approx(1500, abs=1)
    finally:
        rec.close()


def test_voicecam_search_prints_hits_and_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "sessions"
    first = record(folder, "What colour is the mug?", "The mug is red.").files[0]
    second = record(folder, "Where are my keys?", "Next to the red notebook.").files[0]
    assert cli.main(["search", "red", "--folder", str(folder)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert (
        lines[0].endswith(f"[{second.name}]")
        and "0:01  Assistant: Next to the red notebook." in lines[0]
    )
    assert lines[1].endswith(f"[{first.name}]")  # newest first

    assert cli.main(["search", '"colour is the"', "--json", "--folder", str(folder)]) == 0
    [hit] = json.loads(capsys.readouterr().out)
    assert hit["session"] == str(first) and hit["speaker"] == "You"
    assert hit["t_ms"] == pytest.approx(100, abs=1) and "colour is the" in hit["snippet"]

    assert cli.main(["search", "giraffe", "--folder", str(folder)]) == 1
    assert "no session mentions 'giraffe'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["search", "  ", "--folder", str(folder)])
    assert exc.value.code == 2

    delete_session(second)  # deleted with its session
    assert [h.path for h in search_sessions(folder, "red")] == [first]


def test_a_missing_index_is_rebuilt(tmp_path: Path) -> None:
    from app.session_search import forget_indexes

    folder = tmp_path / "sessions"
    record(folder, "Read the label", "It says fragile.")
    forget_indexes()
    for f in folder.glob("search-index.sqlite3*"):
        f.unlink()
    out = io.StringIO()
    from app.session_search import search_main

    assert search_main(["fragile", "--folder", str(folder)], out) == 0
    assert "It says fragile." in out.getvalue()
