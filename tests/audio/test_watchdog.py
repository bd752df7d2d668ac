"""StreamWatchdog: starvation is not device loss; a dead device still is; health says why."""

from __future__ import annotations

from audio.watchdog import HealthState, Reason, StreamCounters, StreamWatchdog

MS = 1_000_000


class Sim:
    """Engine ticks and callbacks on a simulated clock."""

    def __init__(self) -> None:
        self.t = 0
        self.callbacks = 0
        self.last_cb = 0
        self.xruns = 0
        self.wd = StreamWatchdog(0, timeout_ms=1000)

    def callback(self) -> None:
        self.callbacks += 1
        self.last_cb = self.t

    def tick(self, advance_ms: int, callbacks: bool = True, **kw: bool):
        for _ in range(advance_ms // 10):
            self.t += 10 * MS
            if callbacks:
                self.callback()
        c = StreamCounters(self.callbacks, self.last_cb, self.xruns, **kw)
        return self.wd.check(self.t, c)


def test_running_stream_is_ok() -> None:
    s = Sim()
    for _ in range(300):
        v = s.tick(10)
    assert not v.lost and v.reason is Reason.RUNNING
    assert s.wd.health().state is HealthState.OK


def test_a_starved_process_is_not_a_lost_device() -> None:
    """Two busy processes on both cores: neither the callback nor the engine thread runs for
    1.5–2.5 s at a time, then both catch up. Never 'lost'; the status says it is struggling."""
    s = Sim()
    for _ in range(100):
        s.tick(10)
    verdicts = []
    for stall in (1500, 2500, 1800, 2200) * 4:
        verdicts.append(s.tick(stall, callbacks=False))  # nothing ran, the engine wakes late
        for _ in range(5):
            verdicts.append(s.tick(10))  # callbacks resume
    assert not any(v.lost for v in verdicts)
    assert any(v.reason is Reason.STARVED for v in verdicts)
    h = s.wd.health()
    assert h.state is HealthState.STRUGGLING and h.reason is Reason.LATE_TICKS
    assert "struggling" in h.text


def test_a_dead_device_is_still_lost_within_the_timeout_on_a_calm_machine() -> None:
    s = Sim()
    for _ in range(50):
        s.tick(10)
    lost_at = None
    for k in range(200):
        v = s.tick(10, callbacks=False)
        if v.lost:
            lost_at = k
            break
    assert lost_at is not None and 95 <= lost_at <= 101
    assert v.reason is Reason.NO_CALLBACKS


def test_a_dead_device_on_a_loaded_machine_is_found_later_not_never() -> None:
    s = Sim()
    s.tick(10)
    ticks = 0
    while not (v := s.tick(200, callbacks=False)).lost:  # engine ticks every 200 ms: late
        ticks += 1
        assert ticks < 100
    assert v.reason is Reason.NO_CALLBACKS and v.silent_on_time_ms >= 1000


def test_finished_inactive_and_never_started() -> None:
    s = Sim()
    assert s.tick(10, finished=True).reason is Reason.STREAM_FINISHED
    s = Sim()
    assert s.tick(10, active=False).lost
    s = Sim()
    for _ in range(499):
        assert not s.tick(10, callbacks=False).lost
    v = s.tick(20, callbacks=False)
    assert v.lost and v.reason is Reason.NEVER_STARTED


def test_xruns_and_callback_gaps_make_it_struggle_then_recover() -> None:
    s = Sim()
    s.tick(10)
    s.xruns = 3
    s.tick(10)
    assert s.wd.health().reason is Reason.XRUNS
    for _ in range(600):
        s.tick(10)
    assert s.wd.health().state is HealthState.OK
    s.tick(100, callbacks=False)  # one 100 ms callback pause, engine on time
    s.tick(10)
    assert s.wd.health().reason in (Reason.CALLBACK_GAPS, Reason.LATE_TICKS)
