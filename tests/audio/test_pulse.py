"""Integration tests against a real PulseAudio server with virtual devices (``-m pulse``).

The engine opens the ALSA ``pulse`` device through PortAudio exactly as on a desktop: speech fed
into the virtual microphone must be captured and detected, replies must reach the virtual speaker
intact, and in a simulated room (speaker looped back into the mic) echo cancellation must keep
the detector off the assistant's own voice while still hearing the user over it.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import BargeIn, MicAudio, StreamOpened, VoiceStarted, VoiceStopped
from dsp.pcm import read_wav
from dsp.resample import resample
from tests.audio.helpers import SPEECH, load
from tests.audio.runner import EngineRunner
from tests.fixtures.pulse import PulseServer

pytestmark = pytest.mark.pulse

MS = 1_000_000


def engine(**cfg: object) -> AudioEngine:
    return AudioEngine(AudioConfig(input_device="pulse", output_device="pulse", **cfg))  # type: ignore[arg-type]


def best_lag(x: np.ndarray, ref: np.ndarray) -> int:
    """Lag (samples) of ``ref`` inside ``x`` by FFT cross-correlation."""
    n = 1 << int(np.ceil(np.log2(len(x) + len(ref))))
    c = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(ref, n)), n)
    return int(np.argmax(c[: len(x)]))


def envelope(x: np.ndarray, block: int = 160) -> np.ndarray:
    n = len(x) // block
    return np.log10(np.sqrt((x[: n * block].astype(float).reshape(n, block) ** 2).mean(1)) + 1.0)


def test_speech_into_virtual_mic_is_captured_and_detected(pulse_server: PulseServer, utterances):
    name = "q03_piper.wav"
    truth = next(u for u in utterances if u["file"] == name)
    with EngineRunner(engine(vad_stop_ms=500)) as run:
        _, opened = run.wait_for(StreamOpened)
        assert opened.info.sample_rate == 48000 and opened.info.block_frames == 480
        run.wait_for(MicAudio)
        time.sleep(0.3)
        pulse_server.play_to_mic(SPEECH / name)
        run.wait_for(VoiceStopped, timeout=10)
        time.sleep(0.2)
    mic = run.of(MicAudio)
    captured = np.frombuffer(b"".join(m.pcm16_16k for m in mic), dtype=np.int16)
    src = np.frombuffer(read_wav(SPEECH / name)[0], dtype=np.int16)
    lag = best_lag(captured.astype(float), src.astype(float))
    seg = captured[lag : lag + len(src)]
    assert np.corrcoef(envelope(seg), envelope(src))[0, 1] > 0.9, "captured audio is the speech"
    starts, stops = run.of(VoiceStarted), run.of(VoiceStopped)
    assert len(starts) == 1 and len(stops) == 1
    # Judge on the captured stream itself (sample indexes; the file starts at ``lag``), so that
    # a stall of this shared machine cannot blur the comparison; then check the clock mapping.
    start_err_ms = (starts[0].sample16 - lag) / 16 - truth["speech_start_ms"]
    end_err_ms = (stops[0].sample16 - lag) / 16 - truth["speech_end_ms"]
    assert abs(start_err_ms) <= 60
    assert abs(end_err_ms) <= 100
    assert starts[0].t_ns == pytest.approx(time_of(mic, starts[0].sample16), abs=100 * MS)


def time_of(mic: list[MicAudio], sample: int) -> int:
    """Capture time of 16 kHz sample ``sample`` of the concatenated MicAudio stream."""
    pos = 0
    for m in mic:
        n = len(m.pcm16_16k) // 2
        if pos <= sample < pos + n:
            return m.t_ns + (sample - pos) * 1_000_000_000 // 16000
        pos += n
    raise AssertionError(f"sample {sample} not captured")


def test_reply_reaches_speaker_monitor_intact(pulse_server: PulseServer, tmp_path: Path):
    """Up to two attempts: on this shared 2-core machine the virtual device itself sometimes
    glitches (ALSA 'underrun occurred'); one clean pass must show correlation >= 0.98."""
    reply = load("q04_piper.wav", 24000)
    ref = np.frombuffer(resample(reply.tobytes(), 24000, 48000), dtype=np.int16).astype(float)
    results = []
    for attempt in range(2):
        corr, played = _play_and_record(pulse_server, tmp_path / f"out{attempt}.wav", reply, ref)
        results.append(corr)
        assert played == pytest.approx(len(reply) * 1000 // 24000, abs=2)
        if corr >= 0.98:
            break
    assert max(results) >= 0.98, results


def _play_and_record(
    server: PulseServer, path: Path, reply: np.ndarray, ref: np.ndarray
) -> tuple[float, int]:
    rec = server.record(path)
    with EngineRunner(engine()) as run:
        run.wait_for(MicAudio)
        time.sleep(0.3)
        run.call(lambda: run.engine.play("item_a", reply.tobytes(), 24000))
        run.call(lambda: run.engine.end_item("item_a"))
        deadline = time.monotonic() + 15
        while run.call(lambda: run.engine.is_playing) and time.monotonic() < deadline:
            time.sleep(0.05)
        played = run.call(lambda: run.engine.played_ms("item_a"))
        time.sleep(0.3)
    rec.stop()
    got_pcm, rate = read_wav(path)
    assert rate == 48000
    got = np.frombuffer(got_pcm, dtype=np.int16).astype(float)
    lag = best_lag(got, ref)
    seg = got[lag : lag + len(ref)]
    return float(np.corrcoef(seg, ref[: len(seg)])[0, 1]), played


@pytest.mark.parametrize("aec_on", [True, False])
def test_room_echo_is_cancelled_and_user_still_heard(pulse_server: PulseServer, aec_on: bool):
    """speaker.monitor → micfeed loopback (60 ms, 40 % volume) simulates laptop speakers.

    With AEC the scenario gets up to two runs: on this shared 2-core machine PulseAudio's own
    loopback module underruns under load, which makes the simulated echo path jump (no real room
    does that) and can leak echo while AEC3 re-aligns. One clean run must pass every check; the
    control (AEC off) must fire on the echo in its single run.
    """
    failures = []
    for _attempt in range(2 if aec_on else 1):
        problem = _room_run(pulse_server, aec_on)
        if problem is None:
            return
        failures.append(problem)
    pytest.fail("; ".join(failures))


def _room_run(server: PulseServer, aec_on: bool) -> str | None:
    loop = server.load_module(
        "module-loopback",
        "source=speaker.monitor",
        "sink=micfeed",
        "latency_msec=60",
        "source_dont_move=true",
        "sink_dont_move=true",
    )
    try:
        _attenuate_loopback(server, loop, percent=40)  # cubic volume: about -24 dB
        reply = np.concatenate([load(f"q0{i}_piper.wav", 24000) for i in (1, 2, 6, 7)])
        with EngineRunner(engine(headphones=not aec_on)) as run:
            run.wait_for(MicAudio)
            time.sleep(0.5)
            t_play = time.monotonic_ns()
            run.call(lambda: run.engine.play("r", reply.tobytes(), 24000))
            run.call(lambda: run.engine.end_item("r"))
            if not aec_on:  # the control ends as soon as the echo fires the detector
                try:
                    run.wait_for(VoiceStarted, timeout=6.0, after=t_play)
                    return None
                except TimeoutError:
                    return "control: without AEC the echo must trigger the detector"
            time.sleep(6.0)  # the assistant talks alone for 6 s
            t_user = time.monotonic_ns()
            server.play_to_mic(SPEECH / "q05_espeak.wav")
            time.sleep(0.8)
            barge = run.of(BargeIn)
        own_voice = [e for e in run.of(VoiceStarted) if t_play <= e.t_ns < t_user]
        user = [e for e in run.of(VoiceStarted) if e.t_ns >= t_user]
        m = run.engine.meters()
        if own_voice:
            return f"detector fired on the assistant's voice {own_voice} (meters {m})"
        if not user:
            return "the user speaking over the reply was not detected"
        if not (barge and barge[0].item_id == "r" and barge[0].played_ms > 5000):
            return f"no barge-in on the reply: {barge}"
        if m.false_pauses:
            return f"{m.false_pauses} provisional pauses on the assistant's voice"
        return None
    finally:
        server.unload_module(loop)


def _attenuate_loopback(server: PulseServer, module: int, percent: int) -> None:
    for line in server.pactl("list", "short", "sink-inputs").splitlines():
        cols = line.split("\t")
        if len(cols) >= 3 and cols[2] == "-" and _owner(server, cols[0]) == module:
            server.pactl("set-sink-input-volume", cols[0], f"{percent}%")
            return
    raise AssertionError("loopback sink-input not found")


def _owner(server: PulseServer, sink_input: str) -> int:
    text = server.pactl("list", "sink-inputs")
    block = text.split(f"Sink Input #{sink_input}\n", 1)[1].split("Sink Input #", 1)[0]
    for line in block.splitlines():
        if "Owner Module:" in line:
            return int(line.split(":")[1])
    return -1
