"""Gemini Live provider options: media resolution, context compression, proactive audio and
affective dialog, as fields of the ``setup`` message (pure; used by ``realtime.gemini``).

Field placement follows google-genai's own converter (``_live_converters``):
``setup.generationConfig.mediaResolution``, ``setup.generationConfig.enableAffectiveDialog``,
``setup.proactivity.proactiveAudio`` and ``setup.contextWindowCompression``.

Token cost of one camera frame per media resolution (what the settings show next to the
choice): Gemini 2.x models spend 64 tokens on a frame at ``low`` and 258 at ``medium``/
``high``; Gemini 3.x models 70 at ``low``/``medium`` and 280 at ``high`` (video frames;
ai.google.dev/gemini-api/docs/media-resolution, "Token counts", read 2026-12-05).
"""

from __future__ import annotations

from typing import Literal

from realtime.events import SessionConfig

MediaResolution = Literal["", "low", "medium", "high"]
MEDIA_RESOLUTIONS: tuple[MediaResolution, ...] = ("", "low", "medium", "high")
_WIRE = {"low": "MEDIA_RESOLUTION_LOW", "medium": "MEDIA_RESOLUTION_MEDIUM"}
_WIRE["high"] = "MEDIA_RESOLUTION_HIGH"

#: Tokens per frame by model generation and resolution ("" = the model's default).
_FRAME_TOKENS: dict[str, dict[MediaResolution, int]] = {
    "2": {"": 258, "low": 64, "medium": 258, "high": 258},
    "3": {"": 280, "low": 70, "medium": 70, "high": 280},
}


def frame_tokens(model: str, resolution: MediaResolution) -> int:
    """About how many input tokens one camera frame costs on ``model`` at ``resolution``."""
    name = model.removeprefix("models/").split("/")[-1]
    generation = "3" if name.startswith(("gemini-3", "gemini-4")) else "2"
    return _FRAME_TOKENS[generation][resolution]


def apply_options(setup: dict[str, object], config: SessionConfig) -> None:
    """Add the options of ``config`` to a ``setup`` message (``generationConfig`` must exist).

    Only what is asked for is sent, so a model that lacks a feature never sees its field.
    """
    generation = setup["generationConfig"]
    assert isinstance(generation, dict)
    if config.media_resolution:
        generation["mediaResolution"] = _WIRE[config.media_resolution]
    if config.affective_dialog:
        generation["enableAffectiveDialog"] = True
    if config.proactive_audio:
        setup["proactivity"] = {"proactiveAudio": True}
    if config.context_compression:
        compression: dict[str, object] = {"slidingWindow": {}}
        if config.compression_trigger_tokens > 0:
            compression["triggerTokens"] = config.compression_trigger_tokens
            # Keep about half the trigger after compressing: room for several turns.
            window = compression["slidingWindow"]
            assert isinstance(window, dict)
            window["targetTokens"] = config.compression_trigger_tokens // 2
        setup["contextWindowCompression"] = compression
