"""An OpenAI-compatible ``/v1/chat/completions`` server as the brain's language model.

``ChatEndpoint`` names the server (Ollama, LM Studio, a llama.cpp server, vLLM, or
``llama_cpp.server``); ``stream_chat(endpoint, messages, ...)`` streams the answer's text pieces
over SSE. Frames go as an ``image_url`` part on the last user message when ``image_jpeg`` is
given; a server that rejects them (HTTP 400/415/422/500 naming an image) raises
``ImagesRefused`` so the caller can stop sending frames and ask again without.

Thread: worker (blocking I/O); ``cancel`` is checked between SSE lines.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class BrainError(RuntimeError):
    """The language model could not answer (e.g. the chat endpoint is unreachable)."""


class ImagesRefused(BrainError):
    """The server answered a request carrying an image with a client error."""


@dataclass(frozen=True)
class ChatEndpoint:
    """An OpenAI-compatible chat completions server replacing SmolLM2."""

    url: str  # base URL, e.g. http://127.0.0.1:11434/v1 (or the full .../chat/completions)
    model: str
    api_key: str | None = None
    vision: bool = True
    timeout_s: float = 60.0

    @property
    def completions_url(self) -> str:
        u = self.url.rstrip("/")
        return u if u.endswith("/chat/completions") else u + "/chat/completions"


@dataclass
class StreamUsage:
    """Token counts reported by the server (0 when it reports none)."""

    input_tokens: int = 0
    output_tokens: int = 0


def with_image(messages: list[dict[str, Any]], image_jpeg: bytes) -> list[dict[str, Any]]:
    """A copy of ``messages`` whose last message also carries the frame as an image part."""
    out = [dict(m) for m in messages]
    last = out[-1]
    url = "data:image/jpeg;base64," + base64.b64encode(image_jpeg).decode("ascii")
    last["content"] = [
        {"type": "text", "text": last["content"]},
        {"type": "image_url", "image_url": {"url": url}},
    ]
    return out


def stream_chat(
    ep: ChatEndpoint,
    messages: list[dict[str, Any]],
    *,
    max_tokens: int,
    temperature: float | None,
    cancel: threading.Event,
    usage: StreamUsage,
    image_jpeg: bytes | None = None,
) -> Iterator[str]:
    """Yield the answer's text pieces. Raises ``ImagesRefused`` or ``BrainError``."""
    body: dict[str, Any] = {
        "model": ep.model,
        "messages": with_image(messages, image_jpeg) if image_jpeg else messages,
        "stream": True,
        "max_tokens": max_tokens,
        "stream_options": {"include_usage": True},
    }
    if temperature is not None:
        body["temperature"] = temperature
    try:
        resp = _open(ep, body)
    except urllib.error.HTTPError as exc:
        if image_jpeg and exc.code in (400, 415, 422, 500):
            raise ImagesRefused(
                f"{ep.completions_url} refused an image (HTTP {exc.code})"
            ) from None
        raise BrainError(f"chat endpoint {ep.completions_url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise BrainError(f"chat endpoint {ep.completions_url} unreachable: {exc}") from None
    with resp:
        for raw in resp:
            if cancel.is_set():
                return
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except json.JSONDecodeError:
                continue
            if chunk.get("usage"):
                usage.input_tokens = int(chunk["usage"].get("prompt_tokens") or 0)
                usage.output_tokens = int(chunk["usage"].get("completion_tokens") or 0)
            for choice in chunk.get("choices") or []:
                piece = (choice.get("delta") or {}).get("content")
                if piece:
                    yield piece


def _open(ep: ChatEndpoint, body: dict[str, Any]) -> Any:
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if ep.api_key:
        headers["Authorization"] = f"Bearer {ep.api_key}"
    request = urllib.request.Request(
        ep.completions_url,
        data=json.dumps(body).encode("utf-8"),
        headers=headers,
        method="POST",
    )
    return urllib.request.urlopen(request, timeout=ep.timeout_s)
