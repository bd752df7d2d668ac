"""Headless file audio in client turn detection: the turn model ends its turns, as in the engine.

The file is handed out on a fake clock (faster than real time) and the model runs inline, so
the decisions are the audio-time ones. ``build_file_audio`` with the settings wires it (the CLI's
``--audio-in`` with ``--patience``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.compose import build_file_audio
from app.config import Settings
from app.file_audio import FileAudio
from audio.client_turns import ClientTurnEnd, InlineExecutor, SharedTurnModel
from audio.events import VoiceStarted, VoiceStopped
from dsp.end_of_turn import Reason

MS = 1_000_000


def _turns_of(path: Path, turns: ClientTurnEnd) -> tuple[list[VoiceStarted], list[VoiceStopped]]:
    now = [0]
    fa = FileAudio(path, None, clock=lambda: now[0], end_of_turn=turns)
    fa.start()
    fa.on_session_ready()
    events = []
    for _ in range(400):  # 8 s in 20 ms steps
        now[0] += 20 * MS
        events += fa.process()
    fa.stop()
    return (
        [e for e in events if isinstance(e, VoiceStarted)],
        [e for e in events if isinstance(e, VoiceStopped)],
    )


def test_a_hesitation_in_a_file_is_one_turn_ended_after_its_real_end(media_dir: Path) -> None:
    turns_dir = media_dir / "turns"
    entries = {e["file"]: e for e in json.loads((turns_dir / "turns.json").read_text())}
    entry = entries["paused08_piper.wav"]
    turns = ClientTurnEnd("medium", SharedTurnModel(), executor=InlineExecutor())
    starts, stops = _turns_of(turns_dir / entry["file"], turns)
    assert len(starts) == 1 and len(stops) == 1
    assert stops[0].t_ns / MS >= entry["speech_end_ms"] - 60
    complete = entries["complete02_piper.wav"]
    turns = ClientTurnEnd("medium", SharedTurnModel(), executor=InlineExecutor())
    starts, stops = _turns_of(turns_dir / complete["file"], turns)
    assert len(starts) == 1 and len(stops) == 1
    assert abs(stops[0].t_ns / MS - complete["speech_end_ms"]) <= 100
    assert turns.decisions[-1].reason is Reason.COMPLETE


@pytest.mark.parametrize(("detection", "wired"), [("client", True), ("server", False)])
def test_the_settings_decide_whether_a_file_uses_the_turn_model(
    media_dir: Path, detection: str, wired: bool
) -> None:
    fa = build_file_audio(
        media_dir / "speech" / "q01_piper.wav",
        None,
        send_rate_hz=24000,
        settings=Settings(turn_detection=detection, patience="low"),
    )
    assert (fa._turns is not None) is wired
    if wired:
        assert fa._turns is not None and fa._turns.eagerness == "high"
