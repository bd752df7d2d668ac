"""Events returned by ``AudioEngine.process()`` (engine thread). All immutable.

``AudioDeviceError`` is the exception class from ``audio.errors`` used as an event (never raised
out of ``process()``).
"""

from __future__ import annotations

from dataclasses import dataclass

from audio.errors import AudioDeviceError


@dataclass(frozen=True)
class StreamInfo:
    """What PortAudio negotiated for the open duplex stream."""

    input_device: str
    output_device: str
    sample_rate: int
    block_frames: int
    input_latency_ms: float
    output_latency_ms: float
    aec_enabled: bool
    warnings: tuple[str, ...] = ()
    aec_delay_hint_ms: int = 0


@dataclass(frozen=True)
class MicAudio:
    """Processed microphone audio (after echo cancellation).

    ``pcm16_16k``: 16 kHz PCM16 mono (VAD, Gemini); ``pcm16_send``: the same audio at
    ``send_rate_hz`` (24 kHz for OpenAI; identical to ``pcm16_16k`` at 16 kHz). ``t_ns``:
    ``time.monotonic_ns()`` at which the first sample entered the microphone (ADC time estimate).
    The two byte strings may differ slightly in duration per event (streaming resamplers).
    """

    pcm16_16k: bytes
    pcm16_send: bytes
    send_rate_hz: int
    t_ns: int


@dataclass(frozen=True)
class VoiceStarted:
    """Local voice onset (VAD start, push-to-talk press, toggle on); ``t_ns`` monotonic.

    ``sample16``: the same instant as an index into the engine's 16 kHz stream (the
    concatenation of every ``MicAudio.pcm16_16k`` since ``StreamOpened``); -1 if unknown.
    """

    t_ns: int
    sample16: int = -1


@dataclass(frozen=True)
class VoiceStopped:
    """Local voice end (VAD stop after the stop delay, key release, toggle off).

    ``t_ns``/``sample16``: when the voice ended (not when the stop delay ran out).
    """

    t_ns: int
    sample16: int = -1


@dataclass(frozen=True)
class BargeIn:
    """Playback was cleared because the user spoke over it (config ``barge_in``).

    ``item_id``: the item that was playing (None if between items); ``played_ms``: how much of
    it actually reached the device: the value for a truncate command.
    """

    t_ns: int
    item_id: str | None
    played_ms: int


@dataclass(frozen=True)
class Backchannel:
    """The user said a short acknowledgement ("mhm", "sure") over the reply; the reply went on.

    Not a turn: its audio never reached the backend as speech (``audio.mic_hold``). ``text``:
    what the snippet transcriber heard; ``t_ns``: monotonic time of the decision.
    """

    t_ns: int
    text: str


@dataclass(frozen=True)
class AudioHealthChanged:
    """The audio went from keeping up to struggling (the computer is too busy) or back.

    ``struggling``: under/overflows, late processing or callback gaps in the last seconds
    (``audio.watchdog.Health``); ``message``: what the status line says (empty when fine again).
    Not a device loss: that is an ``AudioDeviceError``.
    """

    struggling: bool
    message: str


@dataclass(frozen=True)
class StreamOpened:
    """The duplex stream is open (first open and every reopen)."""

    info: StreamInfo


@dataclass(frozen=True)
class DeviceWarning:
    """Something works but not as configured (e.g. a device fell back to the default)."""

    message: str


@dataclass(frozen=True)
class DeviceRecovered:
    """The stream reopened after an ``AudioDeviceError``."""

    info: StreamInfo


AudioEvent = (
    MicAudio
    | VoiceStarted
    | VoiceStopped
    | BargeIn
    | Backchannel
    | AudioHealthChanged
    | StreamOpened
    | DeviceWarning
    | DeviceRecovered
    | AudioDeviceError
)

__all__ = [
    "AudioDeviceError",
    "AudioEvent",
    "AudioHealthChanged",
    "Backchannel",
    "BargeIn",
    "DeviceRecovered",
    "DeviceWarning",
    "MicAudio",
    "StreamInfo",
    "StreamOpened",
    "VoiceStarted",
    "VoiceStopped",
]
