"""Conversation items of one offline-server session: ``conversation.item.*`` client events.

create (text, audio transcript or image item; an image's analysis starts at once when no other
frame is being analysed), delete, retrieve and truncate (which cancels the response still
producing that item first). A refused event raises ``ClientEventError`` or
``ConversationError``; ``Connection.handle`` turns either into an ``error`` event.

Thread: the server's event-loop thread, one client event at a time. ``audio_end_ms`` is in ms
of the item's audio.
"""

from __future__ import annotations

from typing import Any

from realtime.local.conversation import Conversation
from realtime.local.items import parse_item
from realtime.local.outbox import Outbox
from realtime.local.protocol import require
from realtime.local.replies import Replies
from realtime.local.scenes import Scenes


class ItemEvents:
    """Handlers of the ``conversation.item.*`` client events."""

    def __init__(
        self, *, outbox: Outbox, conversation: Conversation, scenes: Scenes, replies: Replies
    ) -> None:
        self._outbox = outbox
        self._conversation = conversation
        self._scenes = scenes
        self._replies = replies

    async def on_create(self, event: dict[str, Any]) -> None:
        """``conversation.item.create``: add the item after ``previous_item_id`` (or last)."""
        item = parse_item(event, lambda: self._outbox.ids.make("item"))
        image = item.image_jpeg
        prev_arg = event.get("previous_item_id")
        previous = self._conversation.add(item, prev_arg if isinstance(prev_arg, str) else None)
        if image is not None and not self._scenes.busy:
            # Analyse eagerly so the answer does not wait, but one frame at a time: frames
            # arriving while one is analysed are analysed only if a response needs them.
            self._scenes.scene_for(item)
        wire = item.to_wire()
        await self._outbox.emit("conversation.item.added", previous_item_id=previous, item=wire)
        await self._outbox.emit("conversation.item.done", previous_item_id=previous, item=wire)

    async def on_delete(self, event: dict[str, Any]) -> None:
        """``conversation.item.delete``."""
        item_id = require(event, "item_id", str)
        self._conversation.delete(item_id)
        await self._outbox.emit("conversation.item.deleted", item_id=item_id)

    async def on_retrieve(self, event: dict[str, Any]) -> None:
        """``conversation.item.retrieve``."""
        item_id = require(event, "item_id", str)
        item = self._conversation.get(item_id)
        await self._outbox.emit("conversation.item.retrieved", item=item.to_wire())

    async def on_truncate(self, event: dict[str, Any]) -> None:
        """``conversation.item.truncate``: cut an assistant item's audio to what was heard."""
        item_id = require(event, "item_id", str)
        content_index = require(event, "content_index", int)
        audio_end_ms = require(event, "audio_end_ms", int)
        self._conversation.get(item_id)
        current = self._replies.current
        if current is not None and not current.done and current.item_id == item_id:
            await current.cancel("client_cancelled")
        self._conversation.truncate(item_id, content_index, audio_end_ms)
        await self._outbox.emit(
            "conversation.item.truncated",
            item_id=item_id,
            content_index=content_index,
            audio_end_ms=audio_end_ms,
        )
