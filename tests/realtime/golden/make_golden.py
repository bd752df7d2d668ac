"""Regenerate the golden server streams here: ``python tests/realtime/golden/make_golden.py``.

Each ``*.jsonl`` file is one server message per line, shaped like what the providers send
(field sets taken from the official SDK types). Audio payloads are deterministic PCM16 patterns.
The tests validate every line against the SDK types, so a shape drift here fails loudly.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

HERE = Path(__file__).resolve().parent


def pcm(n_samples: int, seed: int) -> bytes:
    """Deterministic PCM16 mono: a stepped sawtooth."""
    return b"".join(
        struct.pack("<h", ((i * 37 + seed * 101) % 2000) - 1000) for i in range(n_samples)
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def write(name: str, messages: list[dict]) -> None:
    with open(HERE / name, "w", encoding="utf-8") as f:
        for m in messages:
            f.write(json.dumps(m, separators=(",", ":")) + "\n")


# ------------------------------------------------------------------------------ OpenAI GA


def _oa_session() -> dict:
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": "sess_C9x2Lh0",
        "model": "gpt-realtime-2025-08-28",
        "output_modalities": ["audio"],
        "instructions": "You are a helpful assistant.",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "prompt": None,
        "expires_at": 1764413400,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "idle_timeout_ms": None,
                    "create_response": True,
                    "interrupt_response": True,
                },
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": "marin",
                "speed": 1.0,
            },
        },
        "include": None,
    }


def _oa_user_item(item_id: str, transcript: str | None, status: str) -> dict:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "status": status,
        "role": "user",
        "content": [{"type": "input_audio", "transcript": transcript}],
    }


def _oa_assistant_item(item_id: str, transcript: str | None, status: str) -> dict:
    content = [] if transcript is None else [{"type": "output_audio", "transcript": transcript}]
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _oa_response(resp_id: str, status: str, output: list, usage: dict | None, details=None) -> dict:
    return {
        "object": "realtime.response",
        "id": resp_id,
        "status": status,
        "status_details": details,
        "output": output,
        "conversation_id": "conv_C9x2LhA",
        "output_modalities": ["audio"],
        "max_output_tokens": "inf",
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "marin"}},
        "usage": usage,
        "metadata": None,
    }


def openai_turn() -> list[dict]:
    ev = iter(f"event_T{i:03d}" for i in range(1, 200))
    user, asst, resp = "item_U1", "item_A1", "resp_R1"
    transcript = "There is a red mug on your desk."
    usage = {
        "total_tokens": 382,
        "input_tokens": 251,
        "output_tokens": 131,
        "input_token_details": {
            "text_tokens": 119,
            "audio_tokens": 47,
            "image_tokens": 85,
            "cached_tokens": 64,
            "cached_tokens_details": {"text_tokens": 64, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": 29, "audio_tokens": 102},
    }
    m: list[dict] = [
        {"type": "session.created", "event_id": next(ev), "session": _oa_session()},
        {"type": "session.updated", "event_id": next(ev), "session": _oa_session()},
        {
            "type": "input_audio_buffer.speech_started",
            "event_id": next(ev),
            "audio_start_ms": 420,
            "item_id": user,
        },
        {
            "type": "input_audio_buffer.speech_stopped",
            "event_id": next(ev),
            "audio_end_ms": 2260,
            "item_id": user,
        },
        {
            "type": "input_audio_buffer.committed",
            "event_id": next(ev),
            "previous_item_id": None,
            "item_id": user,
        },
        {
            "type": "conversation.item.added",
            "event_id": next(ev),
            "previous_item_id": None,
            "item": _oa_user_item(user, None, "completed"),
        },
        {
            "type": "conversation.item.done",
            "event_id": next(ev),
            "previous_item_id": None,
            "item": _oa_user_item(user, None, "completed"),
        },
        {
            "type": "response.created",
            "event_id": next(ev),
            "response": _oa_response(resp, "in_progress", [], None),
        },
        {
            "type": "rate_limits.updated",
            "event_id": next(ev),
            "rate_limits": [
                {"name": "tokens", "limit": 40000, "remaining": 39618, "reset_seconds": 0.573}
            ],
        },
        {
            "type": "response.output_item.added",
            "event_id": next(ev),
            "response_id": resp,
            "output_index": 0,
            "item": _oa_assistant_item(asst, None, "in_progress"),
        },
        {
            "type": "conversation.item.added",
            "event_id": next(ev),
            "previous_item_id": user,
            "item": _oa_assistant_item(asst, None, "in_progress"),
        },
        {
            "type": "response.content_part.added",
            "event_id": next(ev),
            "response_id": resp,
            "item_id": asst,
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "audio", "transcript": ""},
        },
        {
            "type": "conversation.item.input_audio_transcription.delta",
            "event_id": next(ev),
            "item_id": user,
            "content_index": 0,
            "delta": "What's on",
        },
        {
            "type": "conversation.item.input_audio_transcription.delta",
            "event_id": next(ev),
            "item_id": user,
            "content_index": 0,
            "delta": " my desk?",
        },
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "event_id": next(ev),
            "item_id": user,
            "content_index": 0,
            "transcript": "What's on my desk?",
            "usage": {
                "type": "tokens",
                "total_tokens": 30,
                "input_tokens": 21,
                "output_tokens": 9,
                "input_token_details": {"text_tokens": 0, "audio_tokens": 21},
            },
        },
    ]
    words = ["There is", " a red mug", " on your desk."]
    for i, w in enumerate(words):
        m.append(
            {
                "type": "response.output_audio_transcript.delta",
                "event_id": next(ev),
                "response_id": resp,
                "item_id": asst,
                "output_index": 0,
                "content_index": 0,
                "delta": w,
            }
        )
        m.append(
            {
                "type": "response.output_audio.delta",
                "event_id": next(ev),
                "response_id": resp,
                "item_id": asst,
                "output_index": 0,
                "content_index": 0,
                "delta": b64(pcm(2400, i)),
            }
        )
    m += [
        {
            "type": "response.output_audio.done",
            "event_id": next(ev),
            "response_id": resp,
            "item_id": asst,
            "output_index": 0,
            "content_index": 0,
        },
        {
            "type": "response.output_audio_transcript.done",
            "event_id": next(ev),
            "response_id": resp,
            "item_id": asst,
            "output_index": 0,
            "content_index": 0,
            "transcript": transcript,
        },
        {
            "type": "response.content_part.done",
            "event_id": next(ev),
            "response_id": resp,
            "item_id": asst,
            "output_index": 0,
            "content_index": 0,
            "part": {"type": "audio", "transcript": transcript},
        },
        {
            "type": "response.output_item.done",
            "event_id": next(ev),
            "response_id": resp,
            "output_index": 0,
            "item": _oa_assistant_item(asst, transcript, "completed"),
        },
        {
            "type": "conversation.item.done",
            "event_id": next(ev),
            "previous_item_id": user,
            "item": _oa_assistant_item(asst, transcript, "completed"),
        },
        {
            "type": "response.done",
            "event_id": next(ev),
            "response": _oa_response(
                resp, "completed", [_oa_assistant_item(asst, transcript, "completed")], usage
            ),
        },
    ]
    return m


def openai_interrupt() -> list[dict]:
    ev = iter(f"event_I{i:03d}" for i in range(1, 200))
    asst, resp, user2 = "item_A2", "resp_R2", "item_U2"
    usage = {
        "total_tokens": 160,
        "input_tokens": 120,
        "output_tokens": 40,
        "input_token_details": {
            "text_tokens": 80,
            "audio_tokens": 40,
            "image_tokens": 0,
            "cached_tokens": 0,
        },
        "output_token_details": {"text_tokens": 10, "audio_tokens": 30},
    }
    return [
        {
            "type": "response.created",
            "event_id": next(ev),
            "response": _oa_response(resp, "in_progress", [], None),
        },
        {
            "type": "response.output_item.added",
            "event_id": next(ev),
            "response_id": resp,
            "output_index": 0,
            "item": _oa_assistant_item(asst, None, "in_progress"),
        },
        {
            "type": "response.output_audio_transcript.delta",
            "event_id": next(ev),
            "response_id": resp,
            "item_id": asst,
            "output_index": 0,
            "content_index": 0,
            "delta": "Let me tell you a long",
        },
        {
            "type": "response.output_audio.delta",
            "event_id": next(ev),
            "response_id": resp,
            "item_id": asst,
            "output_index": 0,
            "content_index": 0,
            "delta": b64(pcm(12000, 7)),
        },
        {
            "type": "response.output_audio.delta",
            "event_id": next(ev),
            "response_id": resp,
            "item_id": asst,
            "output_index": 0,
            "content_index": 0,
            "delta": b64(pcm(12000, 8)),
        },
        {
            "type": "input_audio_buffer.speech_started",
            "event_id": next(ev),
            "audio_start_ms": 9120,
            "item_id": user2,
        },
        {
            "type": "response.output_audio.done",
            "event_id": next(ev),
            "response_id": resp,
            "item_id": asst,
            "output_index": 0,
            "content_index": 0,
        },
        {
            "type": "response.output_audio_transcript.done",
            "event_id": next(ev),
            "response_id": resp,
            "item_id": asst,
            "output_index": 0,
            "content_index": 0,
            "transcript": "Let me tell you a long",
        },
        {
            "type": "response.done",
            "event_id": next(ev),
            "response": _oa_response(
                resp,
                "cancelled",
                [_oa_assistant_item(asst, "Let me tell you a long", "incomplete")],
                usage,
                {"type": "cancelled", "reason": "turn_detected"},
            ),
        },
        {
            "type": "conversation.item.truncated",
            "event_id": next(ev),
            "item_id": asst,
            "content_index": 0,
            "audio_end_ms": 640,
        },
        {
            "type": "input_audio_buffer.speech_stopped",
            "event_id": next(ev),
            "audio_end_ms": 10400,
            "item_id": user2,
        },
    ]


def openai_error() -> list[dict]:
    return [
        {"type": "session.created", "event_id": "event_E001", "session": _oa_session()},
        {
            "type": "error",
            "event_id": "event_E002",
            "error": {
                "type": "invalid_request_error",
                "code": "input_audio_buffer_commit_empty",
                "message": "Error committing input audio buffer: buffer too small. "
                "Expected at least 100ms of audio, but buffer only has 0.00ms of audio.",
                "param": None,
                "event_id": "evt_3",
            },
        },
        {
            "type": "error",
            "event_id": "event_E003",
            "error": {
                "type": "invalid_request_error",
                "code": "response_cancel_not_active",
                "message": "Cancellation failed: no active response found",
                "param": None,
                "event_id": None,
            },
        },
    ]


def openai_expired() -> list[dict]:
    return [
        {
            "type": "error",
            "event_id": "event_X001",
            "error": {
                "type": "invalid_request_error",
                "code": "session_expired",
                "message": "Your session hit the maximum duration of 60 minutes.",
                "param": None,
                "event_id": None,
            },
        },
    ]


# ------------------------------------------------------------------------------ Gemini Live


def gemini_turn() -> list[dict]:
    audio = "audio/pcm;rate=24000"
    usage = {
        "promptTokenCount": 412,
        "responseTokenCount": 96,
        "totalTokenCount": 508,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 112},
            {"modality": "AUDIO", "tokenCount": 42},
            {"modality": "IMAGE", "tokenCount": 258},
        ],
        "responseTokensDetails": [{"modality": "AUDIO", "tokenCount": 96}],
    }
    m: list[dict] = [
        {"setupComplete": {}},
        {"serverContent": {"inputTranscription": {"text": "What's on"}}},
        {"serverContent": {"inputTranscription": {"text": " my desk?"}}},
    ]
    for i, w in enumerate(["A red mug", " and a", " notebook."]):
        m.append(
            {
                "serverContent": {
                    "modelTurn": {
                        "role": "model",
                        "parts": [
                            {"inlineData": {"mimeType": audio, "data": b64(pcm(2400, 20 + i))}}
                        ],
                    }
                }
            }
        )
        m.append({"serverContent": {"outputTranscription": {"text": w}}})
    m += [
        {"serverContent": {"generationComplete": True}},
        {"serverContent": {"turnComplete": True}, "usageMetadata": usage},
    ]
    return m


def gemini_interrupted() -> list[dict]:
    audio = "audio/pcm;rate=24000"
    return [
        {
            "serverContent": {
                "modelTurn": {
                    "parts": [{"inlineData": {"mimeType": audio, "data": b64(pcm(4800, 30))}}]
                }
            }
        },
        {"serverContent": {"outputTranscription": {"text": "Once upon a time"}}},
        {"serverContent": {"interrupted": True}},
        {"serverContent": {"inputTranscription": {"text": "Stop, please."}}},
        {
            "serverContent": {
                "modelTurn": {
                    "parts": [{"inlineData": {"mimeType": audio, "data": b64(pcm(2400, 31))}}]
                }
            }
        },
        {"serverContent": {"outputTranscription": {"text": "Sure."}}},
        {"serverContent": {"turnComplete": True}},
    ]


def gemini_session() -> list[dict]:
    return [
        {"setupComplete": {"sessionId": "live_9f2c"}},
        {"sessionResumptionUpdate": {"newHandle": "CiQ0ZTc2YjU2Mi1lNDBk", "resumable": True}},
        {
            "toolCall": {
                "functionCalls": [{"id": "call_7", "name": "get_time", "args": {"tz": "UTC"}}]
            }
        },
        {"toolCallCancellation": {"ids": ["call_7"]}},
        {"sessionResumptionUpdate": {"resumable": False}},
        {"goAway": {"timeLeft": "10s"}},
        {"goAway": {"timeLeft": "1.5s"}},
        {"usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12}},
    ]


if __name__ == "__main__":
    write("openai_turn.jsonl", openai_turn())
    write("openai_interrupt.jsonl", openai_interrupt())
    write("openai_error.jsonl", openai_error())
    write("openai_expired.jsonl", openai_expired())
    write("gemini_turn.jsonl", gemini_turn())
    write("gemini_interrupted.jsonl", gemini_interrupted())
    write("gemini_session.jsonl", gemini_session())
