"""Smart Turn v3.2 through dsp.turn_model: features, loading errors and real judgements."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from dsp.turn_model import (
    SAMPLE_RATE_HZ,
    WINDOW_SAMPLES,
    TurnModel,
    TurnModelMissing,
    fit_window,
    log_mel_features,
)

TURNS = Path("/work/shared/media/turns")
if not TURNS.is_dir():  # a clone outside the shared machine
    TURNS = Path(__file__).resolve().parents[2] / "media" / "turns"


def _clip(name: str) -> np.ndarray:
    with wave.open(str(TURNS / name)) as w:
        assert w.getframerate() == SAMPLE_RATE_HZ and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768


def _entries() -> dict[str, dict[str, object]]:
    return {e["file"]: e for e in json.loads((TURNS / "turns.json").read_text())}


def test_window_is_padded_at_the_start_and_keeps_the_end() -> None:
    short = np.ones(1000, dtype=np.float32)
    fitted = fit_window(short)
    assert fitted.shape == (WINDOW_SAMPLES,)
    assert fitted[-1000:].tolist() == short.tolist() and not fitted[:-1000].any()
    long = np.arange(WINDOW_SAMPLES + 5, dtype=np.float32)
    assert fit_window(long)[0] == 5.0


def test_features_have_the_whisper_shape_and_range() -> None:
    tone = np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE_HZ) / SAMPLE_RATE_HZ).astype(np.float32)
    features = log_mel_features(tone)
    assert features.shape == (80, 800) and features.dtype == np.float32
    assert features.max() - features.min() <= 2.0 + 1e-6  # an 8-decade floor, divided by 4
    # 440 Hz lands in a low mel bin: the tone's frames are loudest there.
    assert int(np.argmax(features[:, -10])) < 20


def test_missing_model_says_how_to_fetch_it(tmp_path: Path) -> None:
    with pytest.raises(TurnModelMissing, match=r"fetch_smart_turn\.py"):
        TurnModel.load(tmp_path / "absent.onnx")


def test_model_tells_a_finished_question_from_a_hesitation(turn_model: TurnModel) -> None:
    entries = _entries()
    finished = _clip("complete02_piper.wav")
    end_ms = int(entries["complete02_piper.wav"]["speech_end_ms"])  # type: ignore[call-overload]
    assert turn_model.probability(finished[: (end_ms + 200) * 16]) > 0.8
    paused = _clip("paused08_piper.wav")
    pause_ms = int(entries["paused08_piper.wav"]["pause_start_ms"])  # type: ignore[call-overload]
    assert turn_model.probability(paused[: (pause_ms + 200) * 16]) < 0.2


def test_silence_is_not_a_finished_turn_with_certainty(turn_model: TurnModel) -> None:
    p = turn_model.probability(np.zeros(SAMPLE_RATE_HZ, dtype=np.float32))
    assert 0.0 <= p <= 1.0
