"""Player duck/hold: ramps without steps, at least 20 dB down, hold resumes where it stopped."""

from __future__ import annotations

import numpy as np

from audio.jitter import JitterBuffer
from audio.player import Player

RATE = 48000
BLOCK = 480
MS = 1_000_000


def player_with(samples: np.ndarray) -> Player:
    p = Player(JitterBuffer(RATE, prefill_ms=20), BLOCK)
    p.play("a", samples.tobytes(), RATE, 0)
    p.end_item("a", 0)
    return p


def blocks(p: Player, n: int) -> np.ndarray:
    out = []
    for k in range(n):
        b = np.zeros(BLOCK, dtype=np.int16)
        p.fill(b, k * 10 * MS)
        out.append(b)
    return np.concatenate(out)


def test_duck_ramps_down_smoothly_and_restores_without_a_step() -> None:
    level = 16000
    p = player_with(np.full(RATE * 2, level, dtype=np.int16))
    before = blocks(p, 3)
    assert np.all(before == level)
    p.set_duck(10 ** (-30 / 20), ramp_ms=5)
    ducked = blocks(p, 3)
    assert ducked[0] < level and np.all(np.diff(ducked.astype(int)) <= 0)
    assert ducked[RATE * 5 // 1000 :].max() <= level * 0.1  # ≥ 20 dB down after the 5 ms ramp
    steps = np.abs(np.diff(np.concatenate([before, ducked]).astype(int)))
    assert steps.max() <= level / (RATE * 5 // 1000) + 2  # one ramp step per sample, no jump
    p.set_duck(1.0, ramp_ms=150)
    up = blocks(p, 20)
    assert np.all(np.diff(up.astype(int)) >= 0) and up[-1] == level
    assert np.abs(np.diff(up.astype(int))).max() <= level / (RATE * 150 // 1000) + 2


def test_hold_fades_out_stops_consuming_and_resumes_exactly_there() -> None:
    ramp = ((np.arange(RATE) % 20000) + 1).astype(np.int16)  # never zero: zero means silence
    p = player_with(ramp)
    first = blocks(p, 5)
    p.set_duck(0.0, ramp_ms=10, hold=True)
    fade = blocks(p, 1)  # the fade consumes one 10 ms block
    played_at_hold = p.played_ms("a")
    silent = blocks(p, 10)
    assert np.all(silent == 0) and p.held
    assert p.played_ms("a") == played_at_hold, "a held reply is not consumed"
    p.set_duck(1.0, ramp_ms=1)
    rest = blocks(p, 200)
    real = rest[rest != 0]
    # the reply continues with the sample after the faded block (ramped up over its first 1 ms =
    # 48 samples): nothing skipped, nothing repeated
    resume = ramp[len(first) + len(fade) :]
    assert np.array_equal(real[48:148], resume[48:148])
    assert np.all(real[:48] <= resume[:48])
    assert p.played_ms("a") == 1000 and not p.is_playing
    assert fade[-1] == 0 and abs(int(fade[0])) > 0


def test_clear_after_a_hold_leaves_the_next_reply_at_full_gain() -> None:
    p = player_with(np.full(RATE, 8000, dtype=np.int16))
    blocks(p, 2)
    p.set_duck(0.0, ramp_ms=10, hold=True)
    blocks(p, 3)
    p.clear()
    p.set_duck(1.0, ramp_ms=1)
    blocks(p, 1)
    p.play("b", np.full(RATE // 10, 8000, dtype=np.int16).tobytes(), RATE, 0)
    p.end_item("b", 0)
    out = blocks(p, 12)
    assert out.max() == 8000 and p.played_ms("b") == 100
