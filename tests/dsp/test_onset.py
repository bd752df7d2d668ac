"""OnsetDetector in a simulated room (real AEC3): echo never fires it, the user's voice does at
once. Virtual time; no model (the judge has no transcriber here, so only the duck is checked)."""

from __future__ import annotations

import numpy as np
import pytest

from audio.interruption_judge import Duck
from dsp.onset import OnsetConfig, OnsetDetector, Reason
from tests.audio.room import BLOCK, MS, RATE, Room, clip, reply_speech, turn_clips

ROOMS = {
    "laptop speakers, loud echo": {"echo_db": 0.0},
    "long echo delay": {"echo_delay_ms": 120},
    "noisy room": {"echo_db": -3.0, "noise_dbfs": -50.0},
    "no canceller": {"aec": False, "echo_db": -20.0},
}


@pytest.mark.parametrize("room", list(ROOMS))
def test_echo_of_a_long_reply_never_fires(room: str) -> None:
    r = Room(None, **ROOMS[room])  # type: ignore[arg-type]
    r.play("reply", reply_speech(25))
    r.run(None, 2500)
    assert r.monitor.detector.onsets == 0
    assert r.actions == []


CLIPS = turn_clips("backchannel", "interrupt")


@pytest.mark.parametrize("meta", CLIPS, ids=[str(m["file"]) for m in CLIPS])
def test_user_voice_over_the_reply_ducks_within_a_few_blocks(meta: dict[str, object]) -> None:
    r = Room(None)
    r.play("reply", reply_speech(10))
    r.run(None, 300)  # the reply plays alone for 3 s (the canceller converges)
    t_speech = r.t_ns + int(meta["speech_start_ms"]) * MS  # type: ignore[call-overload]
    r.run(clip(str(meta["file"])), 150)
    ducks = [a for a in r.actions if isinstance(a, Duck)]
    assert len(ducks) == 1
    # the onset block is at most 4 blocks after the annotated start of speech
    assert t_speech - 10 * MS <= ducks[0].onset_ns <= t_speech + 40 * MS


def test_quiet_room_onset_and_release_without_a_reply() -> None:
    det = OnsetDetector(OnsetConfig(rate_hz=RATE))
    rng = np.random.default_rng(0)
    silence = np.zeros(BLOCK, dtype=np.int16)
    user = clip("interrupt01_espeak.wav")
    reasons = []
    for k in range(len(user) // BLOCK):
        noise = rng.standard_normal(BLOCK) * 30
        mic = np.clip(user[k * BLOCK : (k + 1) * BLOCK] + noise, -32768, 32767).astype(np.int16)
        reasons.append(det.process(mic, mic, silence, k * 10 * MS).reason)
    assert reasons[:10] == [Reason.WARMING_UP] * 10
    assert reasons.count(Reason.ONSET) == 1
    first = reasons.index(Reason.ONSET)
    assert 58 <= first <= 62  # speech starts at 600 ms
    assert Reason.RELEASED in reasons[first:]


def test_clean_and_raw_band_powers_in_one_fft_equal_one_block_at_a_time() -> None:
    """Issue 16 item 4: both band powers come from one FFT call; the figures are bit-for-bit
    those of a block alone (so the detector's decisions cannot move)."""
    det = OnsetDetector(OnsetConfig(rate_hz=48000))
    voice = clip("interrupt01_piper.wav")
    rng = np.random.default_rng(5)
    for k in range(0, len(voice) - 480, 480):
        clean = voice[k : k + 480]
        raw = (clean + rng.normal(0, 300, 480)).clip(-32768, 32767).astype(np.int16)
        assert det._band_powers(clean, raw) == (det._band_power(clean), det._band_power(raw))
