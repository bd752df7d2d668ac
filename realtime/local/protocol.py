"""Server-side OpenAI Realtime GA wire format: parse client events, build server events.

All JSON shapes of the local server live here (the app's own client-side JSON lives in
``realtime/openai.py``). Server events are plain dicts that validate against the official SDK's
``RealtimeServerEvent`` models.

``parse_client_event(raw) -> dict`` raises ``ClientEventError`` (an OpenAI-shaped ``error`` event
can be built from it with ``error_event``). ``Ids`` makes event/item/response ids.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import secrets
from typing import Any

from realtime.openai_vocab import CLIENT_EVENT_TYPES


class ClientEventError(ValueError):
    """A client event the server refuses. Fields map onto OpenAI's ``error`` object."""

    def __init__(
        self,
        message: str,
        code: str,
        *,
        param: str | None = None,
        event_id: str | None = None,
        event_type: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.param = param
        self.event_id = event_id
        self.event_type = event_type
        self.error_type = error_type


class Ids:
    """Unique ids in OpenAI's style: ``event_…``, ``item_…``, ``resp_…``, ``sess_…``."""

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(4)
        self._n = itertools.count(1)

    def make(self, kind: str) -> str:
        return f"{kind}_{self._prefix}{next(self._n):06d}"


#: Integers a client event may hold: signed 64-bit, as the cloud's API.
INT_LIMIT = 2**63


class _OutOfRangeInt:
    """Stands in for an integer literal outside ±``INT_LIMIT`` while decoding, so the event can
    be refused with the name of the field (``int()`` of 5,000 digits would raise first)."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits


def _parse_int(text: str, seen: list[_OutOfRangeInt]) -> int | _OutOfRangeInt:
    digits = len(text.lstrip("-"))
    if digits < 19:
        return int(text)
    if digits <= 20 and -INT_LIMIT <= int(text) < INT_LIMIT:
        return int(text)
    marker = _OutOfRangeInt(digits)
    seen.append(marker)
    return marker


def _path_of(value: object, target: _OutOfRangeInt, path: str) -> str | None:
    """Dotted path (``response.max_output_tokens``, ``item.content[0].x``) of ``target``."""
    if value is target:
        return path
    if isinstance(value, dict):
        for key, sub in value.items():
            found = _path_of(sub, target, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            found = _path_of(sub, target, f"{path}[{i}]")
            if found is not None:
                return found
    return None


def parse_client_event(raw: str | bytes) -> dict[str, Any]:
    """Decode one client message. Raises ``ClientEventError`` for anything unusable; an integer
    outside signed 64-bit is ``invalid_value`` with ``param`` naming its field."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ClientEventError("Binary frames must hold UTF-8 JSON.", "invalid_json") from None
    huge: list[_OutOfRangeInt] = []
    try:
        event = json.loads(raw, parse_int=lambda text: _parse_int(text, huge))
    except json.JSONDecodeError as exc:
        raise ClientEventError(
            f"The client event is not valid JSON: {exc.msg} at position {exc.pos}.",
            "invalid_json",
        ) from None
    except RecursionError:
        raise ClientEventError("The client event is nested too deeply.", "invalid_json") from None
    if not isinstance(event, dict):
        raise ClientEventError("A client event must be a JSON object.", "invalid_json")
    event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
    if huge:
        field = _path_of(event, huge[0], "") or "?"
        etype_seen = event.get("type")
        raise ClientEventError(
            f"Invalid value for '{field}': an integer of {huge[0].digits} digits is out of "
            "range (integers must fit in 64 bits).",
            "invalid_value",
            param=field,
            event_id=event_id,
            event_type=etype_seen if isinstance(etype_seen, str) else None,
        )
    etype = event.get("type")
    if not isinstance(etype, str):
        raise ClientEventError(
            "Missing required parameter: 'type'.",
            "missing_required_parameter",
            param="type",
            event_id=event_id,
        )
    if etype not in CLIENT_EVENT_TYPES:
        raise ClientEventError(
            f"Invalid value: '{etype}'. Supported values are: "
            + ", ".join(f"'{t}'" for t in sorted(CLIENT_EVENT_TYPES))
            + ".",
            "invalid_value",
            param="type",
            event_id=event_id,
            event_type=etype,
        )
    return event


def require(event: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """``event[key]`` checked against ``kind``; raises ``ClientEventError`` naming the event."""
    etype = event.get("type")
    if key not in event or event[key] is None:
        raise ClientEventError(
            f"Missing required parameter: '{key}'.",
            "missing_required_parameter",
            param=key,
            event_id=event.get("event_id"),
            event_type=etype,
        )
    value = event[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ClientEventError(
            f"Invalid type for '{key}'.",
            "invalid_type",
            param=key,
            event_id=event.get("event_id"),
            event_type=etype,
        )
    return value


def decode_audio(event: dict[str, Any]) -> bytes:
    """The PCM16 bytes of ``input_audio_buffer.append``; invalid base64 → ``ClientEventError``."""
    data = require(event, "audio", str)
    try:
        pcm = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ClientEventError(
            "Invalid 'audio'. Expected base64-encoded audio bytes.",
            "invalid_value",
            param="audio",
            event_id=event.get("event_id"),
            event_type=event.get("type"),
        ) from None
    if len(pcm) % 2:
        raise ClientEventError(
            "Invalid 'audio'. PCM16 audio must have an even number of bytes.",
            "invalid_value",
            param="audio",
            event_id=event.get("event_id"),
            event_type=event.get("type"),
        )
    return pcm


def decode_data_url(url: str, event: dict[str, Any]) -> bytes:
    """Bytes of a ``data:image/...;base64,...`` URL. Any other URL (a path, http://...) is
    refused: the server never opens a client-supplied location."""

    def bad(msg: str) -> ClientEventError:
        return ClientEventError(
            msg,
            "invalid_value",
            param="item.content.image_url",
            event_id=event.get("event_id"),
            event_type=event.get("type"),
        )

    if not url.startswith("data:"):
        raise bad("Invalid 'image_url'. Only data:image/...;base64 URLs are accepted.")
    head, sep, payload = url.partition(",")
    if not sep or ";base64" not in head or not head[5:].startswith("image/"):
        raise bad("Invalid 'image_url'. Expected data:image/<type>;base64,<data>.")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise bad("Invalid 'image_url'. The base64 image data does not decode.") from None


# --------------------------------------------------------------------------- server events


def error_event(ids: Ids, exc: ClientEventError) -> dict[str, Any]:
    """OpenAI's ``error`` event; the message starts with the offending client event's type."""
    message = f"{exc.event_type}: {exc.message}" if exc.event_type else exc.message
    event_id = exc.event_id if isinstance(exc.event_id, str) else None
    return {
        "type": "error",
        "event_id": ids.make("event"),
        "error": {
            "type": exc.error_type,
            "code": exc.code,
            "message": message,
            "param": exc.param,
            "event_id": event_id,
        },
    }


def event(ids: Ids, etype: str, **fields: Any) -> dict[str, Any]:
    """A server event of ``etype`` with a fresh ``event_id``."""
    return {"type": etype, "event_id": ids.make("event"), **fields}


def usage_object(
    *,
    input_text: int,
    input_audio_s: float,
    input_images: int,
    output_text: int,
    output_audio_s: float,
) -> dict[str, Any]:
    """``response.done`` usage in the cloud's shape.

    Audio is counted as the cloud bills it: 10 tokens per second of input audio, 20 per second
    of output audio; an image as 85 tokens (a low-detail tile).
    """
    in_audio = round(input_audio_s * 10)
    in_image = 85 * input_images
    out_audio = round(output_audio_s * 20)
    inp = input_text + in_audio + in_image
    out = output_text + out_audio
    return {
        "total_tokens": inp + out,
        "input_tokens": inp,
        "output_tokens": out,
        "input_token_details": {
            "text_tokens": input_text,
            "audio_tokens": in_audio,
            "image_tokens": in_image,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": output_text, "audio_tokens": out_audio},
    }
