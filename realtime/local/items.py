"""``conversation.item.create``: validate a client message item and build a conversation ``Item``.

Accepted: ``type: "message"`` items with role user (``input_text``, ``input_image``,
``input_audio``), assistant (``output_text``, ``output_audio``) or system (``input_text``); the
beta's plain ``text`` part is renamed to the GA name. Images must be ``data:image/...;base64`` URLs
(decoded in memory and checked to decode as an image); nothing the client names is ever opened.
Everything refused raises ``ClientEventError`` naming the parameter. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime.local import protocol
from realtime.local.conversation import Item, Part
from realtime.local.protocol import ClientEventError, require
from realtime.local.vision import ImageDecodeError, decode_image


def parse_item(event: dict[str, Any], new_id: Callable[[], str]) -> Item:
    """The ``Item`` of a ``conversation.item.create`` event (its image bytes, if any, in
    ``image_jpeg``). Raises ``ClientEventError``."""
    raw_item = require(event, "item", dict)
    eid = event.get("event_id")

    def bad(msg: str, param: str) -> ClientEventError:
        return ClientEventError(
            msg,
            "invalid_value",
            param=param,
            event_id=eid,
            event_type="conversation.item.create",
        )

    if raw_item.get("type", "message") != "message":
        raise bad("Only 'message' items are supported by the local server.", "item.type")
    role = raw_item.get("role")
    if role not in ("user", "assistant", "system"):
        raise bad("'item.role' must be 'user', 'assistant' or 'system'.", "item.role")
    content = raw_item.get("content")
    if not isinstance(content, list) or not content:
        raise bad("'item.content' must be a non-empty list.", "item.content")
    allowed = {
        "user": ("input_text", "input_image", "input_audio"),
        "assistant": ("output_text", "output_audio", "text"),
        "system": ("input_text", "text"),
    }[role]
    parts: list[Part] = []
    image: bytes | None = None
    for c in content:
        ctype = c.get("type") if isinstance(c, dict) else None
        if ctype not in allowed:
            raise bad(
                f"Content type {ctype!r} is not valid for a {role} message.",
                "item.content.type",
            )
        if ctype == "input_image":
            url = c.get("image_url")
            if not isinstance(url, str):
                raise bad("'image_url' is required for input_image.", "item.content.image_url")
            image = protocol.decode_data_url(url, event)
            try:
                decode_image(image)
            except ImageDecodeError as exc:
                raise bad(f"Invalid image: {exc}.", "item.content.image_url") from None
            detail = c.get("detail") or "auto"
            if detail not in ("auto", "low", "high"):
                raise bad("'detail' must be auto, low or high.", "item.content.detail")
            parts.append(Part(type="input_image", detail=detail))
        elif ctype in ("input_audio", "output_audio") and not isinstance(
            c.get("transcript"), str | None
        ):
            raise bad("'transcript' must be a string.", "item.content.transcript")
        elif ctype == "input_audio":
            audio = c.get("audio")
            ms = 0
            if isinstance(audio, str) and audio:
                pcm = protocol.decode_audio({**event, "audio": audio})
                ms = len(pcm) // 48
            parts.append(
                Part(type="input_audio", transcript=c.get("transcript") or "", audio_ms=ms)
            )
        elif ctype == "output_audio":
            parts.append(Part(type="output_audio", transcript=c.get("transcript") or ""))
        else:
            text = c.get("text")
            if not isinstance(text, str):
                raise bad("'text' is required for text content.", "item.content.text")
            # The beta's plain "text" part: the GA names are input_text / output_text.
            if ctype == "text":
                ctype = "output_text" if role == "assistant" else "input_text"
            parts.append(Part(type=ctype, text=text))
    item_id = raw_item.get("id") if isinstance(raw_item.get("id"), str) else None
    item = Item(id=item_id or new_id(), role=role, parts=parts)
    item.image_jpeg = image
    return item
