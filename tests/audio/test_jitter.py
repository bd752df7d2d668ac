"""JitterBuffer: fed whole, in random chunks, with underruns and clears."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audio.jitter import JitterBuffer

RATE = 16000
BLOCK = 160  # 10 ms
MS = 1_000_000


def ramp(n: int, start: int = 1) -> np.ndarray:
    return ((np.arange(n) + start) % 30000 + 1).astype(np.int16)  # never 0: zero = silence


def read(jb: JitterBuffer, t_ns: int, block: int = BLOCK) -> tuple[np.ndarray, int]:
    out = np.full(block, -7, dtype=np.int16)
    n = jb.read_into(out, t_ns)
    assert np.all(out[n:] == 0), "the rest of the block must be zero-filled"
    return out, n


def test_whole_item_plays_exactly_once():
    jb = JitterBuffer(RATE, prefill_ms=40)
    data = ramp(1000)
    jb.write("a", data, 0)
    jb.end("a")
    got = []
    for k in range(10):
        out, n = read(jb, k * 10 * MS)
        got.append(out[:n])
    played = np.concatenate(got)
    assert np.array_equal(played, data)
    assert jb.played_samples("a") == 1000
    assert jb.played_ms("a") == 62
    assert jb.received_ms("a") == 62
    assert jb.underruns == 0
    assert not jb.playing


def test_bytes_input_and_prefill_wait():
    jb = JitterBuffer(RATE, prefill_ms=40, adaptive=False)
    jb.write("a", ramp(320).tobytes(), 0)  # 20 ms < 40 ms target, not ended
    _, n = read(jb, 1 * MS)
    assert n == 0, "must wait for the prefill"
    jb.write("a", ramp(320, 321), 2 * MS)
    _, n = read(jb, 3 * MS)
    assert n == BLOCK
    assert jb.first_audible_ns("a") == 3 * MS


def test_tail_without_end_plays_after_target_wait():
    jb = JitterBuffer(RATE, prefill_ms=40, adaptive=False)
    jb.write("a", ramp(100), 0)
    assert read(jb, 10 * MS)[1] == 0
    assert read(jb, 41 * MS)[1] == 100
    assert jb.underruns == 0


def test_underrun_counted_only_for_gap_inside_item():
    jb = JitterBuffer(RATE, prefill_ms=20, adaptive=False)  # 320 samples
    jb.write("a", ramp(400), 0)
    assert read(jb, 0)[1] == 160
    assert read(jb, 10 * MS)[1] == 160
    _out, n = read(jb, 20 * MS)
    assert n == 80
    assert jb.underruns == 0, "not yet known to be a gap"
    read(jb, 30 * MS)  # still dry: zero-fill, rebuffering
    jb.write("a", ramp(400, 401), 35 * MS)
    assert jb.underruns == 1
    assert jb.underrun_samples == 80 + 160
    assert read(jb, 40 * MS)[1] == 160
    assert jb.played_samples("a") == 560, "zero-fill is never counted as played"
    jb.end("a")
    for k in range(5):
        read(jb, (50 + 10 * k) * MS)
    assert jb.played_samples("a") == 800
    assert jb.underruns == 1, "an ended item running dry is not an underrun"


def test_clear_drops_queue_keeps_positions_and_ignores_late_audio():
    jb = JitterBuffer(RATE, prefill_ms=20)
    jb.write("a", ramp(1600), 0)
    read(jb, 0)
    read(jb, 10 * MS)
    assert jb.clear() == ["a"]
    assert not jb.playing
    assert read(jb, 20 * MS)[1] == 0
    assert jb.played_ms("a") == 20
    jb.write("a", ramp(800), 25 * MS)  # late audio of the interrupted item
    assert read(jb, 30 * MS)[1] == 0
    jb.write("b", ramp(800), 35 * MS)
    jb.end("b")
    out, n = read(jb, 40 * MS)
    assert n == 160 and out[0] == ramp(1)[0]
    assert jb.played_ms("a") == 20
    assert jb.underruns == 0


def test_items_play_in_order_and_first_audible_has_block_offset():
    jb = JitterBuffer(RATE, prefill_ms=20)
    jb.write("a", ramp(100), 0)
    jb.end("a")
    jb.write("b", ramp(500, 5000), 0)
    out, n = read(jb, 7 * MS)
    assert n == 160
    assert out[99] == ramp(100)[-1] and out[100] == ramp(1, 5000)[0]
    assert jb.first_audible_ns("a") == 7 * MS
    assert jb.first_audible_ns("b") == 7 * MS + 100 * 1_000_000_000 // RATE
    assert jb.current_item == "b"


def test_next_item_ends_previous_unfinished_one():
    jb = JitterBuffer(RATE, prefill_ms=20)
    jb.write("a", ramp(160), 0)  # never ended
    jb.write("b", ramp(160), 0)
    jb.end("b")
    assert read(jb, 0)[1] == 160
    assert read(jb, 10 * MS)[1] == 160
    assert jb.underruns == 0


def test_adaptive_target_follows_arrival_jitter():
    jb = JitterBuffer(
        RATE, prefill_ms=40, min_prefill_ms=20, max_prefill_ms=300, margin_ms=10, cold_start_ms=0
    )
    chunk = 320  # 20 ms per chunk
    for k in range(20):
        late = 80 * MS if k % 5 == 4 else 0  # bursty: every 5th chunk 80 ms late
        jb.write("a", ramp(chunk), k * 20 * MS + late)
    assert jb.target_ms == pytest.approx(90, abs=1)
    fixed = JitterBuffer(RATE, prefill_ms=40, adaptive=False)
    fixed.write("a", ramp(chunk), 0)
    fixed.write("a", ramp(chunk), 500 * MS)
    assert fixed.target_ms == 40
    capped = JitterBuffer(RATE, max_prefill_ms=100)
    capped.write("a", ramp(chunk), 0)
    capped.write("a", ramp(chunk), 900 * MS)
    assert capped.target_ms == 100


def test_adaptive_target_decays_after_window_of_heard_audio_not_idle_time():
    jb = JitterBuffer(RATE, prefill_ms=40, window_ms=1000, cold_start_ms=0)
    jb.write("a", ramp(320), 0)
    jb.write("a", ramp(320), 200 * MS)  # 180 ms late
    assert jb.target_ms > 150
    # a minute of silence between replies does not make it forget the network
    jb.write("b", ramp(320), 60_000 * MS)
    assert jb.target_ms > 150
    for k in range(1, 60):  # > 1 s of audio heard since: the late chunk left the window
        jb.write("b", ramp(320), 60_000 * MS + k * 20 * MS)
    assert jb.target_ms == 20


def test_cold_start_prior_fades_as_audio_is_heard_and_a_seed_replaces_it():
    jb = JitterBuffer(RATE, prefill_ms=40, cold_start_ms=100, learn_ms=2000)
    assert jb.target_ms == 100, "the first reply starts with room for a bursty network"
    for k in range(50):  # 1 s heard, all on time
        jb.write("a", ramp(320), k * 20 * MS)
    assert 45 <= jb.target_ms <= 55
    for k in range(50, 120):
        jb.write("a", ramp(320), k * 20 * MS)
    assert jb.target_ms == 20  # learned: on time
    seeded = JitterBuffer(RATE, prefill_ms=40, cold_start_ms=100)
    seeded.seed_lateness_ms(60)
    assert seeded.target_ms == 80 and seeded.learned_lateness_ms == 60


def test_while_learning_a_few_stalls_peak_keeps_half_again_as_much_room():
    """A peak of a few stalls underestimates the network: 1.5 x the peak (at most the prior)
    is held for learn_ms of heard audio and faded over another learn_ms."""
    jb = JitterBuffer(RATE, prefill_ms=40, margin_ms=5, cold_start_ms=100, learn_ms=2000)
    jb.write("a", ramp(320), 0)
    jb.write("a", ramp(320), 60 * MS)  # 40 ms late
    for k in range(2, 95):  # 1.9 s heard, on time since
        jb.write("a", ramp(320), k * 20 * MS + 40 * MS)
    assert jb.target_ms == pytest.approx(60, abs=1), "1.5 x 40 ms, not 40 + 5 margin"
    for k in range(95, 210):  # 4.2 s heard: faded
        jb.write("a", ramp(320), k * 20 * MS + 40 * MS)
    assert jb.target_ms == pytest.approx(45, abs=1)  # peak + margin
    big = JitterBuffer(RATE, margin_ms=5, cold_start_ms=100, learn_ms=2000)
    big.write("a", ramp(320), 0)
    big.write("a", ramp(320), 100 * MS)  # 80 ms late: 1.5 x = 120, capped at the prior
    for k in range(2, 95):
        big.write("a", ramp(320), k * 20 * MS + 80 * MS)
    assert big.target_ms == 100


def test_stall_during_prefill_does_not_delay_the_scheduled_start():
    """The first sample is due one target after the item's earliest arrival: a stall while
    the buffer fills does not push the start (and the whole item's delay) later."""
    jb = JitterBuffer(RATE, prefill_ms=40, cold_start_ms=100)
    data = ramp(1920)  # 120 ms
    jb.write("a", data[:640], 0)  # 40 ms on time
    jb.write("a", data[640:960], 60 * MS)  # 20 ms of it 20 ms late, then a stall
    assert read(jb, 90 * MS)[1] == 0
    out, n = read(jb, 100 * MS)  # 60 ms buffered, the last arrival 40 ms ago: due anyway
    assert n == 160 and jb.first_audible_ns("a") == 100 * MS
    jb.write("a", data[960:], 120 * MS)  # the stalled rest, in time for its slot
    jb.end("a")
    t, got, last_block_ns = 110 * MS, [out[:n]], 100 * MS
    while jb.playing:
        o, k = read(jb, t)
        got.append(o[:k])
        last_block_ns = t if k else last_block_ns
        t += 10 * MS
    assert jb.underruns == 0 and np.array_equal(np.concatenate(got), data)
    assert last_block_ns == 210 * MS  # on schedule: 120 ms of audio from 100 ms on


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 5000),
    cuts=st.lists(st.integers(0, 5000), max_size=30),
    block=st.sampled_from([80, 160, 441, 480]),
    ops=st.lists(st.booleans(), min_size=1, max_size=200),
    clear_at=st.one_of(st.none(), st.integers(0, 200)),
)
def test_random_chunks_and_reads_preserve_audio(n, cuts, block, ops, clear_at):
    """Any chunking and any read/write interleaving plays a prefix of the data, in order, once."""
    data = ramp(n)
    bounds = sorted({0, n, *[c for c in cuts if c < n]})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    jb = JitterBuffer(RATE, prefill_ms=20)
    played: list[np.ndarray] = []
    t = 0
    written = 0
    cleared = False
    for i, is_write in enumerate(ops):
        t += 5 * MS
        if clear_at == i:
            jb.clear()
            cleared = True
        if is_write and chunks and not cleared:
            c = chunks.pop(0)
            jb.write("x", c, t)
            written += len(c)
            if not chunks:
                jb.end("x")
        else:
            out, k = read(jb, t, block)
            played.append(out[:k].copy())
    if not cleared:
        while chunks:
            c = chunks.pop(0)
            jb.write("x", c, t)
            written += len(c)
        jb.end("x")
    for _ in range(n // block + 3):
        t += 5 * MS
        out, k = read(jb, t, block)
        played.append(out[:k].copy())
    got = np.concatenate(played) if played else np.zeros(0, np.int16)
    assert np.array_equal(got, data[: len(got)])
    assert jb.played_samples("x") == len(got) <= written
    if not cleared:
        assert len(got) == n, "everything written is eventually played"
    assert jb.buffered_samples >= 0
