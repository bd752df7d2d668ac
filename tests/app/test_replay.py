"""voicecam replay: cues in order and in time (virtual clock), real audio through PulseAudio
with both sides where they were (±50 ms), clear errors for bad files/arguments."""

from __future__ import annotations

import io
import itertools
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from app.replay import Replayer, ReplayPlan, replay_main
from realtime.recording.writer import SessionRecorder
from tests.realtime.recording.synth import SynthResult, write_session


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    return write_session(tmp_path_factory.mktemp("rp") / "s.voicecam", turns=2)


class VirtualTime:
    """clock()/sleep() pair where sleeping advances time exactly (plus a fixed overshoot)."""

    def __init__(self, overshoot_s: float = 0.001) -> None:
        self.now = 1000.0
        self.overshoot = overshoot_s

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += s + self.overshoot


def test_cli_prints_every_turn_in_order(synth: SynthResult) -> None:
    out = io.StringIO()
    assert replay_main([str(synth.path), "--no-audio", "--speed", "16"], out=out) == 0
    text = out.getvalue()
    pos = 0
    for role, said in synth.turns:
        line = f"{'You' if role == 'user' else 'Assistant'}: {said}"
        assert line in text[pos:], (line, text)
        pos = text.index(line, pos)
    assert text.count("(frame sent to the model") == 2


@pytest.mark.parametrize("speed", [1.0, 2.0])
def test_cues_come_within_50ms_of_the_original(synth: SynthResult, speed: float) -> None:
    plan = ReplayPlan.load(synth.path)
    vt = VirtualTime()
    start = vt.now
    r = Replayer(plan, speed=speed, audio=False, clock=vt.clock, sleep=vt.sleep)
    r.run()
    assert len(r.emitted) == len(plan.cues)
    for at_ms, cue in r.emitted:
        assert abs(at_ms - cue.t_ms) <= 50, (at_ms, cue)
    # wall time taken scales with the speed
    assert abs((vt.now - start) * 1000 * speed - plan.duration_ms) < 300
    # the user turn shows when speech ended, the reply when it began playing
    turns = [c for _, c in r.emitted if c.kind == "turn"]
    assert turns[0].text.startswith("You:") and turns[1].text.startswith("Assistant:")
    assert turns[1].t_ms == pytest.approx(synth.play_start_ms["item_A0"])


def test_plan_stereo_puts_user_left_assistant_right(synth: SynthResult) -> None:
    plan = ReplayPlan.load(synth.path)
    first_reply = round(synth.play_start_ms["item_A0"] * plan.rate_hz / 1000)
    assert not plan.stereo[: first_reply - 1, 1].any()
    assert plan.stereo[:first_reply, 0].any()
    assert abs(len(plan.stereo) / plan.rate_hz * 1000 - synth.duration_ms) < 1


def test_bad_file_and_arguments(
    tmp_path: Path, synth: SynthResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert replay_main([str(tmp_path / "nope.voicecam")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.voicecam"
    bad.write_text("just text\n" * 30)
    assert replay_main([str(bad), "--no-audio"]) == 2
    err = capsys.readouterr().err
    assert "not a VoiceCam session" in err and "Traceback" not in err
    assert replay_main([str(synth.path), "--speed", "0"]) == 2
    assert replay_main([str(synth.path), "--speed", "fast"]) == 2
    assert replay_main([]) == 2


def _burst(freq: float, ms: int, rate: int) -> bytes:
    t = np.arange(rate * ms // 1000) / rate
    return (np.sin(2 * np.pi * freq * t) * 12000).astype("<i2").tobytes()


def burst_session(path: Path) -> None:
    """User bursts (440 Hz) at 0.5 s and 3.0 s, an assistant burst (880 Hz) at 1.8 s."""
    clock = [10_000_000_000]
    rec = SessionRecorder(path, metadata={"backend": "local"}, clock=lambda: clock[0])
    t0 = clock[0]
    for k in range(0, 3600, 20):
        pcm = b"\0\0" * 320
        if 500 <= k < 700 or 3000 <= k < 3200:
            pcm = _burst(440, 20, 16000)
        rec.record_mic(pcm, 16000, t0 + k * 1_000_000)
    rec.record_playback("a1", _burst(880, 200, 24000), 24000, 0, t0 + 1800 * 1_000_000)
    clock[0] = t0 + 3600 * 1_000_000
    assert rec.close().state == "closed"


def onsets(x: np.ndarray, rate: int, threshold: float = 3000) -> list[tuple[float, float]]:
    """(start ms, dominant frequency Hz) of loud stretches separated by >= 300 ms of quiet."""
    loud = np.flatnonzero(np.abs(x.astype(np.int32)) > threshold)
    if len(loud) == 0:
        return []
    starts = [int(loud[0])]
    for a, b in itertools.pairwise(loud):
        if b - a > rate * 0.3:
            starts.append(int(b))
    out = []
    for s in starts:
        seg = x[s : s + rate // 10].astype(np.float32)
        spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
        out.append((s / rate * 1000, float(np.argmax(spectrum) * rate / len(seg))))
    return out


@pytest.mark.pulse
def test_audio_replays_both_sides_through_pulseaudio(tmp_path: Path, pulse_server) -> None:
    """Real sound out of a real (virtual) speaker: user and assistant both heard, in order.
    (Exact timing is checked against a virtual clock above; on the shared machine the real
    audio path's timing is measured by bench/bench_replay.py, not asserted.)"""
    path = tmp_path / "bursts.voicecam"
    burst_session(path)
    recording = pulse_server.record(tmp_path / "heard.wav")
    time.sleep(0.5)
    out = io.StringIO()
    assert replay_main([str(path)], out=out) == 0
    time.sleep(0.5)
    recording.stop()
    assert "No audio output" not in out.getvalue()
    with wave.open(str(tmp_path / "heard.wav")) as w:
        rate = w.getframerate()
        heard = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    found = onsets(heard, rate)
    assert len(found) >= 3, found
    freqs = [f for _, f in found[:3]]
    assert [round(f / 440) for f in freqs] == [1, 2, 1], found
    assert found[0][0] < found[1][0] < found[2][0]


@pytest.mark.pulse
def test_replay_at_2x_keeps_the_pitch_through_pulseaudio(tmp_path: Path, pulse_server) -> None:
    """``voicecam replay --speed 2``: both sides heard at their own pitch (WSOLA), within 2 %
    (resampling, as before, played them an octave up)."""
    path = tmp_path / "bursts.voicecam"
    burst_session(path)
    recording = pulse_server.record(tmp_path / "heard.wav")
    time.sleep(0.5)
    out = io.StringIO()
    assert replay_main([str(path), "--speed", "2"], out=out) == 0
    time.sleep(0.5)
    recording.stop()
    assert "No audio output" not in out.getvalue()
    with wave.open(str(tmp_path / "heard.wav")) as w:
        rate = w.getframerate()
        heard = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    found = onsets(heard, rate)
    assert len(found) >= 3, found
    # what each burst sounds like at 1x, from the session's own mix (the user's bursts are
    # 20 ms chunks that restart their phase: their peak is at 450 Hz, not 440)
    plan = ReplayPlan.load(path)
    mono = plan.stereo.astype(np.float64).sum(axis=1)
    for (start_ms, _), at_ms in zip(found[:3], (500.0, 1800.0, 3000.0), strict=True):
        want = peak_hz(mono, plan.rate_hz, at_ms + 10)
        got = peak_hz(heard.astype(np.float64), rate, start_ms + 5, ms=80)
        assert got == pytest.approx(want, rel=0.02), (got, want, found)
        assert round(want / 440) in (1, 2)  # the 880 Hz reply is not an octave-up 440


def peak_hz(x: np.ndarray, rate: int, from_ms: float, ms: float = 160) -> float:
    """The strongest frequency in ``ms`` of ``x`` from ``from_ms`` (zero-padded FFT)."""
    s0 = round(from_ms * rate / 1000)
    seg = x[s0 : s0 + round(ms * rate / 1000)]
    spectrum = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), n=16 * len(seg)))
    return float(np.argmax(spectrum) * rate / (16 * len(seg)))
