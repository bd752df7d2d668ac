"""A scripted Gemini Live (BidiGenerateContent) server on 127.0.0.1.

Like the real service it sends every message as JSON in a BINARY frame, and every message
validates against google-genai's ``LiveServerMessage``. Behaviour:

* the first client message must be ``setup`` → ``setupComplete``. A ``sessionResumption.handle``
  is recorded (``conn.state["resumed_with"]``); a handle this fake never issued is refused with
  close 1008 (``check_handles=False`` accepts anything);
* ``realtimeInput.text``, ``clientContent`` with ``turnComplete``, ``activityEnd`` or
  ``audioStreamEnd`` → a reply (``auto_reply``);
* a reply: ``modelTurn`` parts with 24 kHz PCM (a real tone), ``outputTranscription`` pieces,
  ``generationComplete``, ``usageMetadata`` + ``turnComplete``, then (``issue_handles``) a
  ``sessionResumptionUpdate`` with a new resumable handle.

Scripted helpers: ``user_turn(text)`` (input transcription then a reply), ``reply()``,
``interrupt()``, ``go_away(time_left)``, ``resumption(handle, resumable)``, ``push(obj)``,
``send(raw)``; ``close()``/``abort()`` from the base class.

Auth: header ``x-goog-api-key`` must equal ``api_key`` (else HTTP 401 on the upgrade); a
``?key=`` in the URL is refused too, so a client that leaks the key into URLs fails tests.
``bearer=True`` (Vertex AI) wants ``Authorization: Bearer <api_key>`` instead.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import Callable
from typing import Any

from websockets.http11 import Request

from tests.fakes._base import FakeConnection, FakeServer, pcm_tone

WS_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
RATE_HZ = 24_000


def _validators() -> tuple[Callable[[Any], Any] | None, Callable[[Any], Any] | None]:
    try:
        from tests.realtime.sdk_validators import validate_gemini_client, validate_gemini_server
    except ImportError:  # pragma: no cover
        return None, None
    return validate_gemini_client, validate_gemini_server


class FakeGemini(FakeServer):
    path_suffix = "BidiGenerateContent"

    def __init__(
        self,
        api_key: str = "gemini-test-fake-key",
        *,
        reply: str = "I can see a desk with a red mug.",
        reply_audio_ms: int = 600,
        chunk_ms: int = 100,
        chunk_delay_s: float = 0.0,
        auto_reply: bool = True,
        issue_handles: bool = True,
        check_handles: bool = True,
        validate: bool = True,
        bearer: bool = False,
    ) -> None:
        client_validator, server_validator = _validators() if validate else (None, None)
        super().__init__(api_key, validate_client=client_validator)
        self.validate_server = server_validator
        self.reply_text = reply
        self.reply_audio_ms = reply_audio_ms
        self.chunk_ms = chunk_ms
        self.chunk_delay_s = chunk_delay_s
        self.auto_reply = auto_reply
        self.issue_handles = issue_handles
        self.check_handles = check_handles
        #: Vertex AI style: ``Authorization: Bearer <api_key>`` instead of ``x-goog-api-key``.
        self.bearer = bearer
        #: handle → the conversation (list of (role, text)) it restores.
        self.handles: dict[str, list[tuple[str, str]]] = {}
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        """Host root for ``realtime.gemini_endpoint.endpoint(key, base_url=...)``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{WS_PATH}"

    # ---------------------------------------------------------------- scripted actions

    async def push(self, obj: dict[str, Any], conn: FakeConnection | None = None) -> None:
        """Send one server message as binary JSON, validated against ``LiveServerMessage``."""
        if self.validate_server is not None:
            self.validate_server(obj)
        await self.send(json.dumps(obj).encode(), conn)

    async def go_away(self, time_left: str = "10s", conn: FakeConnection | None = None) -> None:
        await self.push({"goAway": {"timeLeft": time_left}}, conn)

    async def resumption(
        self, handle: str | None = None, resumable: bool = True, conn: FakeConnection | None = None
    ) -> str:
        conn = conn or self.current
        handle = handle or f"handle-{next(self._ids)}"
        self.handles[handle] = list(conn.state["conversation"])
        await self.push(
            {"sessionResumptionUpdate": {"newHandle": handle, "resumable": resumable}}, conn
        )
        return handle

    async def interrupt(self, conn: FakeConnection | None = None) -> None:
        """The user barged in: stop the reply, ``interrupted``, then ``turnComplete``."""
        conn = conn or self.current
        task = conn.state.get("reply_task")
        if task is not None and not task.done():
            task.cancel()
        await self.push({"serverContent": {"interrupted": True}}, conn)
        await self.push({"serverContent": {"turnComplete": True}}, conn)

    async def user_turn(
        self, text: str = "What is on my desk?", conn: FakeConnection | None = None
    ) -> None:
        """The user spoke (server VAD): input transcription in two pieces, then a reply."""
        conn = conn or self.current
        conn.state["conversation"].append(("user", text))
        head, _, tail = text.partition(" ")
        await self.push({"serverContent": {"inputTranscription": {"text": head}}}, conn)
        if tail:
            await self.push({"serverContent": {"inputTranscription": {"text": " " + tail}}}, conn)
        self.start_reply(conn)

    def start_reply(self, conn: FakeConnection | None = None) -> asyncio.Task[None]:
        conn = conn or self.current
        task = self.spawn(conn, self.reply(conn))
        conn.state["reply_task"] = task
        return task

    async def wait_reply_done(
        self, conn: FakeConnection | None = None, timeout: float = 10
    ) -> None:
        conn = conn or self.current
        await self.wait_until(lambda: conn.state.get("replies_done", 0) > 0, timeout, "reply done")

    async def reply(self, conn: FakeConnection | None = None) -> None:
        conn = conn or self.current
        text = self.reply_text
        pcm = pcm_tone(self.reply_audio_ms, RATE_HZ)
        chunk = RATE_HZ * 2 * self.chunk_ms // 1000
        chunks = [pcm[i : i + chunk] for i in range(0, len(pcm), chunk)]
        words = text.split(" ")
        per = max(1, -(-len(words) // max(1, len(chunks))))
        for n, audio in enumerate(chunks):
            blob = {
                "mimeType": f"audio/pcm;rate={RATE_HZ}",
                "data": base64.b64encode(audio).decode(),
            }
            await self.push(
                {"serverContent": {"modelTurn": {"parts": [{"inlineData": blob}]}}}, conn
            )
            piece = words[n * per : (n + 1) * per]
            if piece:
                lead = "" if n == 0 else " "
                await self.push(
                    {"serverContent": {"outputTranscription": {"text": lead + " ".join(piece)}}},
                    conn,
                )
            if self.chunk_delay_s:
                await asyncio.sleep(self.chunk_delay_s)
        await self.push({"serverContent": {"generationComplete": True}}, conn)
        conn.state["conversation"].append(("model", text))
        usage = {"promptTokenCount": 200, "responseTokenCount": 60, "totalTokenCount": 260}
        await self.push({"usageMetadata": usage, "serverContent": {"turnComplete": True}}, conn)
        conn.state["replies_done"] = conn.state.get("replies_done", 0) + 1
        if self.issue_handles:
            await self.resumption(conn=conn)
        await self._notify()

    # ---------------------------------------------------------------- protocol

    def _authorized(self, request: Request) -> bool:
        if "key=" in request.path:
            return False
        if self.bearer:
            return request.headers.get("Authorization") == f"Bearer {self.api_key}"
        return request.headers.get("x-goog-api-key") == self.api_key

    def _type_of(self, msg: dict[str, Any]) -> str:
        """The message's top-level field; for ``realtimeInput`` its inner field, dotted."""
        key = next(iter(msg), "")
        if key in ("realtimeInput", "realtime_input") and isinstance(msg[key], dict) and msg[key]:
            return f"realtimeInput.{next(iter(msg[key]))}"
        return key

    async def _on_open(self, conn: FakeConnection) -> None:
        conn.state.update(conversation=[], setup=None, replies_done=0)

    async def _on_message(self, conn: FakeConnection, msg: dict[str, Any]) -> None:
        if conn.state["setup"] is None:
            if "setup" not in msg:
                await self.close(1007, "the first message must be setup", conn)
                return
            setup = msg["setup"]
            conn.state["setup"] = setup
            handle = (setup.get("sessionResumption") or {}).get("handle")
            conn.state["resumed_with"] = handle
            if handle:
                if self.check_handles and handle not in self.handles:
                    await self.close(1008, "Invalid session resumption handle", conn)
                    return
                conn.state["conversation"] = list(self.handles.get(handle, []))
            await self.push({"setupComplete": {}}, conn)
            return
        if "clientContent" in msg:
            content = msg["clientContent"]
            for turn in content.get("turns", []):
                text = "".join(p.get("text", "") for p in turn.get("parts", []))
                conn.state["conversation"].append((turn.get("role", "user"), text))
            if content.get("turnComplete") and self.auto_reply:
                self.start_reply(conn)
        elif "realtimeInput" in msg:
            rt = msg["realtimeInput"]
            if "text" in rt:
                conn.state["conversation"].append(("user", rt["text"]))
            if self.auto_reply and (
                "text" in rt or "activityEnd" in rt or rt.get("audioStreamEnd")
            ):
                self.start_reply(conn)
