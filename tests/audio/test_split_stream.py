"""SplitDuplexStream with fake single-direction streams: the duplex contract holds (the block the
callback fills is exactly what reaches the device, in order), with a steady small FIFO."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from audio.split_stream import SplitDuplexStream

FRAMES = 480


class FakeHalf:
    def __init__(self, cb: Any, latency: float = 0.02) -> None:
        self.cb = cb
        self.samplerate = 48000.0
        self.latency = latency
        self.active = False
        self.closed = False

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def abort(self) -> None:
        self.active = False

    def close(self) -> None:
        self.closed = True


class Time:
    def __init__(self, t: float) -> None:
        self.currentTime = t
        self.inputBufferAdcTime = t - 0.02
        self.outputBufferDacTime = 0.0


def make() -> tuple[SplitDuplexStream, list[Any], list[np.ndarray]]:
    calls: list[Any] = []
    counter = [0]

    def duplex(indata: Any, outdata: Any, frames: int, t: Any, status: Any) -> None:
        counter[0] += 1
        outdata[:, 0] = counter[0]  # block k is filled with the value k
        calls.append((indata[:, 0].copy(), outdata[:, 0].copy(), t, bool(status)))

    halves: list[FakeHalf] = []

    def mk(cb: Any) -> FakeHalf:
        halves.append(FakeHalf(cb))
        return halves[-1]

    s = SplitDuplexStream(mk, mk, duplex, lambda: None, FRAMES)
    return s, calls, halves  # type: ignore[return-value]


def run_in(s: SplitDuplexStream, halves: list[Any], t: float, value: int = 0) -> None:
    halves[0].cb(np.full((FRAMES, 1), value, dtype=np.int16), FRAMES, Time(t), None)


def run_out(halves: list[Any]) -> np.ndarray:
    out = np.full((FRAMES, 1), -1, dtype=np.int16)
    halves[1].cb(out, FRAMES, None, None)
    return out[:, 0]


def test_every_block_filled_reaches_the_device_in_order_after_a_two_block_cushion() -> None:
    s, calls, halves = make()
    s.start()
    assert s.active
    assert not run_out(halves).any()  # nothing queued yet: silence, not an underflow
    run_in(s, halves, 1.0, 7)
    assert not run_out(halves).any()  # one queued: still building the cushion
    run_in(s, halves, 1.01)
    played = []
    for k in range(50):  # steady state: one in, one out
        played.append(int(run_out(halves)[0]))
        run_in(s, halves, 1.02 + k * 0.01)
    assert played == list(range(1, 51))
    assert s.starved == 0 and s.dropped == 0
    assert calls[0][0][0] == 7  # the mic block reached the duplex callback
    t = calls[-1][2]
    # DAC time: after now by the output latency plus the queued blocks
    assert 0.02 < t.outputBufferDacTime - t.currentTime < 0.06


def test_output_running_dry_counts_an_underflow_then_rebuilds_the_cushion() -> None:
    s, calls, halves = make()
    run_in(s, halves, 1.0)
    run_in(s, halves, 1.01)
    assert run_out(halves)[0] == 1
    assert run_out(halves)[0] == 2
    assert not run_out(halves).any()  # dry
    assert s.starved == 1
    run_in(s, halves, 1.02)
    assert calls[-1][3], "the next duplex callback sees an output underflow flag"
    assert not run_out(halves).any()  # cushion of two again before playing
    run_in(s, halves, 1.03)
    assert run_out(halves)[0] == 3


def test_a_stalled_output_keeps_the_newest_blocks() -> None:
    s, _calls, halves = make()
    for k in range(14):
        run_in(s, halves, 1.0 + k * 0.01)
    assert s.dropped >= 5
    got = [int(run_out(halves)[0]) for _ in range(8)]
    assert got == list(range(7, 15))


def test_callback_threads_ask_for_realtime_priority_once() -> None:
    import threading

    from audio.priority import Priority, raise_thread_priority

    got: list[str] = []
    t = threading.Thread(target=lambda: got.append(raise_thread_priority(Priority.REALTIME)))
    t.start()
    t.join()
    assert got[0] in ("SCHED_FIFO 3", "nice -10", "normal")
    s, _calls, halves = make()
    run_in(s, halves, 1.0)
    run_out(halves)
    assert s.granted == {"input": "normal", "output": "normal"}


def test_a_refused_priority_is_logged_once_and_never_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import os

    from audio import priority
    from audio.priority import Priority, raise_thread_priority

    def refuse(*_a: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    monkeypatch.setattr(os, "setpriority", refuse)
    monkeypatch.setattr(priority, "_said", set())
    caplog.set_level("INFO", logger="audio.priority")
    assert [raise_thread_priority(Priority.REALTIME) for _ in range(3)] == ["normal"] * 3
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 2  # SCHED_FIFO once, nice once
    assert all(r.levelname == "INFO" for r in refusals)


def test_a_duck_applies_to_blocks_already_queued() -> None:
    s, _calls, halves = make()
    for k in range(3):
        run_in(s, halves, 1.0 + k * 0.01)  # blocks 1, 2, 3 queued at full gain
    duck = [(1.0, 1, False)]
    s.gain_source = lambda: duck[0]
    assert run_out(halves)[0] == 1
    duck[0] = (0.0316, 24, False)  # the player was told to duck: the queue is not waited for
    out = run_out(halves)
    assert 1 <= out[0] <= 2 and out[-1] == 0  # block 2, ramped down to 0.0316 within it
    assert s.gain == pytest.approx(0.0316)
    duck[0] = (0.0, 10, True)  # hold: silence at once
    run_in(s, halves, 1.03)
    assert not run_out(halves)[24:].any()


def test_active_asks_portaudio_at_most_every_poll_interval_and_shows_an_end_at_once():
    from audio.split_stream import ACTIVE_POLL_S

    now = [100.0]
    halves: list[FakeHalf] = []

    def mk(cb: Any) -> FakeHalf:
        halves.append(FakeHalf(cb))
        return halves[-1]

    s = SplitDuplexStream(mk, mk, lambda *a: None, lambda: None, FRAMES, clock=lambda: now[0])
    assert not s.active
    s.start()
    assert s.active
    halves[0].active = False  # PortAudio says the input stopped: seen after the poll interval
    assert s.active
    now[0] += ACTIVE_POLL_S + 0.001
    assert not s.active
    halves[0].active = True
    s.stop()
    s.start()  # start/stop forget the cached answer
    assert s.active
    s.on_stream_finished()  # the finished callback shows at once
    assert not s.active
