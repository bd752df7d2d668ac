"""Echo cancellation on synthetic rooms, standalone and through the engine (fake stream)."""

from __future__ import annotations

import numpy as np
import pytest

from audio.aec import EchoCanceller
from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import MicAudio, VoiceStarted
from dsp.pcm import dbfs
from tests.audio.fakes import FakeClock, FakeFactory
from tests.audio.helpers import load

RATE = 48000
BLOCK = 480


def room(far: np.ndarray, delay_ms: int = 80, gain: float = 0.5) -> np.ndarray:
    d = delay_ms * RATE // 1000
    echo = np.zeros_like(far, dtype=np.float64)
    echo[d:] = far[:-d] * gain
    echo[d + 480 :] += far[: -d - 480] * gain * 0.3  # one reflection
    return np.clip(echo, -32768, 32767).astype(np.int16)


def run(aec: EchoCanceller, near: np.ndarray, far: np.ndarray) -> np.ndarray:
    n = len(near) // BLOCK * BLOCK
    return np.concatenate(
        [aec.process(near[k : k + BLOCK], far[k : k + BLOCK]) for k in range(0, n, BLOCK)]
    )


def test_echo_is_removed_and_meter_says_speakers_ok():
    far = np.concatenate([load("q06_piper.wav"), load("q07_piper.wav")])
    near = room(far)
    aec = EchoCanceller(RATE)
    out = run(aec, near, far)
    tail = slice(2 * RATE, len(out))
    reduction = dbfs(near[tail].tobytes()) - dbfs(out[tail].tobytes())
    assert reduction > 25
    assert aec.erle_db is not None and aec.erle_db > 20
    assert aec.hint() == "speakers_ok"


def test_double_talk_keeps_the_user():
    far = np.concatenate([load("q06_piper.wav"), load("q06_piper.wav")])
    user = np.zeros_like(far)
    q = load("q08_piper.wav")
    user[len(far) - len(q) :] = q
    near = np.clip(room(far).astype(np.int32) + user, -32768, 32767).astype(np.int16)
    out = run(EchoCanceller(RATE), near, far)
    seg = slice(len(far) - len(q) + RATE // 2, len(far) - RATE // 2)
    assert dbfs(out[seg].tobytes()) > dbfs(user[seg].tobytes()) - 6, "user kept (not ducked out)"
    corr = np.corrcoef(envelope(out[seg]), envelope(user[seg]))[0, 1]
    assert corr > 0.7, "what remains is the user's speech"


def envelope(x: np.ndarray) -> np.ndarray:
    """Log RMS per 10 ms (AEC3 + noise suppression change phase, not the envelope)."""
    n = len(x) // BLOCK
    blocks = x[: n * BLOCK].astype(float).reshape(n, BLOCK)
    return np.log10(np.sqrt((blocks**2).mean(axis=1)) + 1.0)


def test_disabled_passes_audio_and_reports_off():
    aec = EchoCanceller(RATE, enabled=False, noise_suppression=False)
    x = load("q01_piper.wav")[:4800]
    assert np.array_equal(aec.process(x, x), x)
    assert aec.erle_db is None and aec.hint() == "aec_off"


def test_rejects_partial_frames():
    with pytest.raises(Exception, match="10 ms"):
        EchoCanceller(RATE).process(np.zeros(500, np.int16), np.zeros(500, np.int16))


@pytest.mark.parametrize("aec_on", [True, False])
def test_engine_does_not_hear_its_own_voice(aec_on: bool):
    """Room simulated around the fake stream: mic = what the speaker played 80 ms ago, -6 dB."""
    clock = FakeClock()
    factory = FakeFactory(clock)
    engine = AudioEngine(AudioConfig(headphones=not aec_on), factory, clock=clock)
    engine.start()
    engine.process()
    s = factory.stream
    reply = np.concatenate([load(f"q0{i}_piper.wav", 24000) for i in (1, 2, 3)])
    engine.play("r", reply.tobytes(), 24000)
    engine.end_item("r")
    user = load("q04_espeak.wav")
    user_at = 6 * RATE  # the user talks over the reply from 6 s on
    spk_hist = np.zeros(RATE * 20, np.int16)
    starts = []
    n_blocks = len(reply) * 2 // BLOCK + 100
    pos = 0
    for _k in range(n_blocks):
        echo = room(spk_hist[max(0, pos - RATE) : pos + BLOCK])[-BLOCK:] if pos else np.zeros(BLOCK)
        mic = echo.astype(np.int32)
        u = pos - user_at
        if 0 <= u < len(user):
            mic[: min(BLOCK, len(user) - u)] += user[u : u + BLOCK]
        out = s.tick(np.clip(mic, -32768, 32767).astype(np.int16))
        spk_hist[pos : pos + BLOCK] = out
        pos += BLOCK
        for ev in engine.process():
            if isinstance(ev, VoiceStarted):
                starts.append((ev.t_ns - 1_000_000_000) / 1e9)
            assert not isinstance(ev, MicAudio) or ev.send_rate_hz == 24000
    own_voice = [t for t in starts if t < 6.0]
    if aec_on:
        assert own_voice == [], "echo cancellation must keep VAD off the assistant's voice"
        assert engine.meters().false_pauses == 0, "no stutter from provisional pauses either"
        assert any(6.0 <= t <= 6.0 + 1.2 for t in starts), "the user is still heard over it"
    else:
        assert own_voice, "control: without AEC the VAD hears the assistant (test can fail)"


def test_levels_from_the_cancellers_mean_squares_match_dbfs_of_the_blocks():
    from audio.aec import mean_square
    from audio.meters import level_dbfs
    from dsp.pcm import dbfs

    rng = np.random.default_rng(3)
    aec = EchoCanceller(48000)
    for scale in (0.0, 3.0, 300.0, 12000.0):
        near = (rng.standard_normal(960) * scale).clip(-32768, 32767).astype(np.int16)
        far = (rng.standard_normal(960) * scale / 2).clip(-32768, 32767).astype(np.int16)
        aec.process(near, far)
        assert level_dbfs(aec.near_power) == pytest.approx(dbfs(near.tobytes()), abs=1e-3)
        assert level_dbfs(aec.far_power) == pytest.approx(dbfs(far.tobytes()), abs=1e-3)
    full = np.full(4800, -32768, dtype=np.int16)
    assert mean_square(full) == pytest.approx(32768.0**2, rel=1e-6)
    assert mean_square(full[:0]) == 0.0
