"""Thinking: deterministic skills first, then a language model, streamed as text pieces.

``Brain.generate(request, cancel, usage)`` yields text pieces (blocking: call it from a worker
thread) and fills ``usage`` with token counts. Sources, in order:

1. ``skills.answer`` — arithmetic, date/time, reading text, QR codes, faces, colours, light, and
   an honest "I can't recognise objects offline".
2. SmolLM2-135M-Instruct through llama-cpp-python (``n_threads=1``), given the conversation so far
   and a one-line description of the newest camera frame (``SceneFacts.summary``).
3. Instead of 2., when configured (``ChatEndpoint``): any OpenAI-compatible ``/v1/chat/completions``
   server (Ollama, llama.cpp server, LM Studio, vLLM), streamed over SSE, with the newest camera
   frame as an ``image_url`` part when ``vision`` is on (turned off after the server rejects it).

Cancellation: ``cancel`` (a ``threading.Event``) is checked between tokens; the generator returns
within one token (a few ms for SmolLM2).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from realtime.local import skills
from realtime.local.conversation import Turn
from realtime.local.models import Models
from realtime.local.vision import SceneFacts

SYSTEM_PROMPT = (
    "You are VoiceCam, a friendly voice assistant that runs offline on this computer. "
    "Answer in one or two short, plain sentences that sound natural when spoken. "
    "Never use lists, markdown or emoji."
)
#: Client instructions are appended to the system prompt, cut to this many characters
#: (a 135M model loses the thread with long prompts).
MAX_INSTRUCTIONS_CHARS = 400
MAX_SENTENCES = 3
UNHEARD = "Sorry, I didn't catch that."
#: The small model sees only the last few turns (prompt evaluation dominates its latency).
MAX_HISTORY_TURNS = 6
MAX_TURN_CHARS = 400


class BrainError(RuntimeError):
    """The language model could not answer (e.g. the chat endpoint is unreachable)."""


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


@dataclass(frozen=True)
class BrainRequest:
    """Everything one response is generated from. ``history`` ends with the user's turn."""

    history: list[Turn]
    #: The user's newest turn was audio with no recognisable words.
    unheard: bool = False
    instructions: str = ""
    scene: SceneFacts | None = None
    image_jpeg: bytes | None = None
    max_tokens: int = 96
    temperature: float | None = None


@dataclass
class TokenUsage:
    """Filled in by ``Brain.generate``. ``source`` is 'skill', 'smollm2' or the endpoint model."""

    input_tokens: int = 0
    output_tokens: int = 0
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _last_user_text(history: list[Turn]) -> str:
    for turn in reversed(history):
        if turn.role == "user":
            return turn.text
    return ""


def build_messages(req: BrainRequest) -> list[dict[str, Any]]:
    """Chat messages: system prompt (+ client instructions), history, and the camera
    description as a note on the last user message.

    The note goes last, not into the system prompt, so the prompt prefix stays the same from
    turn to turn and llama.cpp reuses its evaluated tokens (the frame changes every turn).
    """
    system = SYSTEM_PROMPT
    if req.instructions.strip():
        system += " " + req.instructions.strip()[:MAX_INSTRUCTIONS_CHARS]
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for turn in req.history[-MAX_HISTORY_TURNS:]:
        text = turn.text if len(turn.text) <= MAX_TURN_CHARS else turn.text[-MAX_TURN_CHARS:]
        messages.append({"role": turn.role, "content": text})
    if req.scene is not None:
        note = f"({req.scene.summary()})"
        if messages[-1]["role"] == "user":
            messages[-1] = {"role": "user", "content": f"{messages[-1]['content']}\n{note}"}
        else:
            messages.append({"role": "user", "content": note})
    return messages


class Brain:
    """Answers a request with skills, then SmolLM2 or a chat endpoint (see module docstring)."""

    def __init__(
        self,
        models: Models,
        endpoint: ChatEndpoint | None = None,
        now: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        if endpoint is None and models.llm is None:
            raise ValueError("no language model: load SmolLM2 or configure a chat endpoint")
        self._models = models
        self._endpoint = endpoint
        self._vision = endpoint.vision if endpoint else False
        self._now = now

    def count_tokens(self, text: str) -> int:
        llm = self._models.llm
        if llm is None or not text:
            return max(0, len(text.split()) * 4 // 3)
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False))

    def generate(
        self, req: BrainRequest, cancel: threading.Event, usage: TokenUsage
    ) -> Iterator[str]:
        """Yield the answer's text pieces. Thread: worker. Raises ``BrainError``."""
        if req.unheard:  # never answer an older question again
            usage.source = "skill"
            yield UNHEARD
            return
        question = _last_user_text(req.history)
        skilled = skills.answer(question, req.scene, self._now())
        if skilled is not None:
            usage.source = "skill"
            usage.input_tokens = self.count_tokens(question)
            usage.output_tokens = self.count_tokens(skilled)
            yield skilled
            return
        messages = build_messages(req)
        if self._endpoint is not None:
            yield from self._chat(self._endpoint, messages, req, cancel, usage)
        else:
            yield from self._smollm2(messages, req, cancel, usage)

    # ------------------------------------------------------------------ SmolLM2

    def _smollm2(
        self,
        messages: list[dict[str, Any]],
        req: BrainRequest,
        cancel: threading.Event,
        usage: TokenUsage,
    ) -> Iterator[str]:
        llm = self._models.llm
        assert llm is not None
        usage.source = "smollm2"
        usage.input_tokens = sum(self.count_tokens(m["content"]) + 4 for m in messages)
        sentences = 0
        with self._models.llm_lock:
            if cancel.is_set():
                return
            stream = llm.create_chat_completion(
                messages=messages,
                stream=True,
                max_tokens=req.max_tokens,
                temperature=0.3 if req.temperature is None else req.temperature,
                repeat_penalty=1.2,
            )
            try:
                for chunk in stream:
                    if cancel.is_set():
                        return
                    piece = chunk["choices"][0].get("delta", {}).get("content")
                    if not piece:
                        continue
                    usage.output_tokens += 1
                    yield piece
                    sentences += sum(piece.count(c) for c in ".!?")
                    if sentences >= MAX_SENTENCES:
                        return
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()

    # ------------------------------------------------------------------ chat endpoint

    def _chat(
        self,
        ep: ChatEndpoint,
        messages: list[dict[str, Any]],
        req: BrainRequest,
        cancel: threading.Event,
        usage: TokenUsage,
    ) -> Iterator[str]:
        usage.source = ep.model
        body: dict[str, Any] = {
            "model": ep.model,
            "messages": messages,
            "stream": True,
            "max_tokens": max(req.max_tokens, 256),
            "stream_options": {"include_usage": True},
        }
        if req.temperature is not None:
            body["temperature"] = req.temperature
        if self._vision and req.image_jpeg:
            last = body["messages"][-1]
            url = "data:image/jpeg;base64," + base64.b64encode(req.image_jpeg).decode("ascii")
            last["content"] = [
                {"type": "text", "text": last["content"]},
                {"type": "image_url", "image_url": {"url": url}},
            ]
        try:
            resp = self._open(ep, body)
        except urllib.error.HTTPError as exc:
            if exc.code == 400 and self._vision and req.image_jpeg:
                self._vision = False  # this model cannot see: stop sending frames
                yield from self._chat(ep, build_messages(req), req, cancel, usage)
                return
            raise BrainError(
                f"chat endpoint {ep.completions_url} answered HTTP {exc.code}"
            ) from None
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

    @staticmethod
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
