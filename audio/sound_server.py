"""The sound server's own devices (PulseAudio, or PipeWire through its PulseAudio interface).

PortAudio sees a sound server only as its ALSA ``pulse`` / ``default`` devices, so a person
would pick from "pulse" and "default". This module lists the server's real sources and sinks
(``pulsectl``, over libpulse) by description, and routes a stream to one of them by name.

How a stream reaches a chosen device: PortAudio opens its ``pulse`` device, and libpulse reads
``PULSE_SOURCE`` / ``PULSE_SINK`` each time a stream is created, so ``route()`` sets them in
this process just before the stream is opened. Chosen over making the device the server's
default (``pulsectl``'s ``default_set``), which would move every other program's audio too and
outlive VoiceCam, and over moving our stream after it opened, which races its first blocks.

Without a sound server (or without ``pulsectl``) ``server_devices()`` returns None and callers
keep PortAudio's own list. Thread: any thread that may block (a round trip to the server, with
a 1 s connect timeout); ``route()`` must not run while another thread opens a stream.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger(__name__)

Kind = Literal["input", "output"]

#: The PortAudio (ALSA) device that reaches the sound server.
PORTAUDIO_DEVICE = "pulse"
_ENV = {"input": "PULSE_SOURCE", "output": "PULSE_SINK"}
#: The variables as the process started (a user's own PULSE_SINK is restored, never lost).
_STARTED_WITH = {kind: os.environ.get(var) for kind, var in _ENV.items()}
_CONNECT_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class ServerDevice:
    """One source (microphone) or sink (speaker) of the sound server."""

    name: str  # the server's stable name, e.g. alsa_output.pci-0000_00_1f.3.analog-stereo
    description: str  # what a person reads, e.g. "Built-in Audio Analog Stereo"
    kind: Kind


@dataclass(frozen=True)
class ServerDevices:
    """The server's microphones (monitors of its sinks left out) and speakers, server order."""

    inputs: tuple[ServerDevice, ...]
    outputs: tuple[ServerDevice, ...]

    def of(self, kind: Kind) -> tuple[ServerDevice, ...]:
        return self.inputs if kind == "input" else self.outputs

    def find(self, wanted: str, kind: Kind, *, exact: bool = False) -> ServerDevice | None:
        """The device ``wanted`` names: its name, label or description exactly, then (unless
        ``exact``) the one whose description or name contains it, case-insensitively; None if
        nothing matches."""
        devices = self.of(kind)
        labels = self.labels(kind)
        for d in devices:
            if wanted in (d.name, labels[d.name], d.description):
                return d
        if exact:
            return None
        low = wanted.casefold()
        for d in devices:
            if low in d.description.casefold():
                return d
        for d in devices:
            if low in d.name.casefold():
                return d
        return None

    def labels(self, kind: Kind) -> dict[str, str]:
        """Name → what to show: the description, with the name added when two share one."""
        devices = self.of(kind)
        seen = Counter(d.description for d in devices)
        return {
            d.name: d.description if seen[d.description] == 1 else f"{d.description} ({d.name})"
            for d in devices
        }


def server_devices() -> ServerDevices | None:
    """The sound server's devices, or None when there is no server to ask (or no ``pulsectl``).
    Blocking (at most about a second when the server does not answer)."""
    try:
        import pulsectl  # loads libpulse with ctypes: fails where there is none (OSError)
    except Exception as exc:
        log.debug("no pulsectl/libpulse: %s", exc)
        return None
    try:
        with pulsectl.Pulse("voicecam-devices", connect=False) as pulse:
            pulse.connect(timeout=_CONNECT_TIMEOUT_S)
            sources = pulse.source_list()
            sinks = pulse.sink_list()
    except Exception as exc:  # no server, refused, timed out, libpulse missing
        log.debug("no sound server to list devices from: %s", exc)
        return None
    none = 0xFFFFFFFF  # PA_INVALID_INDEX: a source that is not a sink's monitor
    return ServerDevices(
        inputs=tuple(
            ServerDevice(str(s.name), str(s.description or s.name), "input")
            for s in sources
            if getattr(s, "monitor_of_sink", none) in (none, None, -1)
        ),
        outputs=tuple(
            ServerDevice(str(s.name), str(s.description or s.name), "output") for s in sinks
        ),
    )


def route(kind: Kind, device: ServerDevice | None) -> None:
    """Send the next ``kind`` stream opened through PortAudio's ``pulse`` device to ``device``
    (None: to the server's default, or to what the user's own environment chose)."""
    var = _ENV[kind]
    value = device.name if device is not None else _STARTED_WITH[kind]
    if value:
        os.environ[var] = value
    else:
        os.environ.pop(var, None)
