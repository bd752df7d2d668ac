"""What a session is opened with: ``SessionConfig`` and its ``TurnDetection``, provider-neutral.

Frozen values, pure (no I/O). ``realtime.events`` re-exports them, so the app and the cores keep
one place to import the contract from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from realtime.openai_vocab import VAD_PREFIX_PADDING_MS, VAD_SILENCE_MS, VAD_THRESHOLD

TurnDetectionMode = Literal["server_vad", "semantic_vad", "none"]


@dataclass(frozen=True)
class TurnDetection:
    """How the provider decides that the user's turn is over.

    ``mode="none"`` is push-to-talk: the client commits and asks for a response itself
    (OpenAI: commit + response.create; Gemini: activityStart/activityEnd).
    """

    mode: TurnDetectionMode = "server_vad"
    threshold: float = VAD_THRESHOLD
    prefix_padding_ms: int = VAD_PREFIX_PADDING_MS
    silence_duration_ms: int = VAD_SILENCE_MS
    create_response: bool = True
    interrupt_response: bool = True
    eagerness: Literal["low", "medium", "high", "auto"] = "auto"
    idle_timeout_ms: int | None = None


@dataclass(frozen=True)
class SessionConfig:
    """Everything a session is opened with. Providers ignore what they cannot express."""

    model: str = ""
    instructions: str = ""
    voice: str = ""
    output_modalities: tuple[str, ...] = ("audio",)
    turn_detection: TurnDetection = field(default_factory=TurnDetection)
    input_transcription: bool = True
    output_transcription: bool = True
    transcription_model: str = "whisper-1"
    context_compression: bool = True
    resumption_handle: str | None = None
    temperature: float | None = None
    #: OpenAI input noise reduction: "near_field" (headset), "far_field" (laptop or room
    #: microphone), None = off.
    noise_reduction: Literal["near_field", "far_field"] | None = None
    #: Gemini: tokens spent per image/frame, "low"/"medium"/"high" ("" = the model's default).
    media_resolution: Literal["", "low", "medium", "high"] = ""
    #: Gemini: context size (tokens) at which the sliding window compresses (0 = server default).
    compression_trigger_tokens: int = 0
    #: Gemini native-audio models: answer only when addressed (proactive audio) and adapt
    #: to the user's tone (affective dialog). Other models ignore them (the app never sets them).
    proactive_audio: bool = False
    affective_dialog: bool = False
    #: OpenAI reasoning models (gpt-realtime-2 …): "minimal" … "xhigh" ("" = the model's default).
    reasoning_effort: Literal["", "minimal", "low", "medium", "high", "xhigh"] = ""
