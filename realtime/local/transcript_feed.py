"""Input-transcription events of one offline-server session.

``delta`` is what ``LiveTranscript`` streams while the person speaks (words decoded so far);
``finish`` runs as a background task per committed turn: it waits for the streamed deltas to go
out, then for the turn's final transcript, sends what the deltas had not yet said, then
``…transcription.completed`` (or ``…failed``) and ``conversation.item.done``. Transcription
events are sent only when the session asked for input transcription; the item's transcript is
filled in either way (the language model reads it).

Thread: the server's event-loop thread. Usage ``seconds`` is the turn's audio duration.
"""

from __future__ import annotations

import asyncio
import contextlib

from realtime.local.conversation import Conversation, Item, Part
from realtime.local.live_transcript import Handoff, rest_of
from realtime.local.outbox import Outbox
from realtime.local.session_config import SessionState


class TranscriptFeed:
    """Sends ``conversation.item.input_audio_transcription.*`` for the session's user turns."""

    def __init__(self, outbox: Outbox, config: SessionState, conversation: Conversation) -> None:
        self._outbox = outbox
        self._config = config
        self._conversation = conversation

    async def delta(self, item_id: str, delta: str) -> None:
        """Send one transcription delta of item ``item_id`` (content index 0)."""
        await self._outbox.emit(
            "conversation.item.input_audio_transcription.delta",
            item_id=item_id,
            content_index=0,
            delta=delta,
        )

    async def finish(
        self, item: Item, part: Part, fut: asyncio.Future[str], handoff: Handoff
    ) -> None:
        """Complete ``item``'s transcript from ``fut`` once ``handoff``'s deltas have gone out."""
        if handoff.sending is not None:
            with contextlib.suppress(Exception):
                await handoff.sending  # the streamed deltas go out first
        try:
            text = await fut
        except Exception as exc:
            part.transcript = ""
            if self._config.transcription is not None:
                await self._outbox.emit(
                    "conversation.item.input_audio_transcription.failed",
                    item_id=item.id,
                    content_index=0,
                    error={
                        "type": "server_error",
                        "code": "transcription_failed",
                        "message": str(exc),
                        "param": None,
                    },
                )
            return
        part.transcript = text
        if self._config.transcription is not None:
            rest = rest_of(handoff, text)
            if rest:
                await self.delta(item.id, rest)
            await self._outbox.emit(
                "conversation.item.input_audio_transcription.completed",
                item_id=item.id,
                content_index=0,
                transcript=text,
                usage={"type": "duration", "seconds": round(part.audio_ms / 1000, 3)},
            )
        if item in self._conversation.items:
            await self._outbox.emit("conversation.item.done", item=item.to_wire())
