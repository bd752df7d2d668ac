"""Pacer policies against a simulated clock and speech events; the budget holds."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from video.pacing import Decision, Pacer, PacerConfig, Policy, Reason

S = 1_000_000_000
MS = 1_000_000


class Sim:
    """A camera delivering frame seq k at k/fps; offers the newest frame at ``now``."""

    def __init__(self, pacer: Pacer, fps: float = 30.0) -> None:
        self.pacer = pacer
        self.fps = fps
        self.sent: list[Decision] = []
        self.decisions: list[Decision] = []

    def frame_at(self, now: int) -> tuple[int, int]:
        seq = int(now * self.fps // S) + 1
        return seq, int((seq - 1) * S / self.fps)

    def offer(self, now: int, fingerprint: int | None = None) -> Decision:
        seq, t = self.frame_at(now)
        d = self.pacer.offer(now, seq, t, fingerprint)
        self.decisions.append(d)
        if d.send:
            self.sent.append(d)
        return d

    def run(self, start: int, end: int, step: int = 100 * MS, fingerprint: int | None = None):
        for now in range(start, end, step):
            self.offer(now, fingerprint)


def test_on_speech_sends_fresh_frame_at_speech_start_then_every_n_s_and_nothing_in_silence():
    pacer = Pacer(PacerConfig(policy=Policy.ON_SPEECH, speech_interval_s=3.0))
    sim = Sim(pacer)
    sim.run(0, 10 * S)  # silence
    assert sim.sent == []
    assert {d.reason for d in sim.decisions} == {Reason.SILENT}

    pacer.speech_started(10 * S + 50 * MS)
    sim.run(10 * S + 100 * MS, 18 * S)
    pacer.speech_stopped(18 * S)
    sim.run(18 * S, 30 * S)

    times = [d.t_ns for d in sim.sent]
    reasons = [d.reason for d in sim.sent]
    assert times[0] == 10 * S + 100 * MS  # the very first offer after speech start
    assert reasons == [Reason.SPEECH_START, Reason.WHILE_SPEAKING, Reason.WHILE_SPEAKING]
    assert [t - times[0] for t in times] == [0, 3 * S, 6 * S]
    assert all(d.t_ns < 18 * S for d in sim.sent)  # nothing after speech stopped


def test_on_speech_start_frame_even_shortly_after_a_previous_turn():
    pacer = Pacer(PacerConfig(policy=Policy.ON_SPEECH))
    sim = Sim(pacer)
    pacer.speech_started(0)
    sim.offer(100 * MS)
    pacer.speech_stopped(500 * MS)
    pacer.speech_started(3 * S)
    d = sim.offer(3 * S + 100 * MS)
    assert d.send and d.reason is Reason.SPEECH_START


def test_continuous_is_at_most_one_fps_even_if_configured_faster():
    with pytest.raises(ValueError, match="1 fps"):
        PacerConfig(policy=Policy.CONTINUOUS, min_interval_s=0.5)
    with pytest.raises(ValueError):
        PacerConfig(policy=Policy.CONTINUOUS, continuous_interval_s=0.2)
    pacer = Pacer(PacerConfig(policy=Policy.CONTINUOUS, budget_per_minute=1000))
    sim = Sim(pacer)
    sim.run(0, 20 * S, step=33 * MS)
    gaps = [b.t_ns - a.t_ns for a, b in itertools.pairwise(sim.sent)]
    assert len(sim.sent) == 20
    assert min(gaps) >= S
    assert {d.reason for d in sim.sent} == {Reason.INTERVAL}
    assert Reason.TOO_SOON in {d.reason for d in sim.decisions}


def test_on_change_skips_near_duplicates_but_refreshes_every_n_s():
    cfg = PacerConfig(policy=Policy.ON_CHANGE, change_threshold=10, change_max_interval_s=5.0)
    pacer = Pacer(cfg)
    sim = Sim(pacer)
    base = 0x0F0F_0F0F_0F0F_0F0F
    near = base ^ 0b111  # 3 bits: noise
    far = base ^ ((1 << 20) - 1)  # 20 bits: the scene changed
    assert sim.offer(0, base).reason is Reason.CHANGED  # first frame always goes
    sim.run(100 * MS, 4 * S, fingerprint=near)
    assert len(sim.sent) == 1
    assert Reason.UNCHANGED in {d.reason for d in sim.decisions}
    d = sim.offer(4 * S, far)
    assert d.send and d.reason is Reason.CHANGED and "20 of 64" in d.detail
    d = sim.offer(4 * S + 300 * MS, base)  # changed back, but < 1 s later
    assert not d.send and d.reason is Reason.TOO_SOON
    sim.run(4 * S + 400 * MS, 20 * S, fingerprint=far)  # static scene: heartbeats every 5 s
    heartbeats = [d.t_ns for d in sim.sent if d.reason is Reason.HEARTBEAT]
    assert heartbeats == [9 * S, 14 * S, 19 * S]
    with pytest.raises(ValueError, match="fingerprint"):
        pacer.offer(21 * S, 99_999, 21 * S, None)


def test_snapshot_policy_sends_only_on_request_with_the_next_question():
    pacer = Pacer(PacerConfig(policy=Policy.SNAPSHOT))
    sim = Sim(pacer)
    pacer.speech_started(0)
    sim.run(0, 5 * S)
    pacer.speech_stopped(5 * S)
    assert sim.sent == [] and {d.reason for d in sim.decisions} == {Reason.NOT_REQUESTED}

    pacer.request_snapshot(6 * S)  # "look at this" pressed while silent
    sim.run(6 * S, 8 * S)
    assert sim.sent == []
    assert sim.decisions[-1].reason is Reason.WAITING_FOR_QUESTION
    pacer.speech_started(8 * S)  # the next question
    sim.run(8 * S, 12 * S)
    assert [(d.reason, d.snapshot, d.t_ns) for d in sim.sent] == [(Reason.SNAPSHOT, True, 8 * S)]
    assert not pacer.snapshot_armed


def test_snapshot_request_while_speaking_goes_immediately_in_any_policy():
    pacer = Pacer(PacerConfig(policy=Policy.CONTINUOUS))
    sim = Sim(pacer)
    pacer.speech_started(0)
    sim.offer(0)
    pacer.request_snapshot(200 * MS)
    d = sim.offer(300 * MS)  # only 0.3 s after the last frame: snapshots are exempt
    assert d.send and d.snapshot and d.reason is Reason.SNAPSHOT
    d = sim.offer(1100 * MS)
    assert not d.send and d.reason is Reason.TOO_SOON  # pacing resumes from the snapshot


def test_stale_and_duplicate_frames_are_never_sent():
    pacer = Pacer(PacerConfig(policy=Policy.CONTINUOUS, max_frame_age_s=1.0))
    assert pacer.offer(0, 1, 0).send
    d = pacer.offer(5 * S, 1, 0)
    assert not d.send and d.reason is Reason.ALREADY_SENT
    d = pacer.offer(5 * S, 2, 3 * S)  # a frozen camera's 2 s old frame
    assert not d.send and d.reason is Reason.STALE and "2.0 s old" in d.text


def test_budget_caps_frames_per_minute_and_says_when_the_next_slot_is():
    pacer = Pacer(PacerConfig(policy=Policy.CONTINUOUS, budget_per_minute=10))
    sim = Sim(pacer)
    pacer.speech_started(0)
    sim.run(0, 120 * S, step=250 * MS)
    first_minute = [d for d in sim.sent if d.t_ns < 60 * S]
    assert len(first_minute) == 10
    budget = [d for d in sim.decisions if d.reason is Reason.BUDGET]
    assert budget and "next in" in budget[0].detail
    assert pacer.sent_in_last_minute(120 * S) <= 10
    assert len(sim.sent) == 20


def test_change_or_request_sends_a_changed_view_while_speaking_or_on_request_only():
    pacer = Pacer(PacerConfig(policy=Policy.CHANGE_OR_REQUEST, speech_interval_s=3.0))
    sim = Sim(pacer)
    base = 0x0F0F_0F0F_0F0F_0F0F
    near = base ^ 0b111  # camera noise
    far = base ^ ((1 << 20) - 1)  # the scene changed
    assert sim.offer(0, base).reason is Reason.SILENT  # silence: nothing, not even the first
    pacer.speech_started(1 * S)
    d = sim.offer(1 * S, base)
    assert d.send and d.reason is Reason.CHANGED  # the first view counts as a change
    sim.run(1 * S + 100 * MS, 10 * S, fingerprint=near)  # a long question, same view
    assert len(sim.sent) == 1  # no heartbeat: the model still has this view
    assert Reason.UNCHANGED in {d.reason for d in sim.decisions}
    d = sim.offer(10 * S, far)
    assert d.send and d.reason is Reason.CHANGED and "20 of 64" in d.detail
    d = sim.offer(11 * S, base)  # changed again, but within speech_interval_s
    assert not d.send and d.reason is Reason.TOO_SOON
    pacer.speech_stopped(12 * S)
    pacer.speech_started(20 * S)
    d = sim.offer(20 * S, far)  # next question, same view as last sent: nothing new
    assert not d.send and d.reason is Reason.UNCHANGED
    pacer.request_snapshot(21 * S)  # "look at this" goes regardless
    d = sim.offer(21 * S, far)
    assert d.send and d.reason is Reason.SNAPSHOT and d.snapshot
    with pytest.raises(ValueError, match="fingerprint"):
        pacer.offer(30 * S, 99_999, 30 * S, None)
    assert Policy.CHANGE_OR_REQUEST.needs_fingerprint and not Policy.ON_SPEECH.needs_fingerprint


@st.composite
def scenarios(draw):
    policy = draw(st.sampled_from(list(Policy)))
    budget = draw(st.integers(1, 40))
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(1, 3000),  # ms until the next event
                st.sampled_from(["offer", "offer", "offer", "start", "stop", "snap"]),
                st.integers(0, 2**64 - 1),
            ),
            max_size=300,
        )
    )
    return policy, budget, steps


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_budget_and_one_fps_hold_for_any_event_sequence(scenario):
    policy, budget, steps = scenario
    pacer = Pacer(PacerConfig(policy=policy, budget_per_minute=budget))
    sim = Sim(pacer, fps=30)
    now = 0
    for dt_ms, kind, fingerprint in steps:
        now += dt_ms * MS
        if kind == "start":
            pacer.speech_started(now)
        elif kind == "stop":
            pacer.speech_stopped(now)
        elif kind == "snap":
            pacer.request_snapshot(now)
        else:
            sim.offer(now, fingerprint)
    times = [d.t_ns for d in sim.sent]
    for i, t in enumerate(times):  # any 60 s window holds at most `budget` frames
        assert sum(1 for u in times[i:] if u < t + 60 * S) <= budget
    regular = [d.t_ns for d in sim.sent if not d.snapshot]
    assert all(b - a >= S for a, b in itertools.pairwise(regular))  # ≤ 1 fps
    for d in sim.decisions:
        assert d.reason.text  # every decision explains itself
        assert d.send == (
            d.reason
            in {
                Reason.SPEECH_START,
                Reason.WHILE_SPEAKING,
                Reason.INTERVAL,
                Reason.CHANGED,
                Reason.HEARTBEAT,
                Reason.SNAPSHOT,
            }
        )
    if policy is Policy.SNAPSHOT:
        assert all(d.snapshot for d in sim.sent)
    if policy is Policy.CHANGE_OR_REQUEST:  # only a change or a request sends
        assert {d.reason for d in sim.sent} <= {Reason.CHANGED, Reason.SNAPSHOT}
