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
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from realtime.local import protocol
from realtime.local.brain import Brain
from realtime.local.conversation import Conversation, ConversationError, Item, Part
from realtime.local.models import Models, trim_memory
from realtime.local.pipeline import Response, ResponseOptions
from realtime.local.protocol import ClientEventError, require
from realtime.local.stt import Speculator, transcribe
from realtime.local.tts import OUTPUT_RATE_HZ, Speaker
from realtime.local.turns import (
    CommitTooShort,
    InputBuffer,
    ServerVadParams,
    SilenceBegan,
    SpeechBegan,
    SpeechEnded,
    SpeechResumed,
    TurnCommitted,
    TurnEvent,
)
from realtime.local.vision import ImageDecodeError, SceneFacts, analyse, decode_image

SendText = Callable[[str], Awaitable[None]]

_SEMANTIC_SILENCE_MS = {"low": 1000, "medium": 700, "auto": 700, "high": 400}
_MAX_INSTRUCTIONS = 20000


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
    ) -> None:
        self._send_text = send_text
        self._models = models
        self._brain = brain
        self._executor = executor
        self._ids = protocol.Ids()
        self._speaker = Speaker(models)
        self.conversation = Conversation()
        self.session_id = self._ids.make("sess")
        self.model_name = model_name or "voicecam-local"
        self.instructions = ""
        self.modalities: tuple[str, ...] = ("audio",)
        self.transcription: dict[str, Any] | None = None
        self.turn_detection: dict[str, Any] | None = {
            "type": "server_vad",
            "threshold": 0.5,
            "prefix_padding_ms": 300,
            "silence_duration_ms": 500,
            "create_response": True,
            "interrupt_response": True,
            "idle_timeout_ms": None,
        }
        self.voice = "joe"
        self.max_output_tokens: int | str = "inf"
        self.temperature: float | None = None
        self.input = InputBuffer(lambda: self._ids.make("item"), self._vad_params())
        self._speculator = Speculator(models, executor)
        self.response: Response | None = None
        self._analysing: asyncio.Future[SceneFacts] | None = None
        self._background: set[asyncio.Future[Any]] = set()

    # ------------------------------------------------------------------ sending

    async def send(self, event: dict[str, Any]) -> None:
        await self._send_text(json.dumps(event, separators=(",", ":")))

    async def error(self, exc: ClientEventError) -> None:
        await self.send(protocol.error_event(self._ids, exc))

    def _session_object(self) -> dict[str, Any]:
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": self.session_id,
            "model": self.model_name,
            "output_modalities": list(self.modalities),
            "instructions": self.instructions,
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": self.max_output_tokens,
            "tracing": None,
            "truncation": "auto",
            "prompt": None,
            "include": None,
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": 24000},
                    "transcription": self.transcription,
                    "noise_reduction": None,
                    "turn_detection": self.turn_detection,
                },
                "output": {
                    "format": {"type": "audio/pcm", "rate": OUTPUT_RATE_HZ},
                    "voice": self.voice,
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
        if self.response is not None:
            self.response._cancel.set()
            if self.response.task is not None:
                self.response.task.cancel()
        self._speculator.discard()
        for fut in list(self._background):
            fut.cancel()

    # ------------------------------------------------------------------ dispatch

    async def handle(self, raw: str | bytes) -> None:
        """Handle one client message. Never raises for bad input."""
        try:
            event = protocol.parse_client_event(raw)
            handler = getattr(self, "_on_" + event["type"].replace(".", "_"))
            await handler(event)
        except ClientEventError as exc:
            await self.error(exc)
        except ConversationError as exc:
            ev = event if "event" in locals() else {}
            await self.error(
                ClientEventError(
                    str(exc),
                    exc.code,
                    param=exc.param,
                    event_id=ev.get("event_id"),
                    event_type=ev.get("type"),
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

    def _vad_params(self) -> ServerVadParams | None:
        td = self.turn_detection
        if td is None:
            return None
        silence = td.get("silence_duration_ms")
        if td["type"] == "semantic_vad":
            silence = _SEMANTIC_SILENCE_MS[td.get("eagerness") or "auto"]
        return ServerVadParams(
            threshold=float(td.get("threshold") or 0.5),
            prefix_padding_ms=int(td.get("prefix_padding_ms") or 300),
            silence_duration_ms=int(silence or 500),
            create_response=td.get("create_response") is not False,
            interrupt_response=td.get("interrupt_response") is not False,
            idle_timeout_ms=td.get("idle_timeout_ms"),
        )

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        s = require(event, "session", dict)

        def bad(msg: str, param: str, code: str = "invalid_value") -> ClientEventError:
            return ClientEventError(
                msg, code, param=param, event_id=event.get("event_id"), event_type="session.update"
            )

        if s.get("type") != "realtime":
            raise bad("Missing or invalid 'session.type': expected 'realtime'.", "session.type")
        if "instructions" in s and (
            not isinstance(s["instructions"], str) or len(s["instructions"]) > _MAX_INSTRUCTIONS
        ):
            raise bad("'session.instructions' must be a string.", "session.instructions")
        mods = s.get("output_modalities")
        if mods is not None and (
            not isinstance(mods, list) or len(mods) != 1 or mods[0] not in ("audio", "text")
        ):
            raise bad(
                '\'output_modalities\' must be ["audio"] or ["text"].', "session.output_modalities"
            )
        if s.get("tools"):
            raise bad("Tools are not supported by the local server.", "session.tools")
        audio = s.get("audio") or {}
        ain = audio.get("input") or {}
        aout = audio.get("output") or {}
        fmt = ain.get("format")
        if fmt is not None and (fmt.get("type") != "audio/pcm" or fmt.get("rate", 24000) != 24000):
            raise bad(
                "Only audio/pcm at 24000 Hz is supported for input.", "session.audio.input.format"
            )
        ofmt = aout.get("format")
        if ofmt is not None and (
            ofmt.get("type") != "audio/pcm" or ofmt.get("rate", 24000) != 24000
        ):
            raise bad(
                "Only audio/pcm at 24000 Hz is supported for output.", "session.audio.output.format"
            )
        td_given = "turn_detection" in ain
        td = ain.get("turn_detection")
        if td is not None and (
            not isinstance(td, dict) or td.get("type") not in ("server_vad", "semantic_vad")
        ):
            raise bad(
                "'turn_detection.type' must be 'server_vad' or 'semantic_vad'.",
                "session.audio.input.turn_detection.type",
            )
        if (
            td is not None
            and td.get("threshold") is not None
            and not (isinstance(td["threshold"], int | float) and 0.0 <= td["threshold"] <= 1.0)
        ):
            raise bad(
                "'threshold' must be between 0 and 1.",
                "session.audio.input.turn_detection.threshold",
            )
        mot = s.get("max_output_tokens")
        if mot is not None and mot != "inf" and not (isinstance(mot, int) and 1 <= mot <= 4096):
            raise bad("'max_output_tokens' must be 1-4096 or 'inf'.", "session.max_output_tokens")
        # Validated: apply.
        if "instructions" in s:
            self.instructions = s["instructions"]
        if mods is not None:
            self.modalities = (mods[0],)
        if "transcription" in ain:
            self.transcription = ain["transcription"]
        if td_given:
            if td is None:
                self.turn_detection = None
            else:
                merged = {
                    "type": td["type"],
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 500,
                    "create_response": True,
                    "interrupt_response": True,
                    "idle_timeout_ms": None,
                }
                if td["type"] == "semantic_vad":
                    merged = {
                        "type": "semantic_vad",
                        "eagerness": "auto",
                        "create_response": True,
                        "interrupt_response": True,
                    }
                merged.update({k: v for k, v in td.items() if v is not None})
                self.turn_detection = merged
            self.input.configure(self._vad_params())
        if isinstance(aout.get("voice"), str):
            self.voice = aout["voice"]
        if mot is not None:
            self.max_output_tokens = mot
        if "temperature" in s and isinstance(s["temperature"], int | float):
            self.temperature = float(s["temperature"])
        await self.send(
            protocol.event(self._ids, "session.updated", session=self._session_object())
        )

    # ------------------------------------------------------------------ input audio

    async def _on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        pcm = protocol.decode_audio(event)
        for ev in self.input.append(pcm):
            await self._turn_event(ev)

    async def _turn_event(self, ev: TurnEvent) -> None:
        if isinstance(ev, SpeechBegan):
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
            self._speculator.start(ev.start_sample, ev.end_sample, ev.pcm16_16k)
        elif isinstance(ev, SpeechResumed):
            self._speculator.discard()
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
        if fut is None:
            fut = self._executor.submit(transcribe, self._models, turn.pcm16_16k)
        transcript = asyncio.wrap_future(fut)
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
        task = asyncio.ensure_future(self._finish_transcript(item, part, transcript))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        params = self.input.params
        if from_vad and params is not None and params.create_response:
            if self.response is not None and not self.response.done:
                if not params.interrupt_response:
                    return
                await self.response.cancel("turn_detected")
            await self._start_response(self._default_options())

    async def _finish_transcript(self, item: Item, part: Part, fut: asyncio.Future[str]) -> None:
        try:
            text = await fut
        except Exception as exc:
            part.transcript = ""
            if self.transcription is not None:
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
        if self.transcription is not None:
            await self.send(
                protocol.event(
                    self._ids,
                    "conversation.item.input_audio_transcription.delta",
                    item_id=item.id,
                    content_index=0,
                    delta=text,
                )
            )
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
        await self._commit(turn, from_vad=False)

    async def _on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self.input.clear()
        self._speculator.discard()
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
                parts.append(Part(type="input_image", detail=c.get("detail") or "auto"))
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
                parts.append(Part(type=ctype, text=text))
        item_id = raw_item.get("id") if isinstance(raw_item.get("id"), str) else None
        item = Item(id=item_id or self._ids.make("item"), role=role, parts=parts)
        if image is not None:
            item.image_jpeg = image
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

        def ocr(img: Any) -> list[str]:
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
        mot = self.max_output_tokens
        return ResponseOptions(
            modalities=self.modalities,
            instructions=self.instructions,
            max_tokens=96 if mot == "inf" else min(int(mot), 256),
            temperature=self.temperature,
            voice=self.voice,
        )

    async def _start_response(self, options: ResponseOptions) -> Response:
        resp = Response(
            ids=self._ids,
            send=self.send,
            conversation=self.conversation,
            brain=self._brain,
            speaker=self._speaker,
            executor=self._executor,
            options=options,
            scene_for=self.scene_for,
            previous_item_id=lambda: (
                self.conversation.items[-1].id if self.conversation.items else None
            ),
        )
        self.response = resp
        resp.start()
        return resp

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        if self.response is not None and not self.response.done:
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
            if isinstance(r.get("metadata"), dict):
                options.metadata = r["metadata"]
            mot = r.get("max_output_tokens")
            if isinstance(mot, int) and not isinstance(mot, bool):
                options.max_tokens = max(1, min(mot, 256))
        await self._start_response(options)

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if (
            self.response is None
            or self.response.done
            or (isinstance(wanted, str) and wanted != self.response.id)
        ):
            raise ClientEventError(
                "Cancellation failed: no active response found.",
                "response_cancel_not_active",
                event_id=event.get("event_id"),
                event_type="response.cancel",
            )
        await self.response.cancel("client_cancelled")
