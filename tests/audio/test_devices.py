"""Device listing and name resolution with a fake PortAudio device list."""

from __future__ import annotations

import pytest

from audio.devices import input_devices, list_devices, output_devices, resolve
from audio.errors import AudioDeviceError
from tests.audio.fakes import FakeBackend, device

BACKEND = FakeBackend(
    [
        device(0, "HDA Intel PCH: ALC257 Analog (hw:0,0)", 2, 2, 44100.0),
        device(1, "USB Audio Device: - (hw:1,0)", 1, 0),
        device(2, "pulse", 32, 32),
        device(3, "default", 32, 32),
    ],
    default=(3, 3),
)


def test_lists_devices_with_host_api_and_rates():
    devs = list_devices(BACKEND)
    assert [d.name for d in devs][:2] == [
        "HDA Intel PCH: ALC257 Analog (hw:0,0)",
        "USB Audio Device: - (hw:1,0)",
    ]
    assert devs[0].host_api == "ALSA" and devs[0].default_sample_rate == 44100.0
    assert [d.index for d in input_devices(BACKEND)] == [0, 1, 2, 3]
    assert [d.index for d in output_devices(BACKEND)] == [0, 2, 3]


def test_resolve_exact_then_substring_case_insensitive():
    assert resolve("pulse", "input", BACKEND).device.index == 2
    r = resolve("usb audio", "input", BACKEND)
    assert r.device.index == 1 and r.warning is None
    assert resolve(None, "output", BACKEND).device.name == "default"


def test_missing_device_falls_back_with_warning():
    r = resolve("usb audio", "output", BACKEND)  # input-only device asked for output
    assert r.device.name == "default"
    assert r.warning is not None and "usb audio" in r.warning and "default" in r.warning


def test_no_device_at_all_is_actionable():
    with pytest.raises(AudioDeviceError, match="no microphone found"):
        resolve(None, "input", FakeBackend([device(0, "spk", 0, 2)]))
