"""AudioEngine with injected fake streams: capture, VAD, modes, playback, barge-in, devices."""

from __future__ import annotations

import numpy as np
import pytest

from audio.config import AudioConfig, TalkMode
from audio.engine import AudioEngine
from audio.errors import AudioConfigError, AudioDeviceError
from audio.events import (
    AudioHealthChanged,
    BargeIn,
    DeviceRecovered,
    DeviceWarning,
    MicAudio,
    StreamOpened,
    VoiceStarted,
    VoiceStopped,
)
from tests.audio.fakes import FakeBackend, FakeClock, FakeFactory, Flags, device
from tests.audio.helpers import drive, load

MS = 1_000_000


def make(**cfg: object) -> tuple[AudioEngine, FakeFactory, FakeClock]:
    clock = FakeClock()
    factory = FakeFactory(clock)
    engine = AudioEngine(AudioConfig(**cfg), factory, clock=clock)  # type: ignore[arg-type]
    engine.start()
    return engine, factory, clock


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def test_config_rejects_blocks_that_are_not_10ms_multiples():
    with pytest.raises(AudioConfigError, match="multiple of 10 ms"):
        AudioConfig(block_ms=15)
    with pytest.raises(AudioConfigError, match="16000"):
        AudioConfig(send_rate_hz=22050)


def test_open_reports_stream_and_mic_audio_at_both_rates():
    engine, factory, _clock = make()
    first = engine.process()
    opened = of(first, StreamOpened)
    assert opened and opened[0].info.sample_rate == 48000
    assert opened[0].info.block_frames == 480
    assert opened[0].info.output_latency_ms == pytest.approx(15.0)
    assert opened[0].info.aec_enabled
    tone = (np.sin(np.arange(48000) * 2 * np.pi * 440 / 48000) * 8000).astype(np.int16)
    events, _ = drive(engine, factory.stream, tone)
    mic = of(events, MicAudio)
    n16 = sum(len(m.pcm16_16k) for m in mic) // 2
    n24 = sum(len(m.pcm16_send) for m in mic) // 2
    assert 15000 <= n16 <= 16000 and 22500 <= n24 <= 24000
    assert all(m.send_rate_hz == 24000 for m in mic)
    assert mic[0].t_ns == 1_000_000_000
    assert engine.meters().mic_dbfs > -20
    engine.set_send_rate(16000)
    events, _ = drive(engine, factory.stream, tone[:4800])
    assert all(m.pcm16_send == m.pcm16_16k for m in of(events, MicAudio))
    engine.stop()
    assert factory.stream.closed


def test_speech_is_detected_with_accurate_times():
    engine, factory, clock = make()
    engine.process()
    t0 = clock()
    mic = load("q01_piper.wav")
    events, _ = drive(engine, factory.stream, mic, pad_blocks=80)
    starts, stops = of(events, VoiceStarted), of(events, VoiceStopped)
    assert len(starts) == 1 and len(stops) == 1
    assert abs((starts[0].t_ns - t0) / MS - 640) <= 60
    assert starts[0].t_ns - t0 == starts[0].sample16 * 1_000_000_000 // 16000, "same instant"
    assert -60 <= (stops[0].t_ns - t0) / MS - 2490 <= 500 + 60
    engine.stop()


def test_send_only_speech_emits_preroll_then_stops():
    engine, factory, clock = make(send_only_speech=True, prefix_padding_ms=300)
    engine.process()
    t0 = clock()
    events, _ = drive(engine, factory.stream, load("q02_piper.wav"), pad_blocks=80)
    kinds = [type(e).__name__ for e in events if not isinstance(e, StreamOpened)]
    first_mic = kinds.index("MicAudio")
    assert kinds[first_mic - 1] == "VoiceStarted"
    mic = of(events, MicAudio)
    start = of(events, VoiceStarted)[0]
    assert (start.t_ns - mic[0].t_ns) / MS == pytest.approx(300, abs=20), "pre-roll"
    assert kinds[-1] == "VoiceStopped"
    stop = of(events, VoiceStopped)[0]
    assert stop.t_ns < mic[-1].t_ns <= stop.t_ns + (500 + 64) * MS, "audio until the stop fires"
    assert (mic[0].t_ns - t0) / MS > 200, "nothing sent before the pre-roll"


def test_push_to_talk_toggle_and_mute():
    engine, factory, _ = make(mode=TalkMode.PUSH_TO_TALK)
    engine.process()
    speech = load("q03_piper.wav")
    events, _ = drive(engine, factory.stream, speech[:48000])
    assert not of(events, MicAudio) and not of(events, VoiceStarted), "VAD ignored in PTT"
    engine.talk_press()
    events, _ = drive(engine, factory.stream, speech[48000:96000])
    assert isinstance(events[0], VoiceStarted) and of(events, MicAudio)
    engine.talk_release()
    events, _ = drive(engine, factory.stream, speech[:9600])
    assert isinstance(events[0], VoiceStopped) and not of(events, MicAudio)
    engine.set_mode(TalkMode.TOGGLE)
    engine.talk_press()
    engine.talk_release()
    events, _ = drive(engine, factory.stream, speech[:9600])
    assert of(events, VoiceStarted) and of(events, MicAudio)
    engine.set_mode(TalkMode.MUTE)
    events, _ = drive(engine, factory.stream, speech[:96000])
    assert of(events, VoiceStopped) and not of(events, MicAudio)
    assert engine.mode is TalkMode.MUTE


def test_playback_reaches_speaker_and_positions_are_exact():
    engine, factory, clock = make(volume=1.0)
    engine.process()
    reply = load("q04_piper.wav", 24000)
    engine.play("item1", reply[:12000].tobytes(), 24000)  # 500 ms
    assert engine.is_playing
    t_play = clock()
    engine.play("item1", reply[12000:24000].tobytes(), 24000)
    engine.end_item("item1")
    _, spk = drive(engine, factory.stream, np.zeros(48000 * 2, np.int16))
    assert engine.played_ms("item1") == pytest.approx(1000, abs=2)
    assert engine.first_audible_ns("item1") == t_play, "first sample goes out at the next callback"
    expected = load("q04_piper.wav", 48000)[:48000].astype(float)
    got = spk[: len(expected)].astype(float)
    corr = np.corrcoef(got[2000:-2000], expected[2000:-2000])[0, 1]
    assert corr > 0.98
    assert not engine.is_playing
    assert engine.meters().underruns == 0


def test_clear_is_effective_at_next_callback_and_volume_applies():
    engine, factory, _ = make()
    engine.process()
    engine.set_volume(0.5)
    tone = np.full(24000, 10000, dtype=np.int16)
    engine.play("a", tone.tobytes(), 24000)
    s = factory.stream
    blocks = [s.tick() for _ in range(5)]
    assert abs(int(blocks[-1][100]) - 5000) <= 2
    engine.clear_playback()
    after = s.tick()
    assert not after.any(), "silent from the very next block"
    assert engine.played_ms("a") == 50
    engine.process()
    assert not engine.is_playing


@pytest.mark.parametrize("headphones", [True, False])
def test_barge_in_clears_playback_when_user_speaks(headphones: bool):
    """No echo path here (mic carries the user only). With AEC on this is the case where AEC3
    would suppress the user for good: the canceller must notice there is no echo and bypass."""
    engine, factory, _ = make(headphones=headphones)
    warnings = of(engine.process(), DeviceWarning)
    assert any("echo cancellation is off" in w.message for w in warnings) == headphones
    reply = np.full(24000 * 10, 3000, dtype=np.int16)
    engine.play("r1", reply.tobytes(), 24000)
    events, spk = drive(engine, factory.stream, load("q05_piper.wav"), pad_blocks=10)
    barge = of(events, BargeIn)
    assert len(barge) == 1 and barge[0].item_id == "r1"
    start = of(events, VoiceStarted)[0]
    k_start = events.index(start)
    assert isinstance(events[k_start + 1], BargeIn)
    assert 500 <= barge[0].played_ms <= 1000
    frames = factory.stream.spec.block_frames
    played_blocks = int(np.count_nonzero(spk.reshape(-1, frames).any(axis=1)))
    assert played_blocks * 10 == pytest.approx(barge[0].played_ms, abs=10), (
        "speaker silent from the block after the barge-in"
    )
    assert engine.meters().echo_hint == ("aec_off" if headphones else "speakers_ok")


def test_status_flags_and_overflow_are_counted():
    engine, factory, _ = make()
    engine.process()
    s = factory.stream
    s.tick(status=Flags(input_overflow=True))
    s.tick(status=Flags(output_underflow=True))
    for _ in range(70):  # engine falls behind: ring holds 64 blocks
        s.tick()
    engine.process()
    m = engine.meters()
    assert m.overflows == 1 + 70 + 2 - 64
    assert m.underruns == 1
    assert m.callbacks == 72


def test_device_lost_reports_error_and_recovers_in_background():
    clock = FakeClock()
    factory = FakeFactory(clock)
    engine = AudioEngine(AudioConfig(retry_interval_ms=10), factory, clock=clock)
    engine.start()
    engine.process()
    engine.play("a", np.full(2400, 100, np.int16).tobytes(), 24000)
    engine.end_item("a")  # all of it queued: plays at once (no jitter-buffer prefill wait)
    factory.stream.tick()
    factory.stream.die()
    events = engine.process()
    err = of(events, AudioDeviceError)
    assert err and "Settings" in err[0].message and "retries" in err[0].message
    assert engine.played_ms("a") == 10, "positions survive the loss"
    engine.play("b", b"\x00\x01" * 100, 24000)  # dropped quietly while no device
    for _ in range(500):
        if engine._pending is not None:
            break
        import time

        time.sleep(0.01)
    events = engine.process()
    assert of(events, DeviceRecovered) and of(events, StreamOpened)
    assert len(factory.streams) == 2 and factory.streams[0].closed
    engine.stop()


def test_silent_device_is_detected_by_watchdog():
    engine, factory, clock = make(device_timeout_ms=500, retry_interval_ms=60000)
    engine.process()
    clock.advance_ms(4000)
    assert not of(engine.process(), AudioDeviceError), "a fresh stream gets 5 s to start"
    factory.stream.tick()
    engine.process()
    events = []
    for _ in range(60):  # the engine runs on time and hears nothing for 600 ms
        clock.advance_ms(10)
        events += engine.process()
    assert of(events, AudioDeviceError)
    engine.stop()


def test_a_starved_process_is_struggling_audio_not_a_lost_device():
    """Issue 16 item 6: a busy computer runs neither the callback nor the engine thread; when
    the engine finally runs, the old rule called the device lost (15 false reopenings)."""
    engine, factory, clock = make(device_timeout_ms=500, retry_interval_ms=60000)
    engine.process()
    factory.stream.tick()
    engine.process()
    clock.advance_ms(2000)  # the whole process was starved for 2 s
    events = engine.process()
    assert not of(events, AudioDeviceError)
    health = of(events, AudioHealthChanged)
    assert health and health[0].struggling and "struggling" in health[0].message
    factory.stream.tick()
    for _ in range(600):  # on time again: after the health window it says so
        clock.advance_ms(10)
        factory.stream.tick()
        events += engine.process()
    assert not of(events, AudioDeviceError)
    assert of(events, AudioHealthChanged)[-1] == AudioHealthChanged(False, "")
    engine.stop()


def test_open_failure_is_an_event_not_an_exception_and_rates_fall_back():
    clock = FakeClock()
    factory = FakeFactory(clock, rates={44100})
    engine = AudioEngine(AudioConfig(), factory, clock=clock)
    engine.start()
    info = of(engine.process(), StreamOpened)[0].info
    assert info.sample_rate == 44100 and info.block_frames == 441
    engine.stop()
    factory = FakeFactory(clock, fail=100)
    engine = AudioEngine(AudioConfig(retry_interval_ms=60000), factory, clock=clock)
    engine.start()
    err = of(engine.process(), AudioDeviceError)
    assert err and "could not open" in err[0].message
    engine.stop()


def test_devices_resolved_by_name_with_visible_fallback():
    clock = FakeClock()
    backend = FakeBackend(
        [
            device(0, "Built-in Mic", 2, 0),
            device(1, "Speakers", 0, 2),
            device(2, "USB Headset", 1, 2),
        ]
    )
    factory = FakeFactory(clock)
    engine = AudioEngine(
        AudioConfig(input_device="usb headset", output_device="Bluetooth Speaker"),
        factory,
        device_backend=backend,
        clock=clock,
    )
    engine.start()
    events = engine.process()
    spec = factory.specs[0]
    assert spec.input_device == 2 and spec.output_device == 1
    warn = of(events, DeviceWarning)
    assert warn and "Bluetooth Speaker" in warn[0].message and "Speakers" in warn[0].message
    assert engine.info is not None and engine.info.input_device == "USB Headset"
    engine.stop()


class ScriptedVad:
    """VadLike whose probability follows a script (one value per process() call)."""

    threshold = 0.5

    def __init__(self, probs: list[float]) -> None:
        self.probs = probs
        self.probability = 0.0
        self.calls = 0

    def process(self, pcm: bytes) -> list:
        self.probability = self.probs[self.calls] if self.calls < len(self.probs) else 0.0
        self.calls += 1
        return []

    def reset(self) -> None:
        self.calls = 0


def test_unconfirmed_voice_hint_pauses_then_resumes_without_losing_audio():
    clock = FakeClock()
    factory = FakeFactory(clock)
    vad = ScriptedVad([0.0] * 30 + [0.9] + [0.0] * 200)
    engine = AudioEngine(
        AudioConfig(headphones=True), factory, vad_factory=lambda: vad, clock=clock
    )
    engine.start()
    engine.process()
    ramp = (np.arange(48000) % 20000 + 1).astype(np.int16)  # 1 s, never zero
    engine.play("r", ramp[::2].tobytes(), 24000)
    engine.end_item("r")
    out = []
    for _ in range(150):
        out.append(factory.stream.tick())
        engine.process()
    blocks = np.array([b.any() for b in out])
    silent = np.flatnonzero(~blocks[: int(np.flatnonzero(blocks)[-1])])
    assert 10 <= len(silent) <= 16, "paused for the confirmation window (64 + 64 ms)"
    m = engine.meters()
    assert m.voice_pauses == 1 and m.false_pauses == 1
    assert engine.played_ms("r") == 1000, "nothing lost: playback resumed where it stopped"
    assert not of(engine.process(), BargeIn)


def test_confirmed_voice_hint_clears_and_reports_barge_in():
    engine, factory, _ = make()
    engine.process()
    engine.play("r", np.full(24000 * 10, 3000, np.int16).tobytes(), 24000)
    events, _ = drive(engine, factory.stream, load("q06_piper.wav"), pad_blocks=10)
    assert of(events, BargeIn)
    m = engine.meters()
    assert m.voice_pauses >= 1 and m.false_pauses == 0
