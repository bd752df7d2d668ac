"""Thinking: route by intent, answer from memory or a skill, else a language model, streamed.

``Brain.generate(request, cancel, usage)`` yields text pieces (blocking: call it from a worker
thread) and fills ``usage`` with token counts, the answer's source and intent, and the speech
pace. For the newest user turn:

1. ``intent.classify`` scores it (< 1 ms). ``REPEAT`` says the last answer again — slower
   (``usage.length_scale`` = ``SLOWER_LENGTH_SCALE``, piper's length scale) when asked;
   ``RECALL`` answers a fact the user stated (``memory.Memory``); ``REMEMBER`` acknowledges a
   statement that asks nothing.
2. A confident skill intent is answered by ``skills.answer`` (arithmetic, date/time, reading
   text, codes, faces, light, the colour of a thing, describing the scene, identifying);
   ``TRANSLATE`` by the FreeDict dictionaries (``translation``) — if the phrase is not there, a
   server model answers, SmolLM2 (which invents translations) is replaced by "I don't know".
3. Everything else goes to the language model — SmolLM2-135M-Instruct through llama-cpp-python
   (``n_threads=1``) or any OpenAI-compatible server (``endpoint.ChatEndpoint``) — with a short
   few-shot prompt (``prompt.build_messages``; ``BrainRequest`` and ``build_messages`` are
   re-exported here) that tells it to admit what it doesn't know, the remembered facts, and the
   scene facts (and, for a server, the frame) only when the question refers to the camera
   (small models read whatever they are shown out as the answer). With a server that accepts
   images, "describe" and "what is this" go to it rather than to the skills. An open question
   that names the picture ("anything odd in the picture?") is not given to SmolLM2 at all: it
   garbles scene facts into inventions, so the answer is ``CANNOT_JUDGE`` and the scene
   description. A server is sent the newest frame as an ``image_url`` part until it refuses
   one. If the first piece takes longer than ``hold_after_s``, ``HOLDING_PHRASE`` is said first.

Cancellation: ``cancel`` (a ``threading.Event``) is checked between tokens; the generator returns
within one token (a few ms for SmolLM2).
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from realtime.local import skills
from realtime.local.endpoint import (
    BrainError,
    ChatEndpoint,
    ImagesRefused,
    StreamUsage,
    stream_chat,
)
from realtime.local.intent import Intent, Kind, classify
from realtime.local.memory import Memory
from realtime.local.models import Models
from realtime.local.prompt import BrainRequest, build_messages, last_user_text
from realtime.local.translation import Dictionaries, parse_request

__all__ = ["Brain", "BrainError", "BrainRequest", "ChatEndpoint", "TokenUsage", "build_messages"]

MAX_SENTENCES = 3
UNHEARD = "Sorry, I didn't catch that."
NOTHING_SAID_YET = "I haven't said anything yet."
HOLDING_PHRASE = "One moment."
#: Before the scene description when SmolLM2 is asked an open question about the picture.
CANNOT_JUDGE = "I can't answer that from the picture offline, but here is what I can tell."
#: Piper's length scale for "slower please" (1.0 is the voice's normal pace).
SLOWER_LENGTH_SCALE = 1.5


@dataclass
class TokenUsage:
    """Filled in by ``Brain.generate`` before the first piece is yielded (counts: by the end).

    ``source`` is 'skill', 'memory', 'smollm2' or the endpoint's model; ``length_scale`` is the
    pace the answer should be spoken at (piper's length scale: 1.0 normal, larger is slower).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    source: str = ""
    length_scale: float = 1.0
    #: The model stopped because it reached the request's ``max_tokens`` (SmolLM2's
    #: ``finish_reason`` "length"), not because its answer was over.
    hit_token_limit: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Brain:
    """Answers a request from memory, skills, then SmolLM2 or a chat endpoint (module doc)."""

    def __init__(
        self,
        models: Models,
        endpoint: ChatEndpoint | None = None,
        now: Callable[[], dt.datetime] = dt.datetime.now,
        hold_after_s: float = 1.5,
    ) -> None:
        if endpoint is None and models.llm is None:
            raise ValueError("no language model: load SmolLM2 or configure a chat endpoint")
        self._models = models
        self._endpoint = endpoint
        self._vision = endpoint.vision if endpoint else False
        self._now = now
        self._hold_after_s = hold_after_s
        self._dictionaries = Dictionaries()

    @property
    def sends_images(self) -> bool:
        """Camera frames go to the chat endpoint (until it refuses one)."""
        return self._vision

    def count_tokens(self, text: str) -> int:
        llm = self._models.llm
        if llm is None or not text:
            return max(0, len(text.split()) * 4 // 3)
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False))

    def route(self, req: BrainRequest) -> tuple[Intent, str | None]:
        """The intent of the newest user turn and its deterministic answer (None: the model
        answers). Pure apart from the clock; fast (no model)."""
        question = last_user_text(req.history).strip()
        intent = classify(question)
        if intent.kind == Kind.REPEAT:
            before = Memory.from_history(req.history[:-1])
            return intent, before.last_answer or NOTHING_SAID_YET
        memory = Memory.from_history(req.history)
        if intent.kind == Kind.RECALL:
            return intent, memory.recall(question)
        if intent.kind == Kind.REMEMBER:
            return intent, Memory.acknowledge(question)
        if intent.kind == Kind.TRANSLATE:
            return intent, self._translate(question)
        if (
            intent.kind == Kind.CHAT
            and intent.visual
            and req.scene is not None
            and self._endpoint is None
        ):
            # SmolLM2 garbles scene facts into inventions: say what the tools found instead.
            return intent, f"{CANNOT_JUDGE} {req.scene.describe()}"
        if intent.kind in (Kind.DESCRIBE, Kind.IDENTIFY) and self.model_sees(req):
            return intent, None  # a vision model can say what things are: it answers
        held = memory.holding()
        return intent, skills.answer(intent, question, req.scene, self._now(), held=held)

    def model_sees(self, req: BrainRequest) -> bool:
        """The chat endpoint accepts images and this request has a frame."""
        return self._endpoint is not None and self._vision and req.image_jpeg is not None

    def _translate(self, question: str) -> str | None:
        """From the dictionary; else a server model answers (None), while SmolLM2, which
        invents translations, is replaced by an honest "I don't know"."""
        request = parse_request(question)
        if request is None:
            return None
        found = self._dictionaries.translate(request)
        if found is not None or self._endpoint is not None:
            return found
        return f"I don't know how to say {request.phrase} in {request.language.capitalize()}."

    def generate(
        self, req: BrainRequest, cancel: threading.Event, usage: TokenUsage
    ) -> Iterator[str]:
        """Yield the answer's text pieces. Thread: worker. Raises ``BrainError``."""
        if req.unheard:  # never answer an older question again
            usage.source = "skill"
            yield UNHEARD
            return
        intent, fixed = self.route(req)
        usage.extra["intent"] = intent.kind.value
        usage.extra["intent_score"] = intent.score
        if fixed is not None:
            memory_kinds = (Kind.REPEAT, Kind.RECALL, Kind.REMEMBER)
            usage.source = "memory" if intent.kind in memory_kinds else "skill"
            if intent.kind == Kind.TRANSLATE:
                usage.source = "dictionary"
            if intent.kind == Kind.REPEAT and intent.slower:
                usage.length_scale = SLOWER_LENGTH_SCALE
            usage.input_tokens = self.count_tokens(last_user_text(req.history))
            usage.output_tokens = self.count_tokens(fixed)
            yield fixed
            return
        memory = Memory.from_history(req.history)
        # The picture only for questions about it: models of every size otherwise read the
        # scene facts out as the answer to an unrelated question.
        looks = intent.about_camera or intent.kind in skills.CAMERA_KINDS
        messages = build_messages(req, memory=memory, with_scene=looks)
        if self._endpoint is not None:
            image = req.image_jpeg if looks else None
            fallback: str | None = None
            if intent.kind in (Kind.DESCRIBE, Kind.IDENTIFY):  # if the model turns out blind
                question = last_user_text(req.history).strip()
                held = memory.holding()
                fallback = skills.answer(intent, question, req.scene, self._now(), held=held)
            pieces = self._chat(self._endpoint, messages, req, image, cancel, usage, fallback)
        else:
            pieces = self._smollm2(messages, req, cancel, usage)
        yield from self._hold_if_late(pieces, cancel)

    # ------------------------------------------------------------------ holding phrase

    def _hold_if_late(self, pieces: Iterator[str], cancel: threading.Event) -> Iterator[str]:
        """Run ``pieces`` on a helper thread; if nothing came within ``hold_after_s``, yield
        ``HOLDING_PHRASE`` (as its own sentence) before the answer."""
        out: queue.Queue[tuple[str, Any]] = queue.Queue()

        def pump() -> None:
            try:
                for piece in pieces:
                    out.put(("piece", piece))
                    if cancel.is_set():
                        break
            except BaseException as exc:  # handed to the consumer thread
                out.put(("error", exc))
            finally:
                close = getattr(pieces, "close", None)
                if close is not None:
                    close()
                out.put(("end", None))

        threading.Thread(target=pump, name="brain-pump", daemon=True).start()
        first = True
        while True:
            try:
                kind, value = out.get(timeout=self._hold_after_s if first else 0.25)
            except queue.Empty:
                if cancel.is_set():
                    return
                if first:
                    first = False
                    yield HOLDING_PHRASE + " "
                continue
            if kind == "end":
                return
            if kind == "error":
                raise value
            first = False
            if cancel.is_set():
                return
            yield value

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
                # Greedy by default: a 135M model's facts get worse with sampling.
                temperature=0.0 if req.temperature is None else req.temperature,
                repeat_penalty=1.1,
            )
            try:
                for chunk in stream:
                    if cancel.is_set():
                        return
                    choice = chunk["choices"][0]
                    if choice.get("finish_reason") == "length":
                        usage.hit_token_limit = True
                    piece = choice.get("delta", {}).get("content")
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
        frame: bytes | None,
        cancel: threading.Event,
        usage: TokenUsage,
        blind_answer: str | None = None,
    ) -> Iterator[str]:
        """Stream from the endpoint. If it refuses the frame, ask again without it — or, when
        ``blind_answer`` is given (a question only a seeing model should take), say that."""
        usage.source = ep.model
        counts = StreamUsage()
        image = frame if self._vision else None
        kw: dict[str, Any] = {
            "max_tokens": max(req.max_tokens, 256),
            "temperature": req.temperature,
            "cancel": cancel,
            "usage": counts,
        }
        pieces = 0
        try:
            try:
                for piece in stream_chat(ep, messages, image_jpeg=image, **kw):
                    pieces += 1
                    yield piece
            except ImagesRefused:
                pass
            if image is not None and pieces == 0 and not cancel.is_set():
                # Refused with an error, or (llama_cpp.server) an empty stream: this model
                # cannot see. Stop sending frames and ask again without.
                self._vision = False
                if blind_answer is not None:
                    usage.source = "skill"
                    pieces += 1
                    yield blind_answer
                    return
                for piece in stream_chat(ep, messages, **kw):
                    pieces += 1
                    yield piece
        finally:
            # Servers that don't report usage: count the streamed pieces (about one token
            # each) and estimate the prompt.
            usage.output_tokens = counts.output_tokens or pieces
            usage.input_tokens = counts.input_tokens or sum(
                self.count_tokens(str(m["content"])) + 4 for m in messages
            )
