"""Provider options a user can set (issue 13, item 3), and how they reach the session (pure).

OpenAI: input ``noise_reduction`` (near field for a headset, far field for a laptop's built-in
or a room microphone; ``auto`` chooses from the input device's name), the ``semantic_vad``
eagerness, the server VAD's ``idle_timeout_ms`` and, for reasoning models (gpt-realtime-2 …),
the reasoning effort (less effort, less delay before the answer).

Gemini: media resolution (tokens per camera frame: ``realtime.gemini_options.frame_tokens``),
context-window compression (on by default, so sessions with video do not end after two
minutes; the window compresses at 80 % of the model's context), proactive audio and affective
dialog — sent only to models that take them (``app.model_catalog``); another model gets
neither field, since some refuse the whole setup for it.

A provider ignores the other provider's options (``realtime.events.SessionConfig``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from app.model_catalog import info
from realtime.events import SessionConfig
from realtime.gemini_options import MediaResolution, frame_tokens

__all__ = [
    "EAGERNESS",
    "MEDIA_RESOLUTIONS",
    "NOISE_REDUCTION",
    "REASONING_EFFORTS",
    "ProviderOptions",
    "media_resolution_label",
    "noise_reduction_for",
    "problem",
    "provider_options",
]

NoiseChoice = Literal["auto", "near", "far", "off"]
Eagerness = Literal["auto", "low", "medium", "high"]
NOISE_REDUCTION: tuple[NoiseChoice, ...] = ("auto", "near", "far", "off")
EAGERNESS: tuple[Eagerness, ...] = ("auto", "low", "medium", "high")
#: Settings spelling: "default" = the model's own.
MEDIA_RESOLUTIONS = ("default", "low", "medium", "high")
REASONING_EFFORTS = ("default", "minimal", "low", "medium", "high", "xhigh")
#: Compress the context when it reaches this share of the model's window.
COMPRESSION_AT = 0.8
#: The range a server VAD idle timeout may take (the offline server's, too).
MIN_IDLE_TIMEOUT_MS = 1000
MAX_IDLE_TIMEOUT_MS = 10 * 60 * 1000

_NEAR = re.compile(
    r"head(set|phone)|ear(bud|phone)|airpods|buds|bluetooth|hands-?free|\bhfp\b|jabra|"
    r"plantronics|\bpoly\b|\bbt\b",
    re.IGNORECASE,
)


def noise_reduction_for(device_name: str) -> Literal["near_field", "far_field"]:
    """Near field for a microphone worn close to the mouth (a headset, earbuds, a Bluetooth
    hands-free device); far field for everything else — a laptop's built-in microphone, a
    webcam, a room or array microphone, or the unnamed system default."""
    return "near_field" if _NEAR.search(device_name) else "far_field"


def media_resolution_label(model: str, choice: str) -> str:
    """``"Low — about 64 tokens per frame"`` for a settings UI or ``--help``."""
    resolution: MediaResolution = "" if choice == "default" else choice  # type: ignore[assignment]
    tokens = frame_tokens(model, resolution)
    name = "Model default" if choice == "default" else choice.capitalize()
    return f"{name} — about {tokens} tokens per frame"


def problem(
    noise_reduction: str,
    eagerness: str,
    idle_timeout_ms: int,
    media_resolution: str,
    reasoning_effort: str = "default",
) -> str:
    """Why these option values cannot be used (``""`` when they can)."""
    if reasoning_effort not in REASONING_EFFORTS:
        return f"reasoning_effort = {reasoning_effort!r}: use one of {', '.join(REASONING_EFFORTS)}"
    if noise_reduction not in NOISE_REDUCTION:
        return f"noise_reduction = {noise_reduction!r}: use one of {', '.join(NOISE_REDUCTION)}"
    if eagerness not in EAGERNESS:
        return f"vad_eagerness = {eagerness!r}: use one of {', '.join(EAGERNESS)}"
    if idle_timeout_ms != 0 and not MIN_IDLE_TIMEOUT_MS <= idle_timeout_ms <= MAX_IDLE_TIMEOUT_MS:
        return (
            f"idle_timeout_ms = {idle_timeout_ms}: use 0 (off) or "
            f"{MIN_IDLE_TIMEOUT_MS} … {MAX_IDLE_TIMEOUT_MS}"
        )
    if media_resolution not in MEDIA_RESOLUTIONS:
        return f"media_resolution = {media_resolution!r}: use one of {', '.join(MEDIA_RESOLUTIONS)}"
    return ""


@dataclass(frozen=True)
class ProviderOptions:
    """The user's provider options (``Settings`` → here → ``SessionConfig``)."""

    noise_reduction: NoiseChoice = "auto"
    #: The input device's name, for ``noise_reduction="auto"`` ("" = system default).
    input_device: str = ""
    eagerness: Eagerness = "auto"
    idle_timeout_ms: int = 0  # 0 = none
    media_resolution: str = "default"
    context_compression: bool = True
    proactive_audio: bool = False
    affective_dialog: bool = False
    #: OpenAI reasoning models only ("default" = the model's own).
    reasoning_effort: str = "default"

    def noise_reduction_type(self) -> Literal["near_field", "far_field"] | None:
        if self.noise_reduction == "off":
            return None
        if self.noise_reduction == "near":
            return "near_field"
        if self.noise_reduction == "far":
            return "far_field"
        return noise_reduction_for(self.input_device)

    def apply(self, config: SessionConfig) -> SessionConfig:
        """``config`` with these options, as far as its model takes them."""
        model = info(config.model)
        td = config.turn_detection
        if td.mode != "none":
            td = replace(
                td,
                # "auto" keeps the eagerness the conversation's patience chose (app.modes).
                eagerness=td.eagerness if self.eagerness == "auto" else self.eagerness,
                idle_timeout_ms=self.idle_timeout_ms or None,
            )
        trigger = int(model.context_tokens * COMPRESSION_AT) if model is not None else 0
        resolution = "" if self.media_resolution == "default" else self.media_resolution
        effort = "" if self.reasoning_effort == "default" else self.reasoning_effort
        if model is None or not model.reasoning:
            effort = ""  # a model without reasoning refuses the field
        return replace(
            config,
            turn_detection=td,
            noise_reduction=self.noise_reduction_type(),
            media_resolution=resolution,  # type: ignore[arg-type]
            context_compression=self.context_compression,
            compression_trigger_tokens=trigger if self.context_compression else 0,
            proactive_audio=self.proactive_audio and model is not None and model.proactive_audio,
            affective_dialog=(
                self.affective_dialog and model is not None and model.affective_dialog
            ),
            reasoning_effort=effort,  # type: ignore[arg-type]
        )


class OptionFields(Protocol):
    """The provider-option fields of ``app.config.Settings`` (read-only view)."""

    @property
    def noise_reduction(self) -> str: ...
    @property
    def input_device(self) -> str: ...
    @property
    def vad_eagerness(self) -> str: ...
    @property
    def idle_timeout_ms(self) -> int: ...
    @property
    def media_resolution(self) -> str: ...
    @property
    def context_compression(self) -> bool: ...
    @property
    def proactive_audio(self) -> bool: ...
    @property
    def affective_dialog(self) -> bool: ...
    @property
    def reasoning_effort(self) -> str: ...


def provider_options(fields: OptionFields) -> ProviderOptions:
    """The options of validated settings (``problem`` returned ``""`` for them)."""
    return ProviderOptions(
        noise_reduction=fields.noise_reduction,  # type: ignore[arg-type]
        input_device=fields.input_device,
        eagerness=fields.vad_eagerness,  # type: ignore[arg-type]
        idle_timeout_ms=fields.idle_timeout_ms,
        media_resolution=fields.media_resolution,
        context_compression=fields.context_compression,
        proactive_audio=fields.proactive_audio,
        affective_dialog=fields.affective_dialog,
        reasoning_effort=fields.reasoning_effort,
    )
