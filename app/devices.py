"""Audio device names for a settings UI (a Qt-free facade over ``audio.devices``).

``device_names()`` enumerates the PortAudio devices; it can block (PortAudio, PulseAudio), so
call it from a worker thread. Names are what ``Settings.input_device`` / ``output_device`` hold.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DeviceNames", "device_names"]


@dataclass(frozen=True)
class DeviceNames:
    """Device names, in the order the system lists them."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def device_names() -> DeviceNames:
    """Microphones and speakers by name (worker thread: may block on PortAudio)."""
    from audio.devices import input_devices, output_devices

    return DeviceNames(
        tuple(d.name for d in input_devices()), tuple(d.name for d in output_devices())
    )
