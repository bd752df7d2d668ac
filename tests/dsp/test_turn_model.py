"""Smart Turn v3.2 through dsp.turn_model: features, loading errors and real judgements."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from dsp.turn_model import (
    ACOUSTIC_OFFSETS_MS,
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


class _RecordingSession:
    """An onnxruntime stand-in: records each run's batch and answers P = 0.1, 0.2, ... ."""

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []

    def run(self, _outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        batch = feeds["input_features"]
        self.batches.append(batch)
        return [np.arange(1, batch.shape[0] + 1, dtype=np.float32).reshape(-1, 1) / 10]


def test_the_three_end_points_are_judged_in_one_batched_call() -> None:
    session = _RecordingSession()
    model = TurnModel(_session=session, path=Path("fake.onnx"))
    audio = np.sin(np.arange(SAMPLE_RATE_HZ, dtype=np.float32) / 7).astype(np.float32)
    assert model.mean_probability(audio) == pytest.approx((0.1 + 0.2 + 0.3) / 3)
    assert len(session.batches) == 1 and session.batches[0].shape == (3, 80, 800)
    for i, ms in enumerate(ACOUSTIC_OFFSETS_MS):  # each row is its own end point's window
        expected = log_mel_features(audio[: audio.size - 16 * ms])
        assert np.array_equal(session.batches[0][i], expected)


def test_end_points_longer_than_the_audio_are_left_out() -> None:
    session = _RecordingSession()
    model = TurnModel(_session=session, path=Path("fake.onnx"))
    assert model.mean_probability(np.ones(200, dtype=np.float32)) == pytest.approx(0.15)
    assert session.batches[0].shape[0] == 2  # 0 and 10 ms: 20 ms is longer than 12.5 ms
    assert model.mean_probability(np.zeros(0, dtype=np.float32)) == 0.0
    assert len(session.batches) == 1  # nothing to judge: the model is not run


def test_the_batched_mean_equals_the_mean_of_single_calls(turn_model: TurnModel) -> None:
    entries = _entries()
    audio = _clip("paused08_piper.wav")
    pause_ms = int(entries["paused08_piper.wav"]["pause_start_ms"])  # type: ignore[call-overload]
    audio = audio[: (pause_ms + 200) * 16]
    singles = [turn_model.probability(audio[: audio.size - 16 * ms]) for ms in ACOUSTIC_OFFSETS_MS]
    assert turn_model.mean_probability(audio) == pytest.approx(sum(singles) / 3, abs=1e-5)
