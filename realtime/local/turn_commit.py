"""A committed user turn of one offline-server session: audio → conversation item → reply.

``commit`` is called once per turn, by server VAD (``TurnCommitted`` from the input buffer) or
by the client's ``input_audio_buffer.commit``. It takes the turn's speculative transcript when
one was decoded from exactly this audio (else decodes it on a worker), adds the user item, sends
``input_audio_buffer.committed`` and ``conversation.item.added``, finishes the transcript in a
background task (``TranscriptFeed.finish``) and, for a VAD turn with ``create_response``,
starts the reply (adopting the speculatively prepared one when it was made from this turn).

Thread: the server's event-loop thread (under the input's turn lock for VAD turns).
Units: samples at 16 kHz (``start_sample``, ``last_voiced_sample``), ``duration_ms`` in ms.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from realtime.local.conversation import Conversation, Item, Part
from realtime.local.live_transcript import LiveTranscript, agreeing
from realtime.local.models import Models
from realtime.local.outbox import Outbox
from realtime.local.replies import Replies
from realtime.local.reply_prefetch import ReplyPrefetch
from realtime.local.stage_log import mark
from realtime.local.stt import Speculator, transcribe
from realtime.local.stt_context import whisper_prompt
from realtime.local.transcript_feed import TranscriptFeed
from realtime.local.turns import InputBuffer, TurnCommitted


class TurnCommit:
    """Commits turns; ``background`` holds their transcript tasks until they end."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        models: Models,
        executor: concurrent.futures.Executor,
        conversation: Conversation,
        input_buffer: InputBuffer,
        speculator: Speculator,
        live: LiveTranscript,
        transcripts: TranscriptFeed,
        prefetch: ReplyPrefetch,
        replies: Replies,
    ) -> None:
        self._outbox = outbox
        self._models = models
        self._executor = executor
        self._conversation = conversation
        self._input = input_buffer
        self._speculator = speculator
        self._live = live
        self._transcripts = transcripts
        self._prefetch = prefetch
        self._replies = replies
        self.background: set[asyncio.Future[Any]] = set()

    def cancel_background(self) -> None:
        """The session closed: stop finishing transcripts."""
        for fut in list(self.background):
            fut.cancel()

    async def commit(self, turn: TurnCommitted, *, from_vad: bool) -> None:
        """Add ``turn`` to the conversation and, for a VAD turn, reply as configured."""
        mark("commit")
        conversation = self._conversation
        previous = conversation.items[-1].id if conversation.items else None
        fut = self._speculator.take(turn.start_sample, turn.last_voiced_sample)
        prefetch = self._prefetch.take()
        handoff = self._live.end(turn.item_id)
        prompt = whisper_prompt(conversation.items)

        def decode() -> asyncio.Future[str]:
            return asyncio.wrap_future(
                self._executor.submit(
                    transcribe,
                    self._models,
                    turn.pcm16_16k,
                    prompt=prompt,
                    prefix=handoff.sent or None,
                )
            )

        if fut is None:
            if prefetch is not None:
                prefetch.cancel()  # made from audio that is not this turn's
                prefetch = None
            transcript = decode()
        else:  # a semantic_vad speculation has no prefix: redecode if it contradicts the deltas
            transcript = asyncio.ensure_future(
                agreeing(asyncio.wrap_future(fut), handoff.sent, decode)
            )
        part = Part(type="input_audio", transcript=None, audio_ms=turn.duration_ms)
        item = Item(id=turn.item_id, role="user", parts=[part], transcript_task=transcript)
        conversation.add(item)
        await self._outbox.emit(
            "input_audio_buffer.committed", previous_item_id=previous, item_id=item.id
        )
        await self._outbox.emit(
            "conversation.item.added", previous_item_id=previous, item=item.to_wire()
        )
        task = asyncio.ensure_future(self._transcripts.finish(item, part, transcript, handoff))
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        params = self._input.params
        if from_vad and params is not None and params.create_response:
            if self._replies.active:
                if not params.interrupt_response:
                    if prefetch is not None:
                        prefetch.cancel()
                    return
                await self._replies.cancel_running("turn_detected")
            await self._replies.settle()
            await self._replies.start(self._replies.default_options(), prefetch)
        elif prefetch is not None:
            prefetch.cancel()
