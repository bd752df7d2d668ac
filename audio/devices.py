"""Audio devices: listing, resolving persisted names, PortAudio re-initialisation.

Devices are persisted by *name* and resolved to a PortAudio index on every open, because indexes
change when devices come and go. A name that no longer matches falls back to the system default
with a warning a person can read. ``DeviceBackend`` abstracts ``sounddevice`` so tests can inject
a fake device list.

Thread: any thread that is allowed to block (never an audio callback). ``reinitialize()`` must
not run while another thread uses PortAudio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from audio.errors import AudioDeviceError
from audio.sound_server import PORTAUDIO_DEVICE, ServerDevices, route

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class DeviceInfo:
    """One PortAudio device."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_sample_rate: float

    def supports(self, kind: Kind) -> bool:
        return (self.max_input_channels if kind == "input" else self.max_output_channels) > 0


@dataclass(frozen=True)
class Resolved:
    """Result of resolving a device name: the device and a warning if it fell back."""

    device: DeviceInfo
    warning: str | None = None


class DeviceBackend(Protocol):
    """What ``devices`` needs from PortAudio (``sounddevice`` in production)."""

    def query_devices(self) -> Sequence[Mapping[str, Any]]: ...
    def query_hostapis(self) -> Sequence[Mapping[str, Any]]: ...
    def default_device(self) -> tuple[int, int]: ...


class SoundDeviceBackend:
    """``DeviceBackend`` over the real ``sounddevice`` module."""

    def query_devices(self) -> Sequence[Mapping[str, Any]]:
        import sounddevice as sd

        return list(sd.query_devices())

    def query_hostapis(self) -> Sequence[Mapping[str, Any]]:
        import sounddevice as sd

        return list(sd.query_hostapis())

    def default_device(self) -> tuple[int, int]:
        import sounddevice as sd

        dev = sd.default.device
        return int(dev[0]), int(dev[1])


def reinitialize() -> None:
    """Re-enumerate devices: PortAudio only scans at initialisation (new USB device, new server)."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


def list_devices(backend: DeviceBackend | None = None) -> list[DeviceInfo]:
    """All devices with their host API and default rate."""
    be = backend or SoundDeviceBackend()
    apis = [str(a.get("name", "?")) for a in be.query_hostapis()]
    out = []
    for i, d in enumerate(be.query_devices()):
        api_index = int(d.get("hostapi", 0))
        out.append(
            DeviceInfo(
                index=int(d.get("index", i)),
                name=str(d["name"]),
                host_api=apis[api_index] if 0 <= api_index < len(apis) else "?",
                max_input_channels=int(d.get("max_input_channels", 0)),
                max_output_channels=int(d.get("max_output_channels", 0)),
                default_sample_rate=float(d.get("default_samplerate", 48000.0)),
            )
        )
    return out


def input_devices(backend: DeviceBackend | None = None) -> list[DeviceInfo]:
    return [d for d in list_devices(backend) if d.supports("input")]


def output_devices(backend: DeviceBackend | None = None) -> list[DeviceInfo]:
    return [d for d in list_devices(backend) if d.supports("output")]


def resolve(
    name: str | None,
    kind: Kind,
    backend: DeviceBackend | None = None,
    known: Sequence[str] | None = None,
) -> Resolved:
    """The device for a persisted ``name`` (exact, then case-insensitive substring match).

    ``None`` or ``""`` means the system default. A name that matches nothing falls back to the
    default with a warning that names what exists (``known``, default: the PortAudio names).
    Raises ``AudioDeviceError`` when there is no usable device at all.
    """
    be = backend or SoundDeviceBackend()
    devices = [d for d in list_devices(be) if d.supports(kind)]
    what = "microphone" if kind == "input" else "speaker"
    if not devices:
        raise AudioDeviceError(
            f"no {what} found: connect one (or start the sound server) and VoiceCam will retry"
        )
    if name:
        for d in devices:
            if d.name == name:
                return Resolved(d)
        low = name.casefold()
        for d in devices:
            if low in d.name.casefold():
                return Resolved(d)
    default = _default(devices, be, kind)
    if not name:
        return Resolved(default)
    names = list(known) if known is not None else [d.name for d in devices]
    return Resolved(
        default,
        warning=(
            f"{what} '{name}' is not connected; using the system default instead. "
            f"{what.capitalize()}s: {', '.join(repr(n) for n in names) or 'none'}. "
            "Reconnect it or pick another in Settings."
        ),
    )


def resolve_routed(
    name: str | None,
    kind: Kind,
    backend: DeviceBackend | None,
    server: ServerDevices | None,
) -> Resolved:
    """``resolve`` that knows the sound server's devices (``audio.sound_server``).

    A ``name`` that is one of the server's sources/sinks (by name or description) opens
    PortAudio's ``pulse`` device routed to it; the returned device carries the description
    as its name. Any other name resolves among PortAudio's devices as before (stream routed to
    the server's default). With ``server`` None this is ``resolve``. Call it right before
    opening the stream (the route is process-wide, read when the stream is created).
    """
    if server is None:
        return resolve(name, kind, backend)
    device = None
    if name:  # exact server names, exact PortAudio names ("pulse"), then parts of either
        device = server.find(name, kind, exact=True)
        if device is None and not any(d.name == name for d in list_devices(backend)):
            device = server.find(name, kind)
    if device is not None:
        via = resolve(PORTAUDIO_DEVICE, kind, backend)
        if via.device.name == PORTAUDIO_DEVICE:
            route(kind, device)
            return Resolved(replace(via.device, name=device.description))
    route(kind, None)
    known = list(server.labels(kind).values())
    return resolve(name, kind, backend, known=known)


def _default(devices: list[DeviceInfo], be: DeviceBackend, kind: Kind) -> DeviceInfo:
    idx = be.default_device()[0 if kind == "input" else 1]
    for d in devices:
        if d.index == idx:
            return d
    for preferred in ("pulse", "pipewire", "default"):
        for d in devices:
            if d.name == preferred:
                return d
    return devices[0]
