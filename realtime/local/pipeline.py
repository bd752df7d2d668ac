"""One response: context → brain (worker thread) → sentences → piper (worker thread) → wire events.

``Response`` is created by the connection for ``response.create`` or a VAD turn and run as an
asyncio task. It emits, in the cloud's order: ``response.created``, ``response.output_item.added``,
``conversation.item.added``, ``response.content_part.added``, then per spoken sentence
``response.output_audio_transcript.delta`` followed by ``response.output_audio.delta`` chunks of
≤ 100 ms (24 kHz PCM16), and at the end ``response.output_audio.done``,
``response.output_audio_transcript.done``, ``response.content_part.done``,
``response.output_item.done``, ``conversation.item.done``, ``response.done`` (with usage).
With ``output_modalities=["text"]`` it streams ``response.output_text.delta``/``done`` instead.

Cancellation (``cancel(reason)``): sets a ``threading.Event`` the workers check between tokens
and sentences, and cancels the task at its current ``await``: no event for the response is sent
after ``cancel`` returns except the closing ``*.done`` events with status ``cancelled``
(``response.done`` status_details.reason ``client_cancelled`` or ``turn_detected``). The event
loop never blocks on inference, so this takes well under 50 ms.

A response may be given a ``speculation.Prefetch`` (a reply prepared during the silence before
the turn closed): once its own request is built, it adopts the prefetch's workers if the request
is equal to the one they were started with, else cancels them and generates as usual. Either way
the events are sent by this class, in the order above.

Thread: event-loop thread; the workers run in the shared ``executor``.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from realtime.local import protocol
from realtime.local.brain import Brain, BrainError, BrainRequest, TokenUsage
from realtime.local.conversation import Conversation, Item, Part
from realtime.local.speculation import END, Prefetch, build_request, start_workers
from realtime.local.stage_log import mark
from realtime.local.tts import OUTPUT_RATE_HZ, Speaker, chunk_audio
from realtime.local.vision import SceneFacts

Send = Callable[[dict[str, Any]], Awaitable[None]]

_BYTES_PER_MS = OUTPUT_RATE_HZ * 2 // 1000


@dataclass
class ResponseOptions:
    """What ``response.create`` (or the session defaults) asked for."""

    modalities: tuple[str, ...] = ("audio",)
    instructions: str = ""
    max_tokens: int = 96
    #: The client set ``max_output_tokens`` (a number, not "inf"): reaching it ends the
    #: response ``incomplete`` (reason ``max_output_tokens``), as OpenAI does.
    limit_asked: bool = False
    temperature: float | None = None
    voice: str = "joe"
    #: False for ``conversation: "none"`` (out-of-band): the output is not added to history.
    in_conversation: bool = True
    metadata: dict[str, str] | None = None


@dataclass
class ResponseStats:
    """Timings (``time.monotonic()`` seconds) for benchmarks and logs."""

    created: float = 0.0
    first_text: float | None = None
    first_audio: float | None = None
    done: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Response:
    """One response in flight (see module docstring)."""

    def __init__(
        self,
        *,
        ids: protocol.Ids,
        send: Send,
        conversation: Conversation,
        brain: Brain,
        speaker: Speaker,
        executor: concurrent.futures.Executor,
        options: ResponseOptions,
        previous_item_id: Callable[[], str | None],
        scene_for: Callable[[Item], asyncio.Future[SceneFacts]],
        prefetch: Prefetch | None = None,
    ) -> None:
        self.id = ids.make("resp")
        self.item_id = ids.make("item")
        self._ids = ids
        self._send = send
        self._conv = conversation
        self._brain = brain
        self._speaker = speaker
        self._executor = executor
        self.options = options
        self._previous_item_id = previous_item_id
        self._scene_for = scene_for
        self._prefetch = prefetch
        self._cancel = threading.Event()
        self._reason = "client_cancelled"
        self._item: Item | None = None
        self._part: Part | None = None
        self._text = ""
        self._usage = TokenUsage()
        self._audio_ms = 0.0
        self._opened = False
        self._closing = False
        self.stats = ResponseStats(created=time.monotonic())
        self.task: asyncio.Task[None] | None = None

    @property
    def audio(self) -> bool:
        return "audio" in self.options.modalities

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.get_running_loop().create_task(self._run(), name=self.id)
        return self.task

    @property
    def done(self) -> bool:
        """``response.done`` has been sent (or the response never started)."""
        return self.task is None or self.task.done()

    @property
    def active(self) -> bool:
        """Still generating: not yet sending its closing events, not being cancelled."""
        return not self.done and not self._closing and not self._cancel.is_set()

    async def finish(self) -> None:
        """Wait until ``response.done`` has been sent."""
        if self.task is not None and not self.task.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(self.task)

    async def cancel(self, reason: str = "client_cancelled") -> None:
        """Stop now; returns once ``response.done`` (cancelled) has been sent.

        A response already sending its closing events (or already being cancelled) is left to
        finish as it is: it is never closed twice.
        """
        if self.task is None or self.task.done():
            return
        if not self._closing and not self._cancel.is_set():
            self._reason = reason
            self._cancel.set()
            self.task.cancel()
        await self.finish()

    # ------------------------------------------------------------------ wire helpers

    def _response_object(self, status: str, details: dict[str, Any] | None) -> dict[str, Any]:
        output = [self._item.to_wire()] if self._item is not None else []
        obj: dict[str, Any] = {
            "object": "realtime.response",
            "id": self.id,
            "status": status,
            "status_details": details,
            "output": output,
            "conversation_id": "conv_local" if self.options.in_conversation else None,
            "output_modalities": list(self.options.modalities),
            "max_output_tokens": self.options.max_tokens if self.options.limit_asked else "inf",
            "audio": {
                "output": {
                    "format": {"type": "audio/pcm", "rate": OUTPUT_RATE_HZ},
                    "voice": self.options.voice,
                }
            },
            "usage": None,
            "metadata": self.options.metadata,
        }
        return obj

    def _loc(self) -> dict[str, Any]:
        return {
            "response_id": self.id,
            "item_id": self.item_id,
            "output_index": 0,
            "content_index": 0,
        }

    async def _emit(self, etype: str, **fields: Any) -> None:
        await self._send(protocol.event(self._ids, etype, **fields))

    # ------------------------------------------------------------------ the run

    async def _run(self) -> None:
        try:
            await self._emit(
                "response.created", response=self._response_object("in_progress", None)
            )
            request = await self._context()
            mark("context", speculative=self._prefetch is not None)
            await self._open_item()
            await self._generate(request)
            if self._usage.hit_token_limit and self.options.limit_asked:
                await self._close(
                    "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
                )
            else:
                await self._close("completed", None)
        except asyncio.CancelledError:
            self._cancel.set()
            await self._close("cancelled", {"type": "cancelled", "reason": self._reason})
        except BrainError as exc:
            self._cancel.set()
            await self._close(
                "failed",
                {
                    "type": "failed",
                    "error": {"type": "server_error", "code": "model_error", "message": str(exc)},
                },
            )
        finally:
            if self._prefetch is not None:  # ended before adopting it
                self._prefetch.cancel()
                self._prefetch = None

    async def _context(self) -> BrainRequest:
        """Wait for pending transcripts and the newest frame's analysis; build the request."""
        for item in list(self._conv.items):
            if item.transcript_task is not None and not item.transcript_task.done():
                # A failed transcription leaves the item without text.
                with contextlib.suppress(Exception):
                    await asyncio.shield(item.transcript_task)
        scene: SceneFacts | None = None
        jpeg: bytes | None = None
        img = self._conv.latest_image()
        if img is not None:
            try:
                scene = await asyncio.shield(self._scene_for(img))
                jpeg = img.image_jpeg
            except Exception:
                scene = None
        return build_request(
            self._conv.items,
            self._conv.history(),
            scene=scene,
            image_jpeg=jpeg,
            instructions=self.options.instructions,
            max_tokens=self.options.max_tokens,
            temperature=self.options.temperature,
        )

    async def _open_item(self) -> None:
        ptype = "output_audio" if self.audio else "output_text"
        self._part = Part(
            type=ptype, text="" if not self.audio else None, transcript="" if self.audio else None
        )
        self._item = Item(
            id=self.item_id, role="assistant", parts=[self._part], status="in_progress"
        )
        previous = self._previous_item_id()
        if self.options.in_conversation:
            self._conv.add(self._item)
        wire = self._item.to_wire()
        await self._emit(
            "response.output_item.added", response_id=self.id, output_index=0, item=wire
        )
        if self.options.in_conversation:
            await self._emit("conversation.item.added", previous_item_id=previous, item=wire)
        part = {"type": "audio", "transcript": ""} if self.audio else {"type": "text", "text": ""}
        await self._emit("response.content_part.added", **self._loc(), part=part)
        self._opened = True

    async def _generate(self, request: BrainRequest) -> None:
        loop = asyncio.get_running_loop()
        out: asyncio.Queue[Any] = asyncio.Queue()

        def post(x: Any) -> None:
            loop.call_soon_threadsafe(out.put_nowait, x)

        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None and prefetch.adopt_into(request, self.audio, post):
            # The speculative reply was made for exactly this request: its workers (and
            # their cancel flag and token count) become this response's.
            self._cancel = prefetch.cancel_event
            self._usage = prefetch.usage
            self.stats.extra["speculative"] = True
        else:
            start_workers(
                self._executor,
                self._brain,
                self._speaker,
                request,
                audio=self.audio,
                cancel=self._cancel,
                usage=self._usage,
                post=post,
            )
        while True:
            msg = await out.get()
            if msg is END:
                return
            kind = msg[0]
            if kind == "error":
                raise BrainError(msg[1])
            if kind == "text":
                if self.stats.first_text is None:
                    self.stats.first_text = time.monotonic()
                self._text += msg[1]
                assert self._part is not None
                self._part.text = self._text
                await self._emit("response.output_text.delta", **self._loc(), delta=msg[1])
            elif kind == "sentence":
                await self._speak(msg[1], msg[2])

    async def _speak(self, sentence: str, pcm: bytes) -> None:
        assert self._part is not None
        if self.stats.first_text is None:
            self.stats.first_text = time.monotonic()
        piece = sentence if not self._text else " " + sentence
        start = int(self._audio_ms)
        await self._emit("response.output_audio_transcript.delta", **self._loc(), delta=piece)
        self._text += piece
        for chunk in chunk_audio(pcm):
            if self.stats.first_audio is None:
                self.stats.first_audio = time.monotonic()
            await self._emit(
                "response.output_audio.delta",
                **self._loc(),
                delta=base64.b64encode(chunk).decode("ascii"),
            )
            # The item holds what was sent, so a cancel mid-sentence keeps an exact length.
            self._audio_ms += len(chunk) / _BYTES_PER_MS
            self._part.audio_ms = int(self._audio_ms)
            self._part.transcript = self._text
            if self._part.segments and self._part.segments[-1][1] == start:
                self._part.segments[-1] = (sentence, start, int(self._audio_ms))
            else:
                self._part.segments.append((sentence, start, int(self._audio_ms)))

    # ------------------------------------------------------------------ closing

    async def _close(self, status: str, details: dict[str, Any] | None) -> None:
        self._closing = True
        if self._opened and self._item is not None and self._part is not None:
            self._item.status = "completed" if status == "completed" else "incomplete"
            if self.audio:
                await self._emit("response.output_audio.done", **self._loc())
                await self._emit(
                    "response.output_audio_transcript.done", **self._loc(), transcript=self._text
                )
                part = {"type": "audio", "transcript": self._text}
            else:
                await self._emit("response.output_text.done", **self._loc(), text=self._text)
                part = {"type": "text", "text": self._text}
            await self._emit("response.content_part.done", **self._loc(), part=part)
            wire = self._item.to_wire()
            await self._emit(
                "response.output_item.done", response_id=self.id, output_index=0, item=wire
            )
            if self.options.in_conversation:
                await self._emit("conversation.item.done", item=wire)
        obj = self._response_object(status, details)
        obj["usage"] = self._usage_object()
        self.stats.done = time.monotonic()
        await self._emit("response.done", response=obj)

    def _usage_object(self) -> dict[str, Any]:
        in_audio_ms = 0
        images = 0
        for item in self._conv.items:
            if item.role == "user":
                in_audio_ms += sum(p.audio_ms for p in item.parts if p.type == "input_audio")
                images += sum(1 for p in item.parts if p.type == "input_image")
        return protocol.usage_object(
            input_text=self._usage.input_tokens,
            input_audio_s=in_audio_ms / 1000,
            input_images=min(images, 1),
            output_text=self._usage.output_tokens,
            output_audio_s=self._audio_ms / 1000,
        )
