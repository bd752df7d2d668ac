"""The audio engine's observable values: ``Meters`` (levels and counters the GUI polls) and
``VadLike`` (what the engine needs from a voice detector)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from audio.aec import EchoHint
from dsp.vad import VoiceEnd, VoiceStart


def level_dbfs(mean_square: float) -> float:
    """RMS level in dBFS of int16 audio from its mean square (as ``dsp.pcm.dbfs``: 0 = full-scale
    square wave; -120.0 for silence)."""
    if mean_square <= 0.0:
        return -120.0
    return max(-120.0, 10.0 * math.log10(mean_square) - _FULL_SCALE_DB)


_FULL_SCALE_DB = 20.0 * math.log10(32768.0)


class VadLike(Protocol):
    """What the engine needs from ``dsp.vad.StreamingVad``."""

    probability: float
    threshold: float

    def process(self, pcm: bytes) -> list[VoiceStart | VoiceEnd]: ...
    def reset(self) -> None: ...


@dataclass(frozen=True)
class Meters:
    """Latest levels and counters (a snapshot; poll it from the GUI with a timer).

    ``underruns``: reply gaps (jitter buffer) + device output underflows; ``overflows``: blocks
    dropped because the engine fell behind + device input overflows.
    """

    mic_dbfs: float = -120.0
    speaker_dbfs: float = -120.0
    erle_db: float | None = None
    underruns: int = 0
    overflows: int = 0
    aec_enabled: bool = False
    echo_hint: EchoHint = "no_playback"
    vad_probability: float = 0.0
    jitter_target_ms: float = 0.0
    callbacks: int = 0
    #: provisional barge-in pauses, and those that were not confirmed (resumed)
    voice_pauses: int = 0
    false_pauses: int = 0
    #: voice starts ignored because an xrun had just misaligned echo cancellation
    distrusted_starts: int = 0
    #: AEC3 is fed the speaker signal (False: no echo path measured, see audio.aec), and the
    #: measured speaker→mic coupling in dB
    aec_engaged: bool = True
    coupling_db: float = 0.0
