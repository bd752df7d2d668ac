"""Shared helpers for audio tests: loading media at the device rate, driving a fake engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audio.engine import AudioEngine
from audio.events import AudioEvent
from dsp.pcm import read_wav
from dsp.resample import resample
from tests.audio.fakes import FakeStream

SPEECH = Path(__file__).resolve().parents[2].parent / "shared" / "media" / "speech"


def load(name: str, rate: int = 48000) -> np.ndarray:
    pcm, r = read_wav(SPEECH / name)
    return np.frombuffer(resample(pcm, r, rate), dtype=np.int16)


def drive(
    engine: AudioEngine, stream: FakeStream, mic: np.ndarray, pad_blocks: int = 0
) -> tuple[list[AudioEvent], np.ndarray]:
    """Feed ``mic`` block by block (processing after every callback); return events + speaker."""
    frames = stream.spec.block_frames
    n_blocks = -(-len(mic) // frames) + pad_blocks
    events: list[AudioEvent] = []
    spk = []
    for k in range(n_blocks):
        block = mic[k * frames : (k + 1) * frames]
        spk.append(stream.tick(block))
        events.extend(engine.process())
    return events, np.concatenate(spk) if spk else np.zeros(0, np.int16)
