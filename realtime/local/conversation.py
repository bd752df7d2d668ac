"""The conversation: ordered items, truncation to what was heard, and the history the model sees.

Items mirror OpenAI Realtime message items (``type: "message"``, role user/assistant/system,
content parts ``input_text``/``input_audio``/``input_image``/``output_text``/``output_audio``).
Audio itself is not kept (only durations and transcripts) so a long session does not grow;
images are kept for the newest image item only (its analysis is what the brain sees).

Assistant audio parts record ``segments``: (text, start_ms, end_ms) for each spoken sentence, so
``truncate(audio_end_ms)`` can cut the transcript at the sentence heard last, and inside that
sentence proportionally by words.

Thread: the session's event-loop thread only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from realtime.local.vision import SceneFacts

Role = Literal["user", "assistant", "system"]


class ConversationError(ValueError):
    """A client event refers to an item or part that cannot take it. ``code``/``param`` as
    OpenAI's ``error`` event."""

    def __init__(self, message: str, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


@dataclass
class Part:
    type: str
    text: str | None = None
    transcript: str | None = None
    detail: str | None = None
    #: Milliseconds of audio in this part (input or output audio).
    audio_ms: int = 0
    #: Output audio: (sentence, start_ms, end_ms) as spoken.
    segments: list[tuple[str, int, int]] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.type in ("input_text", "output_text", "text"):
            out["text"] = self.text or ""
        elif self.type in ("input_audio", "output_audio"):
            out["transcript"] = self.transcript
        elif self.type == "input_image":
            # The image bytes are not echoed back (they can be hundreds of kB per frame).
            out["detail"] = self.detail or "auto"
        return out


@dataclass
class Item:
    id: str
    role: Role
    parts: list[Part]
    status: Literal["completed", "incomplete", "in_progress"] = "completed"
    #: Pending transcription (user audio) — resolved to the transcript text.
    transcript_task: asyncio.Future[str] | None = None
    #: Pending or finished analysis of an ``input_image`` part.
    scene_task: asyncio.Future[SceneFacts] | None = None
    image_jpeg: bytes | None = None

    def to_wire(self) -> dict[str, Any]:
        """The item as OpenAI's ``conversation.item.*`` events carry it."""
        return {
            "id": self.id,
            "object": "realtime.item",
            "type": "message",
            "status": self.status,
            "role": self.role,
            "content": [p.to_wire() for p in self.parts],
        }

    def text(self) -> str:
        """What this item says, as the model should see it."""
        pieces: list[str] = []
        for p in self.parts:
            if p.type in ("input_text", "output_text", "text") and p.text:
                pieces.append(p.text)
            elif p.type in ("input_audio", "output_audio") and p.transcript:
                pieces.append(p.transcript)
        return " ".join(pieces).strip()

    @property
    def has_image(self) -> bool:
        return any(p.type == "input_image" for p in self.parts)


@dataclass(frozen=True)
class Turn:
    """One message of the history handed to the brain."""

    role: Role
    text: str


def cut_transcript(segments: list[tuple[str, int, int]], audio_end_ms: int) -> str:
    """The words heard when playback stopped at ``audio_end_ms``.

    Whole sentences that ended before the cut are kept; the sentence being spoken is cut
    proportionally to the time elapsed in it, rounded down to whole words.
    """
    heard: list[str] = []
    for text, start, end in segments:
        if end <= audio_end_ms:
            heard.append(text)
            continue
        if start < audio_end_ms:
            words = text.split()
            frac = (audio_end_ms - start) / max(1, end - start)
            n = int(len(words) * frac)
            if n:
                heard.append(" ".join(words[:n]))
        break
    return " ".join(heard)


class Conversation:
    """Ordered items of one session (see module docstring)."""

    def __init__(self, max_history_turns: int = 12) -> None:
        self.items: list[Item] = []
        self._max_turns = max_history_turns

    def get(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise ConversationError(
            f"Item with item_id '{item_id}' not found.", "item_not_found", "item_id"
        )

    def add(self, item: Item, previous_item_id: str | None = None) -> str | None:
        """Insert ``item`` after ``previous_item_id`` (None: append; "root": first).

        Returns the id of the item now before it (for ``previous_item_id`` in events).
        """
        if any(i.id == item.id for i in self.items):
            raise ConversationError(
                f"Item with id '{item.id}' already exists.", "item_already_exists", "item.id"
            )
        if previous_item_id is None:
            index = len(self.items)
        elif previous_item_id == "root":
            index = 0
        else:
            index = self.items.index(self.get(previous_item_id)) + 1
        self.items.insert(index, item)
        self._forget_old_images()
        return self.items[index - 1].id if index > 0 else None

    def delete(self, item_id: str) -> None:
        self.items.remove(self.get(item_id))

    def _forget_old_images(self) -> None:
        """Only the newest image is analysed and kept; older ones drop their bytes."""
        seen = False
        for item in reversed(self.items):
            if item.has_image:
                if seen:
                    item.image_jpeg = None
                    item.scene_task = None
                seen = True

    def truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> Item:
        """``conversation.item.truncate``: keep only the audio (and transcript) heard."""
        item = self.get(item_id)
        if item.role != "assistant":
            raise ConversationError(
                "Only assistant messages can be truncated.", "invalid_value", "item_id"
            )
        if not 0 <= content_index < len(item.parts):
            raise ConversationError(
                f"Content index {content_index} is out of range.",
                "invalid_value",
                "content_index",
            )
        part = item.parts[content_index]
        if part.type != "output_audio":
            raise ConversationError(
                "Only audio content can be truncated.", "invalid_value", "content_index"
            )
        if audio_end_ms < 0:
            raise ConversationError(
                "audio_end_ms must be non-negative.", "invalid_value", "audio_end_ms"
            )
        if audio_end_ms > part.audio_ms:
            raise ConversationError(
                f"Audio content of {part.audio_ms}ms is already shorter than {audio_end_ms}ms",
                "invalid_value",
                "audio_end_ms",
            )
        part.transcript = cut_transcript(part.segments, audio_end_ms)
        part.segments = [
            (t, s, min(e, audio_end_ms)) for t, s, e in part.segments if s < audio_end_ms
        ]
        part.audio_ms = audio_end_ms
        return item

    def latest_image(self) -> Item | None:
        """The newest item holding an image (the only one whose bytes are kept)."""
        for item in reversed(self.items):
            if item.has_image and item.image_jpeg is not None:
                return item
        return None

    def history(self, extra: Item | None = None) -> list[Turn]:
        """The last turns as (role, text), consecutive same-role items merged, empties dropped.

        ``extra``: an item not in the conversation, counted as if appended (speculation)."""
        turns: list[Turn] = []
        for item in [*self.items, extra] if extra is not None else self.items:
            text = item.text()
            if not text:
                continue
            if turns and turns[-1].role == item.role:
                turns[-1] = Turn(item.role, turns[-1].text + " " + text)
            else:
                turns.append(Turn(item.role, text))
        return turns[-self._max_turns :]
