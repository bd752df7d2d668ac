"""A scripted OpenAI Realtime (GA) server on 127.0.0.1 for session, reconnect and CLI tests.

It speaks the GA wire shapes (every message it sends validates against the SDK's
``RealtimeServerEvent`` types) and reacts like the real service:

* on connect: ``session.created``; ``session.update`` → ``session.updated``;
* ``input_audio_buffer.append`` → buffered; ``commit`` → ``committed`` + input transcription
  (``transcript`` argument) — and a response when turn detection would create one;
* ``response.create`` → ``response.created``, ``response.output_audio.delta`` chunks of real PCM
  (a 24 kHz tone) interleaved with transcript deltas, ``…done`` events, ``response.done`` with
  usage. ``chunk_delay_s`` paces the chunks so a test can interrupt mid-reply;
* ``response.cancel`` → the reply stops, ``response.done`` status ``cancelled``;
* ``conversation.item.truncate`` → ``conversation.item.truncated``;
* ``conversation.item.create`` → ``conversation.item.added`` (kept in ``history``).

Scripted helpers: ``user_turn()`` (server VAD: speech_started/stopped, committed, transcript,
reply), ``error()``, ``expire()`` (``session_expired`` then close 1001), ``push()`` for any event
and ``send()`` for raw frames; ``close()`` / ``abort()`` from the base class.

Auth: ``Authorization: Bearer <api_key>`` (or Azure's ``api-key``); anything else is refused
with HTTP 401 during the upgrade, like the real service.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Callable
from typing import Any

from websockets.http11 import Request

from realtime.openai_vocab import RATE_HZ
from realtime.openai_vocab import ClientEvent as C
from realtime.openai_vocab import ServerEvent as S
from tests.fakes._base import FakeConnection, FakeServer, pcm_tone


def _validators() -> tuple[Callable[[Any], Any] | None, Callable[[Any], Any] | None]:
    try:
        from tests.realtime.sdk_validators import validate_openai_client, validate_openai_server
    except ImportError:  # pragma: no cover - the validators module ships with the cores
        return None, None
    return validate_openai_client, validate_openai_server


class FakeOpenAI(FakeServer):
    path_suffix = "/realtime"

    def __init__(
        self,
        api_key: str = "sk-test-fake-openai-key",
        *,
        reply: str | Callable[[FakeConnection], str] = "Hello there, I can see your desk.",
        transcript: str = "What is on my desk?",
        reply_audio_ms: int = 600,
        chunk_ms: int = 100,
        chunk_delay_s: float = 0.0,
        validate: bool = True,
    ) -> None:
        client_validator, server_validator = _validators() if validate else (None, None)
        super().__init__(api_key, validate_client=client_validator)
        self.validate_server = server_validator
        self.reply = reply
        self.transcript = transcript
        self.reply_audio_ms = reply_audio_ms
        self.chunk_ms = chunk_ms
        self.chunk_delay_s = chunk_delay_s
        self.history: list[tuple[int, str, str]] = []  # (connection, role, text)
        self.usage = {"input_tokens": 120, "output_tokens": 45}
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        """API root for ``realtime.openai_endpoint.endpoint(key, model, base_url=...)``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/realtime?model=gpt-realtime"

    # ---------------------------------------------------------------- scripted actions

    async def push(self, event: dict[str, Any], conn: FakeConnection | None = None) -> None:
        """Send one server event (``event_id`` added); validated against the SDK types."""
        event = {"event_id": self._id("event"), **event}
        if self.validate_server is not None:
            self.validate_server(event)
        await self.send(json.dumps(event), conn)

    async def error(
        self,
        message: str,
        code: str = "invalid_value",
        error_type: str = "invalid_request_error",
        event_id: str | None = None,
        conn: FakeConnection | None = None,
    ) -> None:
        err: dict[str, Any] = {"type": error_type, "code": code, "message": message}
        if event_id is not None:
            err["event_id"] = event_id
        await self.push({"type": S.ERROR, "error": err}, conn)

    async def expire(self, conn: FakeConnection | None = None) -> None:
        """The 60-minute cap: ``error`` session_expired, then close 1001."""
        conn = conn or self.current
        await self.error(
            "Your session hit the maximum duration of 60 minutes.",
            code="session_expired",
            conn=conn,
        )
        await self.close(1001, "session expired", conn)

    async def user_turn(
        self,
        transcript: str | None = None,
        respond: bool = True,
        conn: FakeConnection | None = None,
    ) -> str:
        """Server VAD heard the user: speech events, commit, transcript, then (maybe) a reply.

        Returns the user item id. The reply streams in the background (``reply_task``).
        """
        conn = conn or self.current
        item_id = self._id("item")
        await self.push(
            {
                "type": S.SPEECH_STARTED,
                "audio_start_ms": 100,
                "item_id": item_id,
            },
            conn,
        )
        await self.push(
            {"type": S.SPEECH_STOPPED, "audio_end_ms": 1500, "item_id": item_id},
            conn,
        )
        await self._commit(conn, item_id, transcript)
        if respond:
            self.start_response(conn)
        return item_id

    def start_response(self, conn: FakeConnection | None = None) -> asyncio.Task[None]:
        conn = conn or self.current
        task = self.spawn(conn, self._respond(conn))
        conn.state["reply_task"] = task
        return task

    async def wait_reply_done(
        self, conn: FakeConnection | None = None, timeout: float = 10
    ) -> None:
        conn = conn or self.current
        await self.wait_until(lambda: conn.state.get("replies_done", 0) > 0, timeout, "reply done")

    # ---------------------------------------------------------------- protocol

    def _authorized(self, request: Request) -> bool:
        bearer = request.headers.get("Authorization", "")
        return bearer == f"Bearer {self.api_key}" or request.headers.get("api-key") == self.api_key

    def _type_of(self, msg: dict[str, Any]) -> str:
        return str(msg.get("type", ""))

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):04d}"

    async def _on_open(self, conn: FakeConnection) -> None:
        conn.state.update(buffered=0, session={"type": "realtime"}, replies_done=0)
        await self.push(
            {
                "type": S.SESSION_CREATED,
                "session": {"type": "realtime", "id": self._id("sess"), "model": "gpt-realtime"},
            },
            conn,
        )

    async def _on_message(self, conn: FakeConnection, msg: dict[str, Any]) -> None:
        type_ = msg.get("type")
        if type_ == C.SESSION_UPDATE:
            conn.state["session"] = msg.get("session", {})
            session = {
                k: v for k, v in conn.state["session"].items() if k in ("type", "instructions")
            }
            await self.push(
                {"type": S.SESSION_UPDATED, "session": {"type": "realtime", **session}}, conn
            )
        elif type_ == C.INPUT_AUDIO_BUFFER_APPEND:
            conn.state["buffered"] += len(base64.b64decode(msg.get("audio", "")))
        elif type_ == C.INPUT_AUDIO_BUFFER_CLEAR:
            conn.state["buffered"] = 0
            await self.push({"type": S.INPUT_CLEARED}, conn)
        elif type_ == C.INPUT_AUDIO_BUFFER_COMMIT:
            if conn.state["buffered"] < RATE_HZ * 2 // 10:
                await self.error(
                    "Error committing input audio buffer: buffer too small.",
                    code="input_audio_buffer_commit_empty",
                    event_id=msg.get("event_id"),
                    conn=conn,
                )
                return
            await self._commit(conn, self._id("item"), None)
            td = conn.state["session"].get("audio", {}).get("input", {}).get("turn_detection")
            if td and td.get("create_response", True):
                self.start_response(conn)
        elif type_ == C.RESPONSE_CREATE:
            self.start_response(conn)
        elif type_ == C.RESPONSE_CANCEL:
            task = conn.state.get("reply_task")
            if task is not None and not task.done():
                conn.state["cancel"] = True
        elif type_ == C.CONVERSATION_ITEM_TRUNCATE:
            await self.push(
                {
                    "type": S.ITEM_TRUNCATED,
                    "item_id": msg["item_id"],
                    "content_index": msg.get("content_index", 0),
                    "audio_end_ms": msg["audio_end_ms"],
                },
                conn,
            )
        elif type_ == C.CONVERSATION_ITEM_CREATE:
            item = msg.get("item", {})
            text = "".join(str(c.get("text", "")) for c in item.get("content", []))
            self.history.append((conn.index, str(item.get("role", "")), text))
            item_id = self._id("item")
            added = {"id": item_id, **item}
            await self.push({"type": S.ITEM_ADDED, "item": added}, conn)

    async def _commit(self, conn: FakeConnection, item_id: str, transcript: str | None) -> None:
        conn.state["buffered"] = 0
        await self.push({"type": S.INPUT_COMMITTED, "item_id": item_id}, conn)
        text = transcript if transcript is not None else self.transcript
        self.history.append((conn.index, "user", text))
        await self.push(
            {
                "type": S.INPUT_TRANSCRIPTION_COMPLETED,
                "item_id": item_id,
                "content_index": 0,
                "transcript": text,
                "usage": {"type": "duration", "seconds": 1.5},
            },
            conn,
        )

    async def _respond(self, conn: FakeConnection) -> None:
        response_id = self._id("resp")
        item_id = self._id("item")
        conn.state["cancel"] = False
        conn.state["response_item"] = item_id
        text = self.reply(conn) if callable(self.reply) else self.reply
        where = {
            "response_id": response_id,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
        }
        await self.push(
            {"type": S.RESPONSE_CREATED, "response": {"id": response_id, "status": "in_progress"}},
            conn,
        )
        pcm = pcm_tone(self.reply_audio_ms, RATE_HZ)
        chunk = RATE_HZ * 2 * self.chunk_ms // 1000
        chunks = [pcm[i : i + chunk] for i in range(0, len(pcm), chunk)]
        words = text.split(" ")
        per = max(1, -(-len(words) // max(1, len(chunks))))
        sent_words = 0
        status = "completed"
        for n, audio in enumerate(chunks):
            if conn.state["cancel"]:
                status = "cancelled"
                break
            delta = base64.b64encode(audio).decode()
            await self.push({"type": S.AUDIO_DELTA, **where, "delta": delta}, conn)
            piece = words[n * per : (n + 1) * per]
            if piece:
                lead = "" if sent_words == 0 else " "
                await self.push(
                    {
                        "type": S.AUDIO_TRANSCRIPT_DELTA,
                        **where,
                        "delta": lead + " ".join(piece),
                    },
                    conn,
                )
                sent_words += len(piece)
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
        if status == "completed":
            await self.push({"type": S.AUDIO_DONE, **where}, conn)
            await self.push({"type": S.AUDIO_TRANSCRIPT_DONE, **where, "transcript": text}, conn)
            self.history.append((conn.index, "assistant", text))
        usage = {
            **self.usage,
            "total_tokens": sum(self.usage.values()),
            "input_token_details": {"text_tokens": 20, "audio_tokens": 100, "cached_tokens": 0},
            "output_token_details": {"text_tokens": 10, "audio_tokens": 35},
        }
        await self.push(
            {
                "type": S.RESPONSE_DONE,
                "response": {"id": response_id, "status": status, "usage": usage},
            },
            conn,
        )
        conn.state["replies_done"] += 1
        await self._notify()
