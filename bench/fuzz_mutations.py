"""The cases of ``bench/fuzz_local_server.py``: valid seed client events of every GA type the
offline server knows (and a few it refuses), and the ``Mutator`` that damages one of them per
case (fields replaced, deleted or retyped at any depth, damaged base64 and data URLs, cut or
flipped JSON text, binary frames, invalid UTF-8, deep nesting). Pure, seeded by the caller's
``random.Random``.
"""

from __future__ import annotations

import base64
import random
from typing import Any

from bench.json_mutation import CaseMix, TreeMutator
from realtime.local.protocol import CLIENT_EVENT_TYPES

# Every event type the server accepts (from the server itself), plus unknown ones.
CLIENT_TYPES = [
    *sorted(CLIENT_EVENT_TYPES),
    "transcription_session.update",
    "session.created",
    "",
]
KEYS = [
    "type",
    "event_id",
    "session",
    "audio",
    "item",
    "item_id",
    "content",
    "content_index",
    "audio_end_ms",
    "response",
    "response_id",
    "role",
    "text",
    "image_url",
    "previous_item_id",
    "output_modalities",
    "turn_detection",
    "instructions",
    "max_output_tokens",
    "format",
    "input",
    "output",
    "voice",
    "threshold",
    "transcript",
    "id",
    "detail",
    "conversation",
    "metadata",
    "__proto__",
]


def _png_data_url() -> str:
    import cv2
    import numpy as np

    img = np.zeros((24, 32, 3), np.uint8)
    img[:, :16] = (0, 0, 255)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode()


def pcm_b64(ms: int, rng: random.Random, loud: bool = False) -> str:
    """24 kHz PCM16 of ``ms`` milliseconds (noise; loud noise may trigger the VAD)."""
    n = ms * 24
    if loud:
        import numpy as np

        x = (np.random.default_rng(rng.randrange(1 << 30)).standard_normal(n) * 6000).astype("<i2")
        return base64.b64encode(x.tobytes()).decode()
    return base64.b64encode(bytes(2 * n)).decode()


def seed_events(rng: random.Random) -> list[dict[str, Any]]:
    """One or more valid client events of every GA type the server knows (and a few it refuses)."""
    png = _png_data_url()
    return [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}},
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "output_modalities": ["text"],
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcm", "rate": 24000},
                        "turn_detection": None,
                        "transcription": {"model": "whisper-1"},
                    },
                    "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "joe"},
                },
                "max_output_tokens": 8,
            },
        },
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {
                    "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"}}
                },
            },
        },
        {"type": "input_audio_buffer.append", "audio": pcm_b64(20, rng)},
        {"type": "input_audio_buffer.append", "audio": pcm_b64(60, rng, loud=True)},
        {"type": "input_audio_buffer.append", "audio": pcm_b64(120, rng)},
        {"type": "input_audio_buffer.commit", "event_id": "ev_commit"},
        {"type": "input_audio_buffer.clear"},
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "What time is it?"}],
            },
        },
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_image", "image_url": png, "detail": "low"}],
            },
        },
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_image", "image_url": "file:///etc/passwd"}],
            },
        },
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_image", "image_url": "/etc/hostname"}],
            },
        },
        {
            "type": "conversation.item.create",
            "previous_item_id": "root",
            "item": {
                "id": "item_fz1",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_audio", "transcript": "Hello there."}],
            },
        },
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "system",
                "content": [{"type": "input_text", "text": "Answer in French."}],
            },
        },
        {"type": "conversation.item.retrieve", "item_id": "item_fz1"},
        {"type": "conversation.item.delete", "item_id": "item_fz1"},
        {
            "type": "conversation.item.truncate",
            "item_id": "item_fz1",
            "content_index": 0,
            "audio_end_ms": 100,
        },
        {"type": "response.create"},
        {
            "type": "response.create",
            "response": {
                "output_modalities": ["text"],
                "conversation": "none",
                "instructions": "Say hi.",
                "metadata": {"k": "v"},
                "max_output_tokens": 4,
            },
        },
        {"type": "response.cancel"},
        {"type": "output_audio_buffer.clear"},
    ]


class Mutator(TreeMutator):
    """Random damage to one seed event (see module docstring)."""

    keys = KEYS
    types = CLIENT_TYPES
    mix = CaseMix(
        untouched=0.15,
        tree=0.80,
        text=0.93,
        raw_bytes=0.4,
        raw_texts=("", "null", "[]", "1", '"x"', "{" * 2000, "[" * 50000, "{}", '{"type":null}'),
        binary=0.25,
        bad_utf8=0.1,
        valid_text=True,
    )

    def json_value(self, depth: int = 0) -> Any:
        r = self.rng
        kind = r.randrange(13 if depth < 3 else 9)
        if kind == 0:
            return None
        if kind == 1:
            return r.choice([True, False])
        if kind == 2:
            return r.choice([0, -1, 1, 2**31, -(2**63), 10**30, r.randrange(-1000, 100000)])
        if kind == 3:
            return r.choice([0.5, -0.0, 1e308, float("nan"), float("inf"), 1.5])
        if kind == 4:
            return "".join(
                r.choice("aZ0 _-=+/\\\"'\u00e9\u4e2d\U0001f600\x00") for _ in range(r.randrange(12))
            )
        if kind == 5:
            return base64.b64encode(r.randbytes(r.randrange(0, 64))).decode()
        if kind == 6:
            return r.choice(CLIENT_TYPES)
        if kind == 7:
            return r.choice(
                [
                    "file:///etc/passwd",
                    "/etc/passwd",
                    "../../etc/shadow",
                    "http://127.0.0.1:1/x.png",
                    "data:image/png;base64,AAAA",
                    "data:text/plain;base64,aGk=",
                    "data:image/png,notbase64",
                    "data:image/jpeg;base64," + base64.b64encode(r.randbytes(40)).decode(),
                ]
            )
        if kind == 8:
            return r.choice(["item_fz1", "root", "", "resp_1", "item_" + "x" * 200])
        if kind in (9, 10):
            return [self.json_value(depth + 1) for _ in range(r.randrange(4))]
        return {r.choice(KEYS): self.json_value(depth + 1) for _ in range(r.randrange(4))}
