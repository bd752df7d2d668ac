"""One client connection: OpenAI Realtime GA client events in, server events out.

``Connection.start()`` sends ``session.created``; ``handle()`` then takes client events one at
a time: session.update, input_audio_buffer.append/commit/clear, conversation.item.create/delete/
retrieve/truncate, response.create/cancel. Every refused event becomes an OpenAI-shaped ``error``
event naming it (its ``event_id`` and type); the session keeps running.

Heavy work never runs on the event loop: transcription, image analysis, the language model and
speech synthesis run in the shared executor, so ``response.cancel`` is handled at once.

``Connection`` is the session's composition root and dispatcher; the work is done by the parts
it owns, each in its own module:

- ``outbox.Outbox``: serialises and sends server events, drops them once the client has gone;
- ``input_audio.InputAudio``: ``input_audio_buffer.*``, VAD/semantic_vad turn events;
- ``turn_commit.TurnCommit``: a committed turn → user item, transcript, VAD reply;
- ``transcript_feed.TranscriptFeed``: ``…input_audio_transcription.*`` events;
- ``reply_prefetch.ReplyPrefetch``: the reply prepared speculatively during a pause;
- ``replies.Replies``: ``response.create``/``cancel`` and the current response;
- ``item_events.ItemEvents``: ``conversation.item.*``; ``scenes.Scenes``: image analysis.

Call order: ``start()`` once, then ``handle()`` per client message (awaited one at a time),
then ``close()`` once when the socket has closed.

Thread: the server's event-loop thread.
"""

from __future__ import annotations

import concurrent.futures
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from realtime.local import protocol
from realtime.local.brain import Brain
from realtime.local.conversation import Conversation, ConversationError
from realtime.local.input_audio import InputAudio
from realtime.local.item_events import ItemEvents
from realtime.local.live_transcript import LiveTranscript
from realtime.local.models import Models, trim_memory
from realtime.local.outbox import Outbox, SendText
from realtime.local.pipeline import Response
from realtime.local.protocol import ClientEventError
from realtime.local.replies import Replies
from realtime.local.reply_prefetch import ReplyPrefetch
from realtime.local.scenes import Scenes
from realtime.local.session_config import SessionState
from realtime.local.stt import Speculator
from realtime.local.stt_context import whisper_prompt
from realtime.local.transcript_feed import TranscriptFeed
from realtime.local.tts import OUTPUT_RATE_HZ, Speaker
from realtime.local.turn_commit import TurnCommit
from realtime.local.turn_judge import TurnJudge
from realtime.local.turns import InputBuffer
from realtime.openai_vocab import ClientEvent, pcm_format

Handler = Callable[[dict[str, Any]], Awaitable[None]]


class Connection:
    """State of one Realtime session (see module docstring)."""

    def __init__(
        self,
        *,
        send_text: SendText,
        models: Models,
        brain: Brain,
        executor: concurrent.futures.Executor,
        model_name: str,
        speculate_replies: bool = True,
    ) -> None:
        self._executor = executor
        self._ids = protocol.Ids()
        self.outbox = Outbox(send_text, self._ids)
        speaker = Speaker(models)
        self.conversation = Conversation()
        self.session_id = self._ids.make("sess")
        self.config = SessionState(model=model_name or "voicecam-local")
        self.input = InputBuffer(
            lambda: self._ids.make("item"),
            self.config.vad_params(),
            models.turn_judge(),
            ask_caller=models.turn is not None,
        )
        #: semantic_vad checkpoints: judged on a worker (turn model + transcript).
        self.turn_judge = TurnJudge(models, executor)
        self.speculator = Speculator(models, executor)
        self.transcripts = TranscriptFeed(self.outbox, self.config, self.conversation)
        self.live = LiveTranscript(
            models,
            self.transcripts.delta,
            enabled=lambda: self.config.transcription is not None,
            prompt=lambda: whisper_prompt(self.conversation.items),
        )
        self.scenes = Scenes(models, executor)
        self.replies = Replies(
            outbox=self.outbox,
            config=self.config,
            conversation=self.conversation,
            brain=brain,
            speaker=speaker,
            executor=executor,
            scenes=self.scenes,
        )
        self.prefetch = ReplyPrefetch(
            enabled=speculate_replies,
            input_buffer=self.input,
            speculator=self.speculator,
            conversation=self.conversation,
            replies=self.replies,
            scenes=self.scenes,
            brain=brain,
            speaker=speaker,
            executor=executor,
        )
        self.turns = TurnCommit(
            outbox=self.outbox,
            models=models,
            executor=executor,
            conversation=self.conversation,
            input_buffer=self.input,
            speculator=self.speculator,
            live=self.live,
            transcripts=self.transcripts,
            prefetch=self.prefetch,
            replies=self.replies,
        )
        self.audio_in = InputAudio(
            outbox=self.outbox,
            conversation=self.conversation,
            input_buffer=self.input,
            turn_judge=self.turn_judge,
            speculator=self.speculator,
            live=self.live,
            prefetch=self.prefetch,
            replies=self.replies,
            turns=self.turns,
        )
        self.items = ItemEvents(
            outbox=self.outbox,
            conversation=self.conversation,
            scenes=self.scenes,
            replies=self.replies,
        )
        #: Every client event type of the GA protocol and the part that handles it.
        self._handlers: dict[str, Handler] = {
            ClientEvent.SESSION_UPDATE: self._on_session_update,
            ClientEvent.INPUT_AUDIO_BUFFER_APPEND: self.audio_in.on_append,
            ClientEvent.INPUT_AUDIO_BUFFER_COMMIT: self.audio_in.on_commit,
            ClientEvent.INPUT_AUDIO_BUFFER_CLEAR: self.audio_in.on_clear,
            ClientEvent.OUTPUT_AUDIO_BUFFER_CLEAR: self.audio_in.on_output_clear,
            ClientEvent.CONVERSATION_ITEM_CREATE: self.items.on_create,
            ClientEvent.CONVERSATION_ITEM_DELETE: self.items.on_delete,
            ClientEvent.CONVERSATION_ITEM_RETRIEVE: self.items.on_retrieve,
            ClientEvent.CONVERSATION_ITEM_TRUNCATE: self.items.on_truncate,
            ClientEvent.RESPONSE_CREATE: self.replies.on_create,
            ClientEvent.RESPONSE_CANCEL: self.replies.on_cancel,
        }

    @property
    def closed(self) -> bool:
        """The client has gone (or ``close`` ran): no more events are sent."""
        return self.outbox.closed

    @property
    def response(self) -> Response | None:
        """The session's latest response (finished, running or cancelled), if any."""
        return self.replies.current

    # ------------------------------------------------------------------ session lifecycle

    async def send(self, event: dict[str, Any]) -> None:
        """Send one server event; after the client has gone, events are dropped silently."""
        await self.outbox.send(event)

    async def error(self, exc: ClientEventError) -> None:
        """Send OpenAI's ``error`` event for ``exc``."""
        await self.outbox.error(exc)

    def _session_object(self) -> dict[str, Any]:
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": self.session_id,
            "model": self.config.model,
            "output_modalities": list(self.config.modalities),
            "instructions": self.config.instructions,
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": self.config.max_output_tokens,
            "tracing": None,
            "truncation": "auto",
            "prompt": None,
            "include": None,
            "audio": {
                "input": {
                    "format": pcm_format(),
                    "transcription": self.config.transcription,
                    "noise_reduction": None,
                    "turn_detection": self.config.turn_detection,
                },
                "output": {
                    "format": {"type": "audio/pcm", "rate": OUTPUT_RATE_HZ},
                    "voice": self.config.voice,
                    "speed": 1.0,
                },
            },
        }

    async def start(self) -> None:
        """Send ``session.created`` (the first server event)."""
        await self.outbox.emit("session.created", session=self._session_object())

    async def close(self) -> None:
        """The socket closed: stop the response and background work."""
        self.outbox.closed = True
        self.replies.close()
        self.speculator.discard()
        self.live.clear()
        self.prefetch.drop()
        self.audio_in.close()
        self.turns.cancel_background()
        self.conversation.items.clear()
        # Hand the session's freed heap back to the OS (keeps a long-running server flat).
        self._executor.submit(trim_memory)

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        self.config.apply(event)
        self.prefetch.drop()  # made with the old instructions/limits
        self.input.configure(self.config.vad_params())
        await self.outbox.emit("session.updated", session=self._session_object())

    # ------------------------------------------------------------------ dispatch

    async def handle(self, raw: str | bytes) -> None:
        """Handle one client message. Never raises for bad input; a bug in a handler becomes a
        ``server_error`` event and a one-line report on stderr, and the session goes on."""
        event: dict[str, Any] = {}
        try:
            event = protocol.parse_client_event(raw)
            await self._handlers[event["type"]](event)
        except ClientEventError as exc:
            await self.error(exc)
        except ConversationError as exc:
            await self.error(
                ClientEventError(
                    str(exc),
                    exc.code,
                    param=exc.param,
                    event_id=event.get("event_id"),
                    event_type=event.get("type"),
                )
            )
        except Exception as exc:
            etype = event.get("type") if isinstance(event.get("type"), str) else "message"
            print(
                f"voicecam-server: handler failed on {etype}: {type(exc).__name__}: {exc}",
                file=sys.stderr,
                flush=True,
            )
            await self.error(
                ClientEventError(
                    f"The server failed to handle this event ({type(exc).__name__}).",
                    "server_error",
                    event_id=event.get("event_id"),
                    event_type=etype,
                    error_type="server_error",
                )
            )

    @staticmethod
    def oversized_error(raw: str | bytes, limit: int) -> ClientEventError:
        """The error for a message over the size cap, naming its type/event_id if visible."""
        head = raw[:4096] if isinstance(raw, str) else raw[:4096].decode("utf-8", "replace")
        etype = re.search(r'"type"\s*:\s*"([^"]{1,80})"', head)
        eid = re.search(r'"event_id"\s*:\s*"([^"]{1,120})"', head)
        return ClientEventError(
            f"The message is {len(raw)} bytes; the limit is {limit} bytes.",
            "message_too_large",
            event_id=eid.group(1) if eid else None,
            event_type=etype.group(1) if etype else None,
        )
