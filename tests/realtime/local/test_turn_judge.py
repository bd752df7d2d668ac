"""The server's semantic_vad judge: Smart Turn's three end points are one batched model call."""

from __future__ import annotations

import asyncio
import concurrent.futures
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from dsp.turn_model import TurnModel, log_mel_features
from realtime.local.turn_judge import TurnJudge
from realtime.local.turns import JudgeTurn


class _RecordingSession:
    """An onnxruntime stand-in answering P = 0.3 for every window; records each batch."""

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []

    def run(self, _outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self.batches.append(feeds["input_features"])
        return [np.full((feeds["input_features"].shape[0], 1), 0.3, dtype=np.float32)]


def test_a_checkpoint_runs_the_turn_model_once_on_its_three_end_points() -> None:
    session = _RecordingSession()
    turn = TurnModel(_session=session, path=Path("fake.onnx"))
    models: Any = SimpleNamespace(turn=turn, llm=None)
    pcm = (np.sin(np.arange(16000) / 5) * 8000).astype("<i2").tobytes()
    with concurrent.futures.ThreadPoolExecutor(1) as executor:
        judge = TurnJudge(models, executor)
        ask = JudgeTurn(ask_id=1, silence_ms=200, start_sample=0, pcm16_16k=pcm)
        verdict = asyncio.run(judge.judge(ask, None, [], acoustic_threshold=0.6))
    assert abs(verdict.acoustic - 0.3) < 1e-6 and verdict.transcript is None  # below 0.6
    assert len(session.batches) == 1 and session.batches[0].shape == (3, 80, 800)
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    assert np.array_equal(session.batches[0][2], log_mel_features(audio[: 16000 - 320]))
