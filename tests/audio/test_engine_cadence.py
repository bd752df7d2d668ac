"""The engine's process() cadence (issue 16 item 4): batches of 10 ms blocks give the per-block
events, and ``process_period_ms`` asks for one block while a reply plays, 20 ms otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.errors import AudioConfigError
from audio.events import AudioEvent, BargeIn, MicAudio, VoiceStarted, VoiceStopped
from dsp.resample import resample
from tests.audio.fakes import FakeClock, FakeFactory
from tests.audio.helpers import load
from tests.audio.room import TURNS, clip

MS = 1_000_000


def resample16(pcm16k: np.ndarray) -> np.ndarray:
    return np.frombuffer(resample(pcm16k.tobytes(), 16000, 48000), dtype=np.int16)


def make(judge: bool = False, **cfg: object) -> tuple[AudioEngine, FakeFactory]:
    clock = FakeClock()
    factory = FakeFactory(clock)
    engine = AudioEngine(
        AudioConfig(**cfg),  # type: ignore[arg-type]
        factory,
        clock=clock,
        judge_interruptions=judge,
    )
    engine.start()
    engine.process()
    return engine, factory


def run(
    mic: np.ndarray, batch: int, judge: bool, reply: bool
) -> tuple[list[AudioEvent], bytes, bytes]:
    """Feed ``mic`` in 10 ms callbacks, ``process()`` after every ``batch`` of them."""
    engine, factory = make(judge=judge)
    if reply:
        tone = (np.sin(np.arange(24000 * 3) / 7.0) * 3000).astype(np.int16)
        engine.play("r", tone.tobytes(), 24000)
    n = len(mic) // 480 // batch * batch
    events: list[AudioEvent] = []
    a16: list[bytes] = []
    send: list[bytes] = []
    for k in range(n):
        factory.stream.tick(mic[k * 480 : (k + 1) * 480])
        if (k + 1) % batch == 0:
            for ev in engine.process():
                if isinstance(ev, MicAudio):
                    a16.append(ev.pcm16_16k)
                    send.append(ev.pcm16_send)
                else:
                    events.append(ev)
    engine.stop()
    return events, b"".join(a16), b"".join(send)


@pytest.mark.parametrize(
    ("name", "judge", "reply"),
    [("q05_piper.wav", False, False), ("interrupt01_piper.wav", True, True)],
)
@pytest.mark.parametrize("batch", [2, 3])
def test_batches_of_blocks_give_the_per_block_events_and_audio(
    name: str, judge: bool, reply: bool, batch: int
) -> None:
    quiet = np.zeros(48000, dtype=np.int16)
    voice = resample16(clip(name)) if (TURNS / name).exists() else load(name)
    mic = np.concatenate([quiet, voice, quiet, quiet])
    one, one16, one_send = run(mic, 1, judge, reply)
    many, many16, many_send = run(mic, batch, judge, reply)
    # With a reply playing the duck lands up to a batch later, so the speaker (the canceller's
    # far end) and the cleaned audio differ from there on: the app does not batch then
    # (``process_period_ms``). Listening only, everything is the same.
    for a, b, rate in () if reply else ((one16, many16, 16000), (one_send, many_send, 24000)):
        # the same audio bit for bit; soxr may still hold a few ms more of the tail (its
        # internal blocks fall differently on other chunk sizes)
        n = min(len(a), len(b))
        assert n > 2 * rate and a[:n] == b[:n]
        assert abs(len(a) - len(b)) <= 2 * rate * 50 // 1000
    voice_events = (VoiceStarted, VoiceStopped)
    assert [e for e in many if isinstance(e, voice_events)] == [
        e for e in one if isinstance(e, voice_events)
    ], "same samples and capture times"
    assert any(isinstance(e, VoiceStarted) for e in one)
    barge_one = [e for e in one if isinstance(e, BargeIn)]
    barge_many = [e for e in many if isinstance(e, BargeIn)]
    assert len(barge_one) == len(barge_many) == (1 if reply else 0)
    for a, b in zip(barge_one, barge_many, strict=True):
        # decided in the same block; reported when that block's batch is processed
        assert 0 <= b.t_ns - a.t_ns <= (batch - 1) * 10 * MS
        assert a.item_id == b.item_id and abs(a.played_ms - b.played_ms) <= (batch - 1) * 10


def test_one_block_while_a_reply_plays_and_the_listen_period_otherwise() -> None:
    engine, factory = make()
    assert engine.process_period_ms == 20
    engine.play("r", bytes(2 * 2400), 24000)  # 100 ms
    assert engine.process_period_ms == 10
    for _ in range(30):  # prefill, play and finish the reply
        factory.stream.tick()
        engine.process()
    assert not engine.is_playing
    assert engine.process_period_ms == 20
    engine.stop()

    slow, _ = make(listen_period_ms=40, block_ms=20)
    assert slow.process_period_ms == 40
    slow.play("r", bytes(2 * 2400), 24000)
    assert slow.process_period_ms == 20, "never shorter than a device block"
    slow.stop()


@pytest.mark.parametrize("ms", [0, 15, 110])
def test_listen_period_must_be_whole_blocks(ms: int) -> None:
    with pytest.raises(AudioConfigError, match="listen_period_ms"):
        AudioConfig(listen_period_ms=ms)
