"""The sound server's own devices (issue #14 item 9), on the real PulseAudio rig (``-m pulse``):
listed by description, opened by name (the reply reaches the chosen sink, the microphone is the
chosen source), a name that matches nothing falls back saying once what exists, and without a
server the PortAudio list stays."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.devices import DeviceNames, device_names, unknown_device_problem
from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import DeviceWarning, MicAudio, StreamOpened
from audio.sound_server import server_devices
from dsp.pcm import read_wav
from tests.audio.runner import EngineRunner
from tests.fixtures.pulse import PulseServer

pytestmark = pytest.mark.pulse


@pytest.fixture
def desk(pulse_server: PulseServer) -> Iterator[str]:
    """A third sink, "Desk Speakers", that is not the default: only a routed stream reaches it."""
    index = pulse_server.load_module(
        "module-null-sink",
        "sink_name=desk",
        "rate=48000",
        "sink_properties='device.description=\"Desk Speakers\"'",
    )
    try:
        yield "desk"
    finally:
        pulse_server.unload_module(index)


def rms(path: Path) -> float:
    pcm, _ = read_wav(path)
    x = np.frombuffer(pcm, dtype=np.int16).astype(float)
    return float(np.sqrt((x**2).mean())) if len(x) else 0.0


def test_lists_sources_and_sinks_by_description(pulse_server: PulseServer, desk: str) -> None:
    names = device_names()
    assert "desk" in names.outputs and "speaker" in names.outputs
    assert names.label("desk") == "Desk Speakers"
    # two sinks share "Null Output": the name tells them apart
    assert names.label("speaker") == "Null Output (speaker)"
    assert "virtmic" in names.inputs
    assert not any(n.endswith(".monitor") for n in names.inputs)  # monitors are no microphones
    assert not {"pulse", "default"} & {*names.inputs, *names.outputs}


def test_a_reply_reaches_the_sink_chosen_by_description(
    pulse_server: PulseServer, desk: str, tmp_path: Path
) -> None:
    on_desk = pulse_server.record(tmp_path / "desk.wav", device="desk.monitor")
    on_default = pulse_server.record(tmp_path / "default.wav", device="speaker.monitor")
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(24000) / 24000)).astype(np.int16)
    engine = AudioEngine(AudioConfig(input_device="virtmic", output_device="Desk Speakers"))
    with EngineRunner(engine) as run:
        opened = run.wait_for(StreamOpened)[1]
        run.wait_for(MicAudio)
        run.call(lambda: run.engine.play("a", tone.tobytes(), 24000))
        run.call(lambda: run.engine.end_item("a"))
        deadline = time.monotonic() + 10
        while run.call(lambda: run.engine.is_playing) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        sources = pulse_server.pactl("list", "short", "source-outputs")
        warnings = [e for _, e in run.events if isinstance(e, DeviceWarning)]
    on_desk.stop()
    on_default.stop()
    assert opened.info.output_device == "Desk Speakers"
    assert not warnings
    virtmic = next(
        line.split()[0]
        for line in pulse_server.pactl("list", "short", "sources").splitlines()
        if line.split()[1] == "virtmic"
    )
    assert any(line.split()[1] == virtmic for line in sources.splitlines()), sources
    assert rms(tmp_path / "desk.wav") > 1000  # the tone, on the chosen sink
    assert rms(tmp_path / "default.wav") < 50  # and not on the default one


def test_an_unknown_name_falls_back_and_names_what_exists(
    pulse_server: PulseServer, desk: str
) -> None:
    engine = AudioEngine(AudioConfig(input_device="virtmic", output_device="Lounge"))
    with EngineRunner(engine) as run:
        run.wait_for(StreamOpened)
        time.sleep(0.1)
        warnings = [e.message for _, e in run.events if isinstance(e, DeviceWarning)]
    assert len(warnings) == 1, warnings
    assert "'Lounge' is not connected" in warnings[0] and "'Desk Speakers'" in warnings[0]
    problem = unknown_device_problem("--output-device", "Lounge", "output")
    assert problem is not None and "'Desk Speakers'" in problem
    assert unknown_device_problem("--output-device", "desk speakers", "output") is None
    assert unknown_device_problem("--input-device", "pulse", "input") is None


def test_without_a_sound_server_the_portaudio_list_stays(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path / 'nobody-here'}")
    assert server_devices() is None
    names = device_names()
    assert isinstance(names, DeviceNames) and names.labels == {}
    out = subprocess.run(["pactl", "info"], capture_output=True, text=True, check=False)
    assert out.returncode != 0  # truly no server at that address
