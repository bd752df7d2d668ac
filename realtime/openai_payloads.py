"""The JSON shapes of OpenAI Realtime messages, built and read for ``realtime.openai.OpenAICore``.

Pure functions, no state: a ``SessionConfig`` → the ``session`` object of ``session.update``
(GA or beta), the content parts of ``conversation.item.create``, and a ``response.done``
``usage`` object → ``Usage`` (token counts; missing fields read as 0).
"""

from __future__ import annotations

from realtime._wire import get_int, get_obj
from realtime.events import SessionConfig, TurnDetection, Usage
from realtime.openai_vocab import pcm_format


def text_part(kind: str, text: str) -> dict[str, object]:
    return {"type": kind, "text": text}


def message_item(role: str, content: dict[str, object]) -> dict[str, object]:
    return {"type": "message", "role": role, "content": [content]}


def turn_detection(td: TurnDetection) -> dict[str, object] | None:
    if td.mode == "none":
        return None
    if td.mode == "semantic_vad":
        return {
            "type": "semantic_vad",
            "eagerness": td.eagerness,
            "create_response": td.create_response,
            "interrupt_response": td.interrupt_response,
        }
    out: dict[str, object] = {
        "type": "server_vad",
        "threshold": td.threshold,
        "prefix_padding_ms": td.prefix_padding_ms,
        "silence_duration_ms": td.silence_duration_ms,
        "create_response": td.create_response,
        "interrupt_response": td.interrupt_response,
    }
    if td.idle_timeout_ms is not None:
        out["idle_timeout_ms"] = td.idle_timeout_ms
    return out


def ga_session(config: SessionConfig) -> dict[str, object]:
    pcm = pcm_format()
    audio_in: dict[str, object] = {
        "format": pcm,
        "transcription": (
            {"model": config.transcription_model} if config.input_transcription else None
        ),
        "turn_detection": turn_detection(config.turn_detection),
    }
    if config.noise_reduction:
        audio_in["noise_reduction"] = {"type": config.noise_reduction}
    audio_out: dict[str, object] = {"format": pcm}
    if config.voice:
        audio_out["voice"] = config.voice
    # GA takes exactly one of "audio" (which includes a transcript) or "text".
    modality = "audio" if "audio" in config.output_modalities else "text"
    session: dict[str, object] = {
        "type": "realtime",
        "output_modalities": [modality],
        "audio": {"input": audio_in, "output": audio_out},
    }
    if config.instructions:
        session["instructions"] = config.instructions
    if config.reasoning_effort:
        session["reasoning"] = {"effort": config.reasoning_effort}
    return session


def beta_session(config: SessionConfig) -> dict[str, object]:
    modalities = ["audio", "text"] if "audio" in config.output_modalities else ["text"]
    session: dict[str, object] = {
        "modalities": modalities,
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "input_audio_transcription": (
            {"model": config.transcription_model} if config.input_transcription else None
        ),
        "turn_detection": turn_detection(config.turn_detection),
    }
    if config.noise_reduction:
        session["input_audio_noise_reduction"] = {"type": config.noise_reduction}
    if config.instructions:
        session["instructions"] = config.instructions
    if config.voice:
        session["voice"] = config.voice
    if config.temperature is not None:
        session["temperature"] = config.temperature
    return session


def parse_usage(u: dict[str, object]) -> Usage:
    inp = get_obj(u, "input_token_details")
    out = get_obj(u, "output_token_details")
    return Usage(
        input_tokens=get_int(u, "input_tokens", 0),
        output_tokens=get_int(u, "output_tokens", 0),
        input_text_tokens=get_int(inp, "text_tokens", 0),
        input_audio_tokens=get_int(inp, "audio_tokens", 0),
        input_image_tokens=get_int(inp, "image_tokens", 0),
        input_cached_tokens=get_int(inp, "cached_tokens", 0),
        output_text_tokens=get_int(out, "text_tokens", 0),
        output_audio_tokens=get_int(out, "audio_tokens", 0),
    )
