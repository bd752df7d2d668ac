"""Audio device names for a settings UI and the CLI (a Qt-free facade over ``audio``).

``device_names()`` lists the sound server's sources and sinks when there is one (PulseAudio or
PipeWire: their stable names, shown by description), else the PortAudio devices. It can block
(PortAudio, the sound server), so call it from a worker thread. Names are what
``Settings.input_device`` / ``output_device`` hold; the audio engine opens them by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["DeviceNames", "device_flags_problem", "device_names", "unknown_device_problem"]

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class DeviceNames:
    """Device names, in the order the system lists them, and what to show for each."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    #: name → label (a sound server device's description); a name without one shows as is.
    labels: Mapping[str, str] = field(default_factory=dict)

    def label(self, name: str) -> str:
        return self.labels.get(name, name)


def device_names() -> DeviceNames:
    """Microphones and speakers (worker thread: may block on PortAudio or the sound server)."""
    from audio.devices import input_devices, output_devices
    from audio.sound_server import server_devices

    server = server_devices()
    if server is not None and (server.inputs or server.outputs):
        return DeviceNames(
            tuple(d.name for d in server.inputs),
            tuple(d.name for d in server.outputs),
            {**server.labels("input"), **server.labels("output")},
        )
    return DeviceNames(
        tuple(d.name for d in input_devices()), tuple(d.name for d in output_devices())
    )


def unknown_device_problem(flag: str, name: str, kind: Kind) -> str | None:
    """None when ``name`` opens a device (as the audio engine matches names: the sound
    server's name or description, a PortAudio name, or a part of one); else one sentence
    naming what exists. Blocking, like ``device_names``."""
    from audio.devices import input_devices, output_devices
    from audio.sound_server import server_devices

    server = server_devices()
    local = input_devices() if kind == "input" else output_devices()
    low = name.casefold()
    if server is not None and server.find(name, kind) is not None:
        return None
    if any(d.name == name or low in d.name.casefold() for d in local):
        return None
    if server is not None and (server.inputs or server.outputs):
        shown = list(server.labels(kind).values())
    else:
        shown = [d.name for d in local]
    what = "microphone" if kind == "input" else "speaker"
    return (
        f"{flag} {name!r}: no such {what}. {what.capitalize()}s: "
        f"{', '.join(repr(s) for s in shown) or 'none found'} "
        f"(give one of these, or leave {flag} out for the system default)"
    )


def device_flags_problem(input_device: str | None, output_device: str | None) -> str | None:
    """``--input-device`` / ``--output-device`` checked by ``unknown_device_problem`` (the
    first problem, or None)."""
    if input_device:
        problem = unknown_device_problem("--input-device", input_device, "input")
        if problem:
            return problem
    if output_device:
        return unknown_device_problem("--output-device", output_device, "output")
    return None
