"""Recordings made before the recorder stopped deriving turns itself still load, replay, export,
compare and re-plan.

``data/old_recorder.voicecam.gz`` was written by the recorder of commit f3e53af (its
``TurnTracker`` derived turns and latency from events, including a ``first_text_ms`` figure):
``tests/realtime/recording/synth.py`` of that commit, ``write_session(path, turns=1,
max_question_ms=400, max_reply_ms=300, frame_side=48)``, then gzip -9.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from app.compare import exchanges
from app.export import export_main
from app.replay import ReplayPlan
from app.rerun_plan import plan_inputs
from realtime.events import AudioDelta, SessionReady
from realtime.openai import OpenAICore
from realtime.recording.reader import SessionFile

DATA = Path(__file__).resolve().parent / "data" / "old_recorder.voicecam.gz"


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "old.voicecam"
    path.write_bytes(gzip.decompress(DATA.read_bytes()))
    return path


def test_an_old_recording_reads_as_before(old_file: Path, tmp_path: Path) -> None:
    with SessionFile(old_file) as sf:
        turns = [(t.role, t.text, t.start_ms, t.end_ms, t.status) for t in sf.turns()]
        assert turns == [
            ("user", "What color is the mug on my desk?", 300.0, 500.0, "completed"),
            ("assistant", "Answer number 1.", 860.0, 1160.0, "completed"),
        ]
        lat = {x.metric: x.value_ms for x in sf.latencies()}
        assert lat["first_audio_ms"] == 300.0 and lat["first_played_ms"] == 360.0
        assert "first_text_ms" in lat  # the old recorder's own figure
        events = [e for _, e in sf.replay_events(OpenAICore())]
        assert any(isinstance(e, SessionReady) for e in events)
        assert any(isinstance(e, AudioDelta) for e in events)
        (ex,) = exchanges(sf)
        assert (ex.user, ex.assistant, ex.first_audio_ms) == (
            "What color is the mug on my desk?",
            "Answer number 1.",
            300.0,
        )
        plan = plan_inputs(sf, "original")
        assert [i.kind for i in plan if i.kind in ("start", "end")] == ["start", "end"]
    replay = ReplayPlan.load(old_file)
    assert replay is not None
    out = tmp_path / "old.md"
    assert export_main([str(old_file), "--to", str(out)]) == 0
    text = out.read_text()
    assert "What color is the mug on my desk?" in text and "Answer number 1." in text
