"""The JSON shapes of Gemini Live messages, built and read for ``realtime.gemini.GeminiCore``.

Pure functions, no state: the ``setup`` message for a ``SessionConfig`` (with the provider
options of ``realtime.gemini_options``), inline data blobs, and the readers of what the server
sends: snake_case → camelCase key normalisation (the SDK accepts both spellings), protobuf JSON
durations, ``usageMetadata`` → ``Usage``. Malformed input raises ``WireError``.
"""

from __future__ import annotations

import re

from realtime import _wire
from realtime._wire import WireError, get_int, get_list, get_obj, get_str
from realtime.events import SessionConfig, TurnDetection, Usage
from realtime.gemini_options import apply_options

_DURATION = re.compile(r"^(-?)(\d{1,12})(?:\.(\d{1,9}))?s$")


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def norm(d: dict[str, object]) -> dict[str, object]:
    """Shallow snake_case → camelCase key normalisation (the SDK accepts both spellings)."""
    if all("_" not in k for k in d):
        return d
    return {_camel(k): v for k, v in d.items()}


def norm_obj(d: dict[str, object], key: str) -> dict[str, object]:
    return norm(get_obj(d, key))


def parse_duration_ms(text: str) -> int:
    """Protobuf JSON duration (``"10s"``, ``"1.5s"``, ``"0.000340s"``) → whole ms (≥ 0)."""
    m = _DURATION.match(text.strip())
    if m is None:
        raise WireError(f"duration {_wire.excerpt(text, 40)!r} is not like '10s' or '1.5s'")
    sign, secs, frac = m.groups()
    ms = int(secs) * 1000 + int((frac or "0").ljust(9, "0")[:3])
    return 0 if sign else ms


def inline_blob(mime: str, data: bytes) -> dict[str, object]:
    return {"mimeType": mime, "data": _wire.b64encode(data)}


def _activity_detection(td: TurnDetection) -> dict[str, object]:
    if td.mode == "none":
        return {"disabled": True}
    out: dict[str, object] = {
        "disabled": False,
        "prefixPaddingMs": td.prefix_padding_ms,
        "silenceDurationMs": td.silence_duration_ms,
    }
    if td.threshold >= 0.7:
        out["startOfSpeechSensitivity"] = "START_SENSITIVITY_LOW"
    elif td.threshold <= 0.3:
        out["startOfSpeechSensitivity"] = "START_SENSITIVITY_HIGH"
    if td.mode == "semantic_vad" and td.eagerness in ("low", "high"):
        out["endOfSpeechSensitivity"] = f"END_SENSITIVITY_{td.eagerness.upper()}"
    return out


def setup_payload(config: SessionConfig, model: str) -> dict[str, object]:
    generation: dict[str, object] = {
        "responseModalities": ["AUDIO" if "audio" in config.output_modalities else "TEXT"],
    }
    if config.voice:
        generation["speechConfig"] = {
            "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": config.voice}}
        }
    if config.temperature is not None:
        generation["temperature"] = config.temperature
    realtime_cfg: dict[str, object] = {
        "automaticActivityDetection": _activity_detection(config.turn_detection)
    }
    if config.turn_detection.mode != "none":
        realtime_cfg["activityHandling"] = (
            "START_OF_ACTIVITY_INTERRUPTS"
            if config.turn_detection.interrupt_response
            else "NO_INTERRUPTION"
        )
    setup: dict[str, object] = {
        "model": model,
        "generationConfig": generation,
        "realtimeInputConfig": realtime_cfg,
        "sessionResumption": (
            {"handle": config.resumption_handle} if config.resumption_handle else {}
        ),
    }
    if config.instructions:
        setup["systemInstruction"] = {"parts": [{"text": config.instructions}]}
    if config.input_transcription:
        setup["inputAudioTranscription"] = {}
    if config.output_transcription:
        setup["outputAudioTranscription"] = {}
    apply_options(setup, config)
    return setup


def _modality_counts(details: list[object]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in details:
        if not isinstance(entry, dict):
            raise WireError("token details entry is not an object")
        entry = norm(entry)
        modality = get_str(entry, "modality", "")
        counts[modality] = counts.get(modality, 0) + get_int(entry, "tokenCount", 0)
    return counts


def parse_usage(u: dict[str, object]) -> Usage:
    prompt = _modality_counts(get_list(u, "promptTokensDetails"))
    response = _modality_counts(get_list(u, "responseTokensDetails"))
    return Usage(
        input_tokens=get_int(u, "promptTokenCount", 0),
        output_tokens=get_int(u, "responseTokenCount", 0) + get_int(u, "thoughtsTokenCount", 0),
        input_text_tokens=prompt.get("TEXT", 0),
        input_audio_tokens=prompt.get("AUDIO", 0),
        input_image_tokens=prompt.get("IMAGE", 0) + prompt.get("VIDEO", 0),
        input_cached_tokens=get_int(u, "cachedContentTokenCount", 0),
        output_text_tokens=response.get("TEXT", 0),
        output_audio_tokens=response.get("AUDIO", 0),
    )
