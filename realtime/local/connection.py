"""One client connection: OpenAI Realtime GA client events in, server events out.

``Connection.run()`` sends ``session.created`` and then handles client events one at a time:
session.update, input_audio_buffer.append/commit/clear, conversation.item.create/delete/
retrieve/truncate, response.create/cancel. Every refused event becomes an OpenAI-shaped ``error``
event naming it (its ``event_id`` and type); the session keeps running.

Heavy work never runs on the event loop: transcription, image analysis, the language model and
speech synthesis run in the shared executor, so ``response.cancel`` is handled at once.

Thread: the server's event-loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import re
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from realtime.local import protocol
from realtime.local.brain import Brain
from realtime.local.conversation import Conversation, ConversationError, Item, Part
from realtime.local.items import parse_item
from realtime.local.live_transcript import Handoff, LiveTranscript, agreeing, rest_of
from realtime.local.models import Models, trim_memory
from realtime.local.pipeline import Response, ResponseOptions
from realtime.local.protocol import ClientEventError, require
from realtime.local.session_config import SessionState
from realtime.local.speculation import Prefetch, build_request
from realtime.local.stt import Speculator, transcribe
from realtime.local.stt_context import whisper_prompt
from realtime.local.tts import OUTPUT_RATE_HZ, Speaker
from realtime.local.turn_judge import JUDGE_OPTIONS, TurnJudge
from realtime.local.turns import (
    CommitTooShort,
    InputBuffer,
    JudgeTurn,
    SilenceBegan,
    SpeechBegan,
    SpeechEnded,
    SpeechResumed,
    TurnCommitted,
    TurnEvent,
)
from realtime.local.vision import SceneFacts, TextLine, analyse, decode_image
from realtime.openai_vocab import pcm_format

SendText = Callable[[str], Awaitable[None]]


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
        self._send_text = send_text
        self._models = models
        self._brain = brain
        self._executor = executor
        self._ids = protocol.Ids()
        self._speaker = Speaker(models)
        self.conversation = Conversation()
        self.closed = False
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
        self._judging: asyncio.Task[None] | None = None
        self._turn_lock = asyncio.Lock()
        self._speculator = Speculator(models, executor)
        self._live = LiveTranscript(
            models,
            self._send_transcript_delta,
            enabled=lambda: self.config.transcription is not None,
            prompt=lambda: whisper_prompt(self.conversation.items),
        )
        self.response: Response | None = None
        self._analysing: asyncio.Future[SceneFacts] | None = None
        self._background: set[asyncio.Future[Any]] = set()
        #: A reply being prepared from the speculative transcript (see ``_prefetch_reply``).
        self._prefetch: Prefetch | None = None
        self._prefetch_task: asyncio.Task[None] | None = None
        self._speculate_replies = speculate_replies

    # ------------------------------------------------------------------ sending

    async def send(self, event: dict[str, Any]) -> None:
        """Send one server event; after the client has gone, events are dropped silently."""
        if self.closed:
            return
        try:
            await self._send_text(json.dumps(event, separators=(",", ":")))
        except ConnectionClosed:
            self.closed = True

    async def error(self, exc: ClientEventError) -> None:
        await self.send(protocol.error_event(self._ids, exc))

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
        await self.send(
            protocol.event(self._ids, "session.created", session=self._session_object())
        )

    async def close(self) -> None:
        """The socket closed: stop the response and background work."""
        self.closed = True
        if self.response is not None:
            self.response._cancel.set()
            if self.response.task is not None:
                self.response.task.cancel()
        self._speculator.discard()
        self._live.clear()
        self._drop_prefetch()
        if self._judging is not None:
            self._judging.cancel()
        for fut in list(self._background):
            fut.cancel()
        self.conversation.items.clear()
        # Hand the session's freed heap back to the OS (keeps a long-running server flat).
        self._executor.submit(trim_memory)

    # ------------------------------------------------------------------ dispatch

    async def handle(self, raw: str | bytes) -> None:
        """Handle one client message. Never raises for bad input; a bug in a handler becomes a
        ``server_error`` event and a one-line report on stderr, and the session goes on."""
        event: dict[str, Any] = {}
        try:
            event = protocol.parse_client_event(raw)
            handler = getattr(self, "_on_" + event["type"].replace(".", "_"))
            await handler(event)
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

    # ------------------------------------------------------------------ session.update

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        self.config.apply(event)
        self._drop_prefetch()  # made with the old instructions/limits
        self.input.configure(self.config.vad_params())
        await self.send(
            protocol.event(self._ids, "session.updated", session=self._session_object())
        )

    # ------------------------------------------------------------------ input audio

    async def _on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        pcm = protocol.decode_audio(event)
        async with self._turn_lock:
            for ev in self.input.append(pcm):
                await self._turn_event(ev)
            self._live.feed(self.input.stream_samples, self.input.speech_so_far)

    async def _judge_turn(self, ask: JudgeTurn) -> None:
        """A semantic_vad checkpoint (audio is held meanwhile): judge it, then let the buffer go
        on. When the turn model says complete but the words hold the turn open, the reply is
        prepared speculatively (adopted if the turn then ends without more speech)."""
        acoustic, text = 0.0, None  # on failure: wait for the cap
        eot = self.input.end_of_turn
        try:
            threshold = eot.policy.acoustic_threshold if eot is not None else 0.5
            verdict = await self.turn_judge.judge(
                ask,
                self._speculator.pending,
                self.conversation.history(),
                threshold,
                whisper_prompt(self.conversation.items),
            )
            acoustic, text = verdict.acoustic, verdict.text
        except Exception as exc:
            print(f"voicecam-server: turn judgement failed: {exc!r}", file=sys.stderr, flush=True)
        async with self._turn_lock:
            events = self.input.judged(ask.ask_id, acoustic, text)
            eot = self.input.end_of_turn
            if (
                not events
                and eot is not None
                and acoustic >= eot.policy.acoustic_threshold
                and self._prefetch is None
                and self._prefetch_task is None
            ):
                self._start_prefetch()
            for ev in events:
                await self._turn_event(ev)

    async def _turn_event(self, ev: TurnEvent) -> None:
        if isinstance(ev, SpeechBegan):
            self._live.begin(ev.item_id)
            self._drop_prefetch()
            params = self.input.params
            if (
                params is not None
                and params.interrupt_response
                and self.response is not None
                and not self.response.done
            ):
                await self.response.cancel("turn_detected")
            await self.send(
                protocol.event(
                    self._ids,
                    "input_audio_buffer.speech_started",
                    audio_start_ms=ev.audio_start_ms,
                    item_id=ev.item_id,
                )
            )
        elif isinstance(ev, SilenceBegan):
            self._live.pause()
            prompt = whisper_prompt(self.conversation.items)
            if self.input.end_of_turn is not None:  # judged: a function of the audio only
                self._speculator.start(
                    ev.start_sample,
                    ev.end_sample,
                    ev.pcm16_16k,
                    prompt=prompt,
                    options=JUDGE_OPTIONS,
                )
            else:
                self._speculator.start(
                    ev.start_sample,
                    ev.end_sample,
                    ev.pcm16_16k,
                    prompt=prompt,
                    prefix=self._live.stable_text or None,
                    reuse=self._live.running_decode(ev.start_sample, ev.voice_end_sample),
                )
            self._live.watch(self._speculator.pending)
            if self.input.end_of_turn is None:  # semantic_vad prepares after its judgement
                self._start_prefetch()
        elif isinstance(ev, JudgeTurn):
            self._judging = asyncio.ensure_future(self._judge_turn(ev))
        elif isinstance(ev, SpeechResumed):
            self._live.resume()
            self._speculator.discard()
            self._drop_prefetch()
        elif isinstance(ev, SpeechEnded):
            await self.send(
                protocol.event(
                    self._ids,
                    "input_audio_buffer.speech_stopped",
                    audio_end_ms=ev.audio_end_ms,
                    item_id=ev.item_id,
                )
            )
        elif isinstance(ev, TurnCommitted):
            await self._commit(ev, from_vad=True)

    async def _commit(self, turn: TurnCommitted, *, from_vad: bool) -> None:
        previous = self.conversation.items[-1].id if self.conversation.items else None
        fut = self._speculator.take(turn.start_sample, turn.last_voiced_sample)
        prefetch = self._take_prefetch()
        handoff = self._live.end(turn.item_id)
        prompt = whisper_prompt(self.conversation.items)

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
        self.conversation.add(item)
        await self.send(
            protocol.event(
                self._ids,
                "input_audio_buffer.committed",
                previous_item_id=previous,
                item_id=item.id,
            )
        )
        wire = item.to_wire()
        await self.send(
            protocol.event(
                self._ids, "conversation.item.added", previous_item_id=previous, item=wire
            )
        )
        task = asyncio.ensure_future(self._finish_transcript(item, part, transcript, handoff))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        params = self.input.params
        if from_vad and params is not None and params.create_response:
            if self.response is not None and self.response.active:
                if not params.interrupt_response:
                    if prefetch is not None:
                        prefetch.cancel()
                    return
                await self.response.cancel("turn_detected")
            if self.response is not None:
                await self.response.finish()
            await self._start_response(self._default_options(), prefetch)
        elif prefetch is not None:
            prefetch.cancel()

    # ------------------------------------------------------------------ speculative replies

    def _start_prefetch(self) -> None:
        """Silence began inside an utterance (server VAD with create_response): once the
        speculative transcript is ready, prepare the reply to it without sending anything."""
        self._drop_prefetch()
        params = self.input.params
        spec = self._speculator.pending
        if (
            not self._speculate_replies
            or params is None
            or not params.create_response
            or spec is None
        ):
            return
        self._prefetch_task = asyncio.ensure_future(self._prefetch_reply(spec))

    async def _prefetch_reply(self, spec: concurrent.futures.Future[str]) -> None:
        """Thread: event loop; cancelled by ``_drop_prefetch``."""
        try:
            text = await asyncio.shield(asyncio.wrap_future(spec))
        except Exception:
            return
        if not text or self._speculator.pending is not spec:
            return
        if self.response is not None and not self.response.done:
            return  # the turn would interrupt (or wait for) it: not worth guessing
        options = self._default_options()
        if self.response is not None:
            await self.response.finish()
        # The conversation as it will be once the turn is committed (transcripts all final).
        for item in list(self.conversation.items):
            if item.transcript_task is not None and not item.transcript_task.done():
                with contextlib.suppress(Exception):
                    await asyncio.shield(item.transcript_task)
        scene: SceneFacts | None = None
        jpeg: bytes | None = None
        img = self.conversation.latest_image()
        if img is not None:
            try:
                scene = await asyncio.shield(self.scene_for(img))
                jpeg = img.image_jpeg
            except Exception:
                scene = None
        if self._speculator.pending is not spec:
            return
        user = Item(
            id="speculative",
            role="user",
            parts=[Part(type="input_audio", transcript=text)],
        )
        items = [*self.conversation.items, user]
        request = build_request(
            items,
            self.conversation.history(extra=user),
            scene=scene,
            image_jpeg=jpeg,
            instructions=options.instructions,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
        )
        self._prefetch = Prefetch(
            executor=self._executor,
            brain=self._brain,
            speaker=self._speaker,
            request=request,
            audio="audio" in options.modalities,
        )

    def _take_prefetch(self) -> Prefetch | None:
        """The prepared reply, if its preparation got as far as starting the workers."""
        prefetch, self._prefetch = self._prefetch, None
        if self._prefetch_task is not None:
            self._prefetch_task.cancel()
            self._prefetch_task = None
        return prefetch

    def _drop_prefetch(self) -> None:
        """Speech resumed, the buffer changed or the session did: stop preparing (silently)."""
        prefetch = self._take_prefetch()
        if prefetch is not None:
            prefetch.cancel()

    async def _send_transcript_delta(self, item_id: str, delta: str) -> None:
        await self.send(
            protocol.event(
                self._ids,
                "conversation.item.input_audio_transcription.delta",
                item_id=item_id,
                content_index=0,
                delta=delta,
            )
        )

    async def _finish_transcript(
        self, item: Item, part: Part, fut: asyncio.Future[str], handoff: Handoff
    ) -> None:
        if handoff.sending is not None:
            with contextlib.suppress(Exception):
                await handoff.sending  # the streamed deltas go out first
        try:
            text = await fut
        except Exception as exc:
            part.transcript = ""
            if self.config.transcription is not None:
                await self.send(
                    protocol.event(
                        self._ids,
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
                )
            return
        part.transcript = text
        if self.config.transcription is not None:
            rest = rest_of(handoff, text)
            if rest:
                await self._send_transcript_delta(item.id, rest)
            await self.send(
                protocol.event(
                    self._ids,
                    "conversation.item.input_audio_transcription.completed",
                    item_id=item.id,
                    content_index=0,
                    transcript=text,
                    usage={"type": "duration", "seconds": round(part.audio_ms / 1000, 3)},
                )
            )
        if item in self.conversation.items:
            await self.send(
                protocol.event(self._ids, "conversation.item.done", item=item.to_wire())
            )

    async def _on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        try:
            turn = self.input.commit()
        except CommitTooShort as exc:
            raise ClientEventError(
                str(exc),
                "input_audio_buffer_commit_empty",
                event_id=event.get("event_id"),
                event_type="input_audio_buffer.commit",
            ) from None
        self._speculator.discard()
        self._drop_prefetch()
        await self._commit(turn, from_vad=False)

    async def _on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self.input.clear()
        self._live.clear()
        self._speculator.discard()
        self._drop_prefetch()
        await self.send(protocol.event(self._ids, "input_audio_buffer.cleared"))

    async def _on_output_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        raise ClientEventError(
            "output_audio_buffer.clear is only available over WebRTC/SIP; over WebSocket "
            "send response.cancel and conversation.item.truncate.",
            "invalid_value",
            event_id=event.get("event_id"),
            event_type="output_audio_buffer.clear",
        )

    # ------------------------------------------------------------------ conversation items

    async def _on_conversation_item_create(self, event: dict[str, Any]) -> None:
        item = parse_item(event, lambda: self._ids.make("item"))
        image = item.image_jpeg
        prev_arg = event.get("previous_item_id")
        previous = self.conversation.add(item, prev_arg if isinstance(prev_arg, str) else None)
        if image is not None and (self._analysing is None or self._analysing.done()):
            # Analyse eagerly so the answer does not wait, but one frame at a time: frames
            # arriving while one is analysed are analysed only if a response needs them.
            self.scene_for(item)
        wire = item.to_wire()
        await self.send(
            protocol.event(
                self._ids, "conversation.item.added", previous_item_id=previous, item=wire
            )
        )
        await self.send(
            protocol.event(
                self._ids, "conversation.item.done", previous_item_id=previous, item=wire
            )
        )

    def scene_for(self, item: Item) -> asyncio.Future[SceneFacts]:
        """The (started) analysis of ``item``'s image. Thread: event loop."""
        if item.scene_task is None:
            assert item.image_jpeg is not None
            item.scene_task = asyncio.wrap_future(
                self._executor.submit(self._analyse, item.image_jpeg)
            )
            item.scene_task.add_done_callback(
                lambda f: f.exception() if not f.cancelled() else None
            )
            self._analysing = item.scene_task
        return item.scene_task

    def _analyse(self, jpeg: bytes) -> SceneFacts:
        """Worker: decode and analyse a frame (OCR under the shared lock)."""
        image = decode_image(jpeg)

        def ocr(img: Any) -> list[TextLine]:
            with self._models.ocr_lock:
                return self._models.ocr(img)

        facts = analyse(image, ocr)
        trim_memory()
        return facts

    async def _on_conversation_item_delete(self, event: dict[str, Any]) -> None:
        item_id = require(event, "item_id", str)
        self.conversation.delete(item_id)
        await self.send(protocol.event(self._ids, "conversation.item.deleted", item_id=item_id))

    async def _on_conversation_item_retrieve(self, event: dict[str, Any]) -> None:
        item_id = require(event, "item_id", str)
        item = self.conversation.get(item_id)
        await self.send(
            protocol.event(self._ids, "conversation.item.retrieved", item=item.to_wire())
        )

    async def _on_conversation_item_truncate(self, event: dict[str, Any]) -> None:
        item_id = require(event, "item_id", str)
        content_index = require(event, "content_index", int)
        audio_end_ms = require(event, "audio_end_ms", int)
        self.conversation.get(item_id)
        if (
            self.response is not None
            and not self.response.done
            and self.response.item_id == item_id
        ):
            await self.response.cancel("client_cancelled")
        self.conversation.truncate(item_id, content_index, audio_end_ms)
        await self.send(
            protocol.event(
                self._ids,
                "conversation.item.truncated",
                item_id=item_id,
                content_index=content_index,
                audio_end_ms=audio_end_ms,
            )
        )

    # ------------------------------------------------------------------ responses

    def _default_options(self) -> ResponseOptions:
        mot = self.config.max_output_tokens
        return ResponseOptions(
            modalities=self.config.modalities,
            instructions=self.config.instructions,
            max_tokens=96 if mot == "inf" else min(int(mot), 256),
            temperature=self.config.temperature,
            voice=self.config.voice,
        )

    async def _start_response(
        self, options: ResponseOptions, prefetch: Prefetch | None = None
    ) -> Response:
        resp = Response(
            ids=self._ids,
            send=self.send,
            conversation=self.conversation,
            brain=self._brain,
            speaker=self._speaker,
            executor=self._executor,
            options=options,
            prefetch=prefetch,
            scene_for=self.scene_for,
            previous_item_id=lambda: (
                self.conversation.items[-1].id if self.conversation.items else None
            ),
        )
        self.response = resp
        resp.start()
        # Let the task take its first step (it sends response.created inside its own
        # try/except): a task cancelled before it ever ran would skip its closing
        # response.done, and a client's response.cancel right after response.create would lose
        # the response altogether.
        await asyncio.sleep(0)
        return resp

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        if self.response is not None and not self.response.active:
            await self.response.finish()  # closing or cancelled: its response.done comes first
        if self.response is not None and self.response.active:
            raise ClientEventError(
                f"Conversation already has an active response in progress: {self.response.id}. "
                "Wait until the response is finished before creating a new one.",
                "conversation_already_has_active_response",
                event_id=event.get("event_id"),
                event_type="response.create",
            )
        options = self._default_options()
        r = event.get("response")
        if r is not None and not isinstance(r, dict):
            raise ClientEventError(
                "'response' must be an object.",
                "invalid_type",
                param="response",
                event_id=event.get("event_id"),
                event_type="response.create",
            )
        if r:
            mods = r.get("output_modalities")
            if mods is not None:
                if not isinstance(mods, list) or len(mods) != 1 or mods[0] not in ("audio", "text"):
                    raise ClientEventError(
                        '\'output_modalities\' must be ["audio"] or ["text"].',
                        "invalid_value",
                        param="response.output_modalities",
                        event_id=event.get("event_id"),
                        event_type="response.create",
                    )
                options.modalities = (mods[0],)
            if isinstance(r.get("instructions"), str):
                options.instructions = r["instructions"]
            if r.get("conversation") == "none":
                options.in_conversation = False
            meta = r.get("metadata")
            if meta is not None:
                if (
                    not isinstance(meta, dict)
                    or len(meta) > 16
                    or not all(
                        isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 512
                        for k, v in meta.items()
                    )
                ):
                    raise ClientEventError(
                        "'metadata' must map at most 16 string keys to string values.",
                        "invalid_type",
                        param="response.metadata",
                        event_id=event.get("event_id"),
                        event_type="response.create",
                    )
                options.metadata = meta
            mot = r.get("max_output_tokens")
            if isinstance(mot, int) and not isinstance(mot, bool):
                options.max_tokens = max(1, min(mot, 256))
        await self._start_response(options)

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if (
            self.response is None
            or not self.response.active
            or (isinstance(wanted, str) and wanted != self.response.id)
        ):
            raise ClientEventError(
                "Cancellation failed: no active response found.",
                "response_cancel_not_active",
                event_id=event.get("event_id"),
                event_type="response.cancel",
            )
        await self.response.cancel("client_cancelled")
