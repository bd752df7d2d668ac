"""Opening the duplex stream: device resolution, rate/channel negotiation, the objects bound to
one open stream (``Pipeline``), and closing streams without ever blocking on a dead device."""

from __future__ import annotations

import logging
from collections.abc import Callable

from audio.aec import EchoCanceller
from audio.config import AudioConfig
from audio.devices import DeviceBackend, SoundDeviceBackend, resolve_routed
from audio.duplex import DuplexIO, StreamFactory, StreamLike, StreamSpec
from audio.errors import AudioDeviceError
from audio.events import StreamInfo
from audio.jitter import JitterBuffer
from audio.player import Player
from audio.ring import BlockRing
from audio.sound_server import server_devices
from audio.split_stream import SplitDuplexStream

log = logging.getLogger(__name__)


class Pipeline:
    """Everything bound to one open stream."""

    def __init__(
        self,
        stream: StreamLike,
        io: DuplexIO,
        aec: EchoCanceller,
        info: StreamInfo,
        opened_ns: int,
    ) -> None:
        self.stream = stream
        self.io = io
        self.aec = aec
        self.info = info
        self.opened_ns = opened_ns

    @property
    def player(self) -> Player:
        return self.io.player


def open_pipeline(
    cfg: AudioConfig,
    factory: StreamFactory,
    backend: DeviceBackend | None,
    clock: Callable[[], int],
    volume: float,
) -> Pipeline:
    """Resolve devices by name (every time: indexes change) and open a started duplex stream,
    trying the preferred rate, the output's default, 48/44.1/16 kHz, mono then stereo output.
    Blocking; any thread but the audio callback. Raises ``AudioDeviceError``."""
    warnings: list[str] = []
    in_dev: int | str | None = cfg.input_device
    out_dev: int | str | None = cfg.output_device
    in_name = cfg.input_device or "default"
    out_name = cfg.output_device or "default"
    rates = [cfg.sample_rate]
    if backend is not None:
        # The sound server's own devices only with the real PortAudio (a test's fake device
        # list is its whole world).
        server = server_devices() if isinstance(backend, SoundDeviceBackend) else None
        try:
            rin = resolve_routed(cfg.input_device, "input", backend, server)
            rout = resolve_routed(cfg.output_device, "output", backend, server)
        except AudioDeviceError:
            raise
        except Exception as exc:  # PortAudio enumeration failure
            raise AudioDeviceError(
                f"could not list audio devices ({exc}); check the sound server is running"
            ) from None
        for r in (rin, rout):
            if r.warning:
                warnings.append(r.warning)
        in_dev, out_dev = rin.device.index, rout.device.index
        in_name, out_name = rin.device.name, rout.device.name
        rates.append(int(rout.device.default_sample_rate))
    rates += [48000, 44100, 16000]
    tried: list[str] = []
    for rate in dict.fromkeys(r for r in rates if r > 0 and r % 100 == 0):
        for out_ch in (1, 2):
            frames = rate * cfg.block_ms // 1000
            spec = StreamSpec(in_dev, out_dev, rate, frames, 1, out_ch, priority=cfg.priority)
            jitter = JitterBuffer(
                rate,
                prefill_ms=cfg.prefill_ms,
                min_prefill_ms=cfg.min_prefill_ms,
                max_prefill_ms=cfg.max_prefill_ms,
                adaptive=cfg.adaptive_jitter,
            )
            io = DuplexIO(frames, BlockRing(frames), Player(jitter, frames, volume), clock)
            try:
                stream = factory(spec, io.callback, io.on_finished)
            except Exception as exc:  # PortAudioError, ValueError from sounddevice
                tried.append(f"{rate} Hz/{out_ch} ch: {exc}")
                continue
            try:
                stream.start()
            except Exception as exc:
                close_quietly(stream)
                tried.append(f"{rate} Hz start: {exc}")
                continue
            if isinstance(stream, SplitDuplexStream):  # duck after the output queue
                stream.gain_source = io.player.duck_state
                io.player.external_gain = True
            lat_in, lat_out = latencies(stream.latency)
            for w in warnings:  # said once, as DeviceWarning events (AudioEngine)
                log.info("%s", w)
            hint = cfg.aec_delay_hint_ms
            if hint is None:
                hint = round((lat_in + lat_out) * 1000.0)
            aec = EchoCanceller(
                rate,
                enabled=cfg.aec_enabled,
                noise_suppression=cfg.noise_suppression,
                delay_hint_ms=hint,
            )
            info = StreamInfo(
                input_device=in_name,
                output_device=out_name,
                sample_rate=int(stream.samplerate),
                block_frames=frames,
                input_latency_ms=lat_in * 1000.0,
                output_latency_ms=lat_out * 1000.0,
                aec_enabled=aec.enabled,
                warnings=tuple(warnings),
                aec_delay_hint_ms=hint,
            )
            return Pipeline(stream, io, aec, info, clock())
    raise AudioDeviceError(
        f"could not open microphone '{in_name}' with speaker '{out_name}' "
        f"({'; '.join(tried[:3])}). Check they are connected and not used exclusively by "
        "another program, or pick other devices in Settings; VoiceCam keeps retrying."
    )


def skip_portaudio_exit_handler() -> None:
    """A dead stream is stuck closing: sounddevice's exit handler (Pa_Terminate) would hang the
    process at exit waiting for it, so unregister it; the OS frees everything anyway."""
    import atexit

    import sounddevice as sd

    log.warning("a lost audio stream cannot be closed; PortAudio will not be shut down at exit")
    atexit.unregister(sd._exit_handler)


def latencies(latency: object) -> tuple[float, float]:
    if isinstance(latency, tuple | list) and len(latency) == 2:
        return float(latency[0]), float(latency[1])
    if isinstance(latency, int | float):
        return float(latency), float(latency)
    return 0.0, 0.0


def close_quietly(stream: StreamLike, abort: bool = False) -> None:
    try:
        stop = getattr(stream, "abort", None) if abort else None
        (stop or stream.stop)()
    except Exception as exc:  # a dead device may refuse to stop
        log.debug("stream stop failed: %s", exc)
    try:
        stream.close()
    except Exception as exc:
        log.debug("stream close failed: %s", exc)
