"""A test peer: the official ``openai`` SDK connected to the local server, validating every
server event against the SDK's ``RealtimeServerEvent`` types (raw JSON, via sdk_validators)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from openai import AsyncOpenAI

from dsp.pcm import read_wav
from dsp.resample import resample
from tests.realtime.sdk_validators import validate_openai_server


class Peer:
    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.events: list[dict[str, Any]] = []
        self.times: list[float] = []

    async def recv(self, timeout: float = 60.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.conn.recv_bytes(), timeout)
        event = json.loads(raw)
        validate_openai_server(event)  # raises pydantic.ValidationError
        self.events.append(event)
        self.times.append(time.monotonic())
        return event

    async def until(self, etype: str, timeout: float = 90.0) -> list[dict[str, Any]]:
        """Receive events up to and including the first of ``etype``; returns them."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            ev = await self.recv(max(0.1, deadline - time.monotonic()))
            got.append(ev)
            if ev["type"] == etype:
                return got

    async def send_raw(self, data: str | bytes) -> None:
        await self.conn.send_raw(data)

    async def update(self, **session: Any) -> dict[str, Any]:
        await self.conn.session.update(session={"type": "realtime", **session})
        return (await self.until("session.updated"))[-1]

    async def send_audio(
        self, pcm16k: bytes, *, chunk_ms: int = 40, realtime: bool = False
    ) -> float:
        """Stream 16 kHz PCM16 as 24 kHz appends. Returns the monotonic time of the last one."""
        pcm = resample(pcm16k, 16000, 24000)
        step = 24 * 2 * chunk_ms
        t0 = time.monotonic()
        for n, i in enumerate(range(0, len(pcm), step)):
            if realtime:
                delay = t0 + n * chunk_ms / 1000 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await self.conn.input_audio_buffer.append(
                audio=base64.b64encode(pcm[i : i + step]).decode("ascii")
            )
        return time.monotonic()

    async def send_wav(self, path: Path, **kw: Any) -> float:
        pcm, rate = read_wav(path)
        assert rate == 16000
        return await self.send_audio(pcm, **kw)

    async def send_image(self, path: Path) -> dict[str, Any]:
        data = path.read_bytes()
        mime = "image/png" if path.suffix == ".png" else "image/jpeg"
        url = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
        await self.conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_image", "image_url": url}],
            }
        )
        return (await self.until("conversation.item.done"))[-1]

    async def say_text(self, text: str) -> None:
        await self.conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": text}],
            }
        )
        await self.until("conversation.item.done")


def answer_text(events: list[dict[str, Any]]) -> str:
    for ev in events:
        if ev["type"] == "response.output_audio_transcript.done":
            return str(ev["transcript"])
        if ev["type"] == "response.output_text.done":
            return str(ev["text"])
    return ""


def audio_bytes(events: list[dict[str, Any]]) -> bytes:
    return b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )


_NUMBERS = {"twelve": "12", "seven": "7", "six": "6", "forty-two": "42", "eighty-four": "84"}


def words(text: str) -> list[str]:
    """Lower-case words for WER, numbers as digits (Whisper writes "12", the script "twelve")."""
    text = text.lower().replace("colour", "color")
    return [_NUMBERS.get(w, w) for w in re.findall(r"[a-z0-9'-]+", text)]


def word_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(edit distance in words, reference length)."""
    r, h = words(ref), words(hyp)
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            cur = min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
            prev, d[j] = d[j], cur
    return d[len(h)], len(r)


@asynccontextmanager
async def connect(server: Any, model: str = "voicecam-local") -> AsyncIterator[Peer]:
    client = AsyncOpenAI(api_key=server.token, base_url=server.base_url)
    async with client.realtime.connect(model=model) as conn:
        peer = Peer(conn)
        first = await peer.recv()
        assert first["type"] == "session.created"
        yield peer
