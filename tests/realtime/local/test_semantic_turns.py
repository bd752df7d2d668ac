"""semantic_vad in the offline server's input buffer: Smart Turn judges at audio-time checkpoints.

The shared turn clips are streamed in 20 ms chunks, much faster than real time; decisions depend
only on the audio, so the same clip always gives the same turns.
"""

from __future__ import annotations

import itertools
import json
import wave
from pathlib import Path

import numpy as np
import pytest

from dsp.end_of_turn import Reason, policy_for
from dsp.resample import StreamResampler
from dsp.turn_model import TurnModel
from realtime.local.turns import (
    InputBuffer,
    JudgeTurn,
    ServerVadParams,
    SilenceBegan,
    TurnCommitted,
)

TURNS = Path("/work/shared/media/turns")
CHUNK_BYTES_24K = 24000 * 2 * 20 // 1000
ENTRIES = json.loads((TURNS / "turns.json").read_text()) if TURNS.is_dir() else []
COMPLETE = [e for e in ENTRIES if e["kind"] == "complete"]
pytestmark = pytest.mark.skipif(not ENTRIES, reason="shared turn clips not present")


def _stream(entry: dict[str, object], params: ServerVadParams, judge: object) -> InputBuffer:
    with wave.open(str(TURNS / str(entry["file"]))) as w:
        pcm16k = w.readframes(w.getnframes())
    pcm24 = StreamResampler(16000, 24000).process(pcm16k) + bytes(24000 * 2 * 3)
    ids = itertools.count()
    buf = InputBuffer(lambda: f"item_{next(ids)}", params, judge)  # type: ignore[arg-type]
    buf.commits = []  # type: ignore[attr-defined]
    for i in range(0, len(pcm24), CHUNK_BYTES_24K):
        for ev in buf.append(pcm24[i : i + CHUNK_BYTES_24K]):
            if isinstance(ev, TurnCommitted):
                buf.commits.append(ev)  # type: ignore[attr-defined]
    return buf


@pytest.fixture(scope="module")
def judge(turn_model: TurnModel) -> object:
    calls: list[int] = []

    def judge(pcm16_16k: bytes) -> float:
        calls.append(len(pcm16_16k))
        return turn_model.probability(
            np.frombuffer(pcm16_16k, dtype="<i2").astype(np.float32) / 32768.0
        )

    judge.calls = calls  # type: ignore[attr-defined]
    return judge


@pytest.mark.parametrize("entry", COMPLETE, ids=[e["file"] for e in COMPLETE])
def test_every_complete_clip_ends_its_turn_soon_after_the_speech(
    entry: dict[str, object], judge: object
) -> None:
    buf = _stream(entry, ServerVadParams(silence_duration_ms=700, eagerness="auto"), judge)
    last = buf.commits[-1]  # type: ignore[attr-defined]
    end_ms = int(entry["speech_end_ms"])  # type: ignore[call-overload]
    assert abs(last.last_voiced_sample // 16 - end_ms) < 200
    decision = buf.decisions[-1]
    assert decision.reason in (Reason.COMPLETE, Reason.CAP)
    assert decision.silence_ms <= policy_for("auto").hold_cap_ms


def test_server_vad_never_asks_the_turn_model(judge: object) -> None:
    before = len(judge.calls)  # type: ignore[attr-defined]
    buf = _stream(COMPLETE[0], ServerVadParams(silence_duration_ms=500), judge)
    assert len(buf.commits) == 1  # type: ignore[attr-defined]
    assert buf.decisions == [] and len(judge.calls) == before  # type: ignore[attr-defined]


def test_semantic_vad_without_a_model_waits_for_its_silence() -> None:
    buf = _stream(COMPLETE[0], ServerVadParams(silence_duration_ms=700, eagerness="auto"), None)
    assert len(buf.commits) == 1 and buf.decisions == []  # type: ignore[attr-defined]


def _pcm24(entry: dict[str, object]) -> bytes:
    with wave.open(str(TURNS / str(entry["file"]))) as w:
        pcm16k = w.readframes(w.getnframes())
    return StreamResampler(16000, 24000).process(pcm16k) + bytes(24000 * 2 * 3)


@pytest.mark.parametrize("entry", COMPLETE[:2], ids=[e["file"] for e in COMPLETE[:2]])
def test_asking_the_caller_holds_the_audio_and_decides_as_the_inline_judge(
    entry: dict[str, object], judge: object
) -> None:
    """ask_caller=True (the server): a checkpoint becomes a JudgeTurn; audio appended before the
    answer is held (nothing happens), and the turns come out exactly as with the inline judge."""
    params = ServerVadParams(silence_duration_ms=700, eagerness="auto")
    inline = _stream(entry, params, judge)
    ids = itertools.count()
    buf = InputBuffer(lambda: f"item_{next(ids)}", params, None, ask_caller=True)
    pcm24 = _pcm24(entry)
    chunks = [pcm24[i : i + CHUNK_BYTES_24K] for i in range(0, len(pcm24), CHUNK_BYTES_24K)]
    commits: list[TurnCommitted] = []
    asks: list[JudgeTurn] = []
    held_ok = []
    for chunk in chunks:
        ask = buf.asking
        before = buf.stream_samples
        events = buf.append(chunk)
        if ask is not None:  # the chunk arrived while the judgement ran: held
            held_ok.append(events == [] and buf.stream_samples == before)
            events = buf.judged(ask.ask_id, judge(ask.pcm16_16k), None)  # type: ignore[operator]
        for ev in events:
            if isinstance(ev, TurnCommitted):
                commits.append(ev)
            elif isinstance(ev, JudgeTurn):
                asks.append(ev)
    assert asks and held_ok and all(held_ok)
    expected = inline.commits  # type: ignore[attr-defined]
    assert [(c.start_sample, c.last_voiced_sample) for c in commits] == [
        (c.start_sample, c.last_voiced_sample) for c in expected
    ]
    assert [d.reason for d in buf.decisions] == [d.reason for d in inline.decisions]


def test_a_stale_answer_is_ignored_after_clear(judge: object) -> None:
    ids = itertools.count()
    params = ServerVadParams(silence_duration_ms=700, eagerness="auto")
    buf = InputBuffer(lambda: f"item_{next(ids)}", params, None, ask_caller=True)
    pcm24 = _pcm24(COMPLETE[0])
    ask = None
    for i in range(0, len(pcm24), CHUNK_BYTES_24K):
        for ev in buf.append(pcm24[i : i + CHUNK_BYTES_24K]):
            if isinstance(ev, JudgeTurn):
                ask = ev
        if ask is not None:
            break
    assert ask is not None
    buf.clear()
    assert buf.asking is None
    assert buf.judged(ask.ask_id, 0.99, None) == []
    assert buf.decisions == []


def test_the_buffer_says_quiet_from_the_voice_stopping_until_the_turn_ends() -> None:
    """``quiet`` (which keeps the live transcript from starting a re-decode) turns on before
    ``SilenceBegan`` and off when the turn is committed."""
    ids = itertools.count()
    params = ServerVadParams(silence_duration_ms=500)
    buf = InputBuffer(lambda: f"item_{next(ids)}", params, None)
    pcm24 = _pcm24(COMPLETE[0])
    quiet_before_silence = loud_in_speech = False
    seen: list[str] = []
    for i in range(0, len(pcm24), CHUNK_BYTES_24K):
        was_quiet = buf.quiet
        events = buf.append(pcm24[i : i + CHUNK_BYTES_24K])
        for ev in events:
            seen.append(type(ev).__name__)
            if isinstance(ev, SilenceBegan) and len(seen) <= 2:
                quiet_before_silence = was_quiet and buf.quiet
        if seen == ["SpeechBegan"] and not buf.quiet:
            loud_in_speech = True
    assert loud_in_speech
    assert seen[:2] == ["SpeechBegan", "SilenceBegan"] and "TurnCommitted" in seen
    assert quiet_before_silence
    assert not buf.quiet  # committed: no utterance
