"""Audio settings (``AudioConfig``) and talk modes.

Devices are chosen by *name* (what the app persists) and re-resolved on every open.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from audio.errors import AudioConfigError
from audio.priority import Priority


class TalkMode(StrEnum):
    """How the microphone reaches the model.

    ``HANDS_FREE``: voice detection decides; ``PUSH_TO_TALK``: audio flows while the key is held;
    ``TOGGLE``: one press starts, the next stops; ``MUTE``: nothing is sent.
    """

    HANDS_FREE = "hands_free"
    PUSH_TO_TALK = "push_to_talk"
    TOGGLE = "toggle"
    MUTE = "mute"


@dataclass(frozen=True)
class AudioConfig:
    """Settings for ``AudioEngine``.

    Units: ms, Hz, dB. ``input_device``/``output_device``: device names (substring match, case
    insensitive), ``None`` = system default. ``sample_rate``: preferred device rate (the engine
    falls back to the device default, then 44.1/16 kHz). ``block_ms``: a multiple of 10 (echo
    cancellation needs whole 10 ms frames). ``headphones=True`` turns echo cancellation off.
    ``aec_delay_hint_ms``: speaker→mic delay hint for AEC3; ``None`` = the stream's input + output
    latency (measured: with no hint AEC3 let the assistant's first words through in 3 of 6 room
    runs while converging; with the latency hint 0 of 12).
    ``send_only_speech``: in hands-free mode emit ``MicAudio`` only while voice is detected
    (with ``prefix_padding_ms`` of pre-roll); otherwise the mic streams continuously.
    ``barge_in``: on local voice onset during playback, clear playback in the same ``process()``.
    ``pause_on_voice_hint``: while playing, pause playback at the first voiced Silero window (before
    the start is confirmed); clear on confirmation, resume where it stopped if not confirmed within
    ``vad_min_speech_ms`` + 64 ms. Cuts barge-in latency by about the confirmation time.
    ``barge_in_min_speech_ms``: voice needed to confirm a start while the speaker plays (echo
    leaking through a re-converging canceller is short; a user talking over the reply is not).
    ``priority``: what the audio threads ask the OS for (``audio.priority``; a refusal is logged
    once and changes nothing else).
    ``listen_period_ms``: how often ``AudioEngine.process()`` needs to run while no reply plays
    (``AudioEngine.process_period_ms``; a multiple of 10): each wake-up of the engine thread costs
    more than the 10 ms of DSP it does, so batching two blocks saves CPU where no duck is at stake
    (while a reply plays it is one block, for barge-in latency).
    """

    input_device: str | None = None
    output_device: str | None = None
    sample_rate: int = 48000
    block_ms: int = 10
    send_rate_hz: int = 24000
    headphones: bool = False
    echo_cancellation: bool = True
    noise_suppression: bool = True
    aec_delay_hint_ms: int | None = None
    mode: TalkMode = TalkMode.HANDS_FREE
    vad_sensitivity: float = 0.5
    vad_min_speech_ms: int = 64
    vad_stop_ms: int = 500
    prefix_padding_ms: int = 300
    send_only_speech: bool = False
    barge_in: bool = True
    pause_on_voice_hint: bool = True
    barge_in_min_speech_ms: int = 200
    volume: float = 1.0
    prefill_ms: int = 40
    min_prefill_ms: int = 20
    max_prefill_ms: int = 300
    adaptive_jitter: bool = True
    device_timeout_ms: int = 1000
    retry_interval_ms: int = 2000
    priority: Priority = Priority.REALTIME
    listen_period_ms: int = 20

    def __post_init__(self) -> None:
        if self.block_ms <= 0 or self.block_ms % 10:
            raise AudioConfigError(
                f"block_ms={self.block_ms}: audio blocks must be a positive multiple of 10 ms "
                "(echo cancellation works on whole 10 ms frames); use 10 or 20"
            )
        if not 0 < self.listen_period_ms <= 100 or self.listen_period_ms % 10:
            raise AudioConfigError(
                f"listen_period_ms={self.listen_period_ms}: use a multiple of 10 ms up to 100 "
                "(the engine drains whole 10 ms blocks; the ring holds 640 ms)"
            )
        if self.sample_rate <= 0 or self.sample_rate % 100:
            raise AudioConfigError(
                f"sample_rate={self.sample_rate} Hz: use a rate with whole samples per 10 ms "
                "(48000, 44100, 32000, 16000)"
            )
        if self.send_rate_hz not in (16000, 24000):
            raise AudioConfigError(
                f"send_rate_hz={self.send_rate_hz}: the backends take 16000 (Gemini) "
                "or 24000 (OpenAI)"
            )
        if not 0.0 <= self.vad_sensitivity <= 1.0:
            raise AudioConfigError(f"vad_sensitivity={self.vad_sensitivity}: use 0.0 … 1.0")
        if not 0.0 <= self.volume <= 4.0:
            raise AudioConfigError(f"volume={self.volume}: use 0.0 (silent) … 1.0 (full) … 4.0")
        if not 0 < self.min_prefill_ms <= self.prefill_ms <= self.max_prefill_ms:
            raise AudioConfigError(
                "jitter buffer: need 0 < min_prefill_ms <= prefill_ms <= max_prefill_ms, got "
                f"{self.min_prefill_ms}/{self.prefill_ms}/{self.max_prefill_ms}"
            )

    @property
    def aec_enabled(self) -> bool:
        """Echo cancellation runs unless turned off or the user wears headphones."""
        return self.echo_cancellation and not self.headphones
