"""Response workers and speculative reply generation (a reply prepared before the turn closes).

``think``/``voice`` are the two worker-thread loops of a response (brain → sentences → piper);
they post ``("text", piece)``, ``("sentence", text, pcm24k)``, ``("error", message)`` and finally
``END`` through a ``post`` callable.

``Prefetch`` runs those same workers for a *hypothetical* request (the conversation plus the
speculative transcript of a turn not closed yet) and buffers what they post, emitting nothing.
When the turn closes, the response built for it calls ``adopt_into(request, audio, post)``: if
the real request is equal to the speculative one (same history, transcript, scene, instructions,
limits, modality), the buffered output is replayed into the response's own ``post`` and the
workers keep feeding it, so the wire events are produced by the normal response code path
(identical order, ids and usage); otherwise the speculation is cancelled and the response
generates as usual. ``cancel()`` stops the workers between tokens/sentences.

``build_request`` is the one place that turns conversation items into a ``BrainRequest``, used by
both the response and the speculation so that equal inputs give equal requests.

Thread: ``Prefetch`` is created, adopted and cancelled on the event-loop thread; its workers run
in the executor; ``_post`` is thread-safe.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from realtime.local.brain import Brain, BrainError, BrainRequest, TokenUsage
from realtime.local.conversation import Item, Turn
from realtime.local.models import trim_memory
from realtime.local.stage_log import mark
from realtime.local.tts import SentenceBuffer, Speaker
from realtime.local.vision import SceneFacts

Post = Callable[[Any], None]

#: Posted once by the last worker of a response.
END = object()


def build_request(
    items: Sequence[Item],
    history: list[Turn],
    *,
    scene: SceneFacts | None,
    image_jpeg: bytes | None,
    instructions: str,
    max_tokens: int,
    temperature: float | None,
) -> BrainRequest:
    """The brain's input for a reply to ``items`` (whose transcripts are final)."""
    said = ("input_text", "input_audio")  # image-only items are not something said
    last_user = next(
        (i for i in reversed(items) if i.role == "user" and any(p.type in said for p in i.parts)),
        None,
    )
    unheard = (
        last_user is not None
        and not last_user.text()
        and any(p.type == "input_audio" for p in last_user.parts)
    )
    return BrainRequest(
        history=history,
        unheard=unheard,
        instructions=instructions,
        scene=scene,
        image_jpeg=image_jpeg,
        max_tokens=max_tokens,
        temperature=temperature,
    )


def think(
    brain: Brain,
    request: BrainRequest,
    *,
    audio: bool,
    cancel: threading.Event,
    usage: TokenUsage,
    post: Post,
    sentences: queue.Queue[Any],
) -> None:
    """Worker: brain → text pieces (text mode) or complete sentences (audio mode)."""
    splitter = SentenceBuffer()
    pieces = brain.generate(request, cancel, usage)
    first = True
    said = False
    try:
        for piece in pieces:
            if cancel.is_set():
                break
            if first:
                mark("first_piece")
                first = False
            if audio:
                for s in splitter.push(piece):
                    if not said:
                        mark("first_sentence", chars=len(s))
                        said = True
                    sentences.put(s)
            else:
                post(("text", piece))
        if audio and not cancel.is_set():
            for s in splitter.flush():
                if not said:
                    mark("first_sentence", chars=len(s))
                    said = True
                sentences.put(s)
    except BrainError as exc:
        post(("error", str(exc)))
    except Exception as exc:  # a model crash must not hang the response
        post(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        # Close the generator now: it holds the language model's lock while suspended.
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
        if audio:
            sentences.put(END)
        else:
            post(END)


def voice(
    speaker: Speaker,
    *,
    cancel: threading.Event,
    post: Post,
    sentences: queue.Queue[Any],
    usage: TokenUsage | None = None,
) -> None:
    """Worker: sentences → piper → ("sentence", text, pcm24k), at ``usage.length_scale``
    (set by the brain before its first sentence is queued)."""
    spoken = False
    try:
        while True:
            s = sentences.get()
            if s is END or cancel.is_set():
                break
            pace = usage.length_scale if usage is not None else 1.0
            pcm = b"".join(speaker.speak(s, cancel, length_scale=pace))
            if not spoken:
                mark("tts_done", chars=len(s))
                spoken = True
            if pcm and not cancel.is_set():
                post(("sentence", s, pcm))
    except Exception as exc:
        post(("error", f"speech synthesis failed: {type(exc).__name__}: {exc}"))
    finally:
        post(END)
        trim_memory()


def start_workers(
    executor: concurrent.futures.Executor,
    brain: Brain,
    speaker: Speaker,
    request: BrainRequest,
    *,
    audio: bool,
    cancel: threading.Event,
    usage: TokenUsage,
    post: Post,
) -> None:
    """Submit the brain worker (and piper's, for audio) for ``request``."""
    sentences: queue.Queue[Any] = queue.Queue()
    executor.submit(
        think,
        brain,
        request,
        audio=audio,
        cancel=cancel,
        usage=usage,
        post=post,
        sentences=sentences,
    )
    if audio:
        executor.submit(voice, speaker, cancel=cancel, post=post, sentences=sentences, usage=usage)


class Prefetch:
    """A reply generated speculatively; nothing is sent until a response adopts it."""

    def __init__(
        self,
        *,
        executor: concurrent.futures.Executor,
        brain: Brain,
        speaker: Speaker,
        request: BrainRequest,
        audio: bool,
    ) -> None:
        self.request = request
        self.audio = audio
        self.cancel_event = threading.Event()
        self.usage = TokenUsage()
        self._lock = threading.Lock()
        self._buffered: list[Any] = []
        self._sink: Post | None = None
        start_workers(
            executor,
            brain,
            speaker,
            request,
            audio=audio,
            cancel=self.cancel_event,
            usage=self.usage,
            post=self._post,
        )

    def _post(self, msg: Any) -> None:
        with self._lock:
            if self._sink is None:
                self._buffered.append(msg)
                return
            sink = self._sink
        sink(msg)

    @property
    def buffered(self) -> int:
        """Messages produced and not yet adopted (sentences, text pieces, END)."""
        with self._lock:
            return len(self._buffered)

    def adopt_into(self, request: BrainRequest, audio: bool, post: Post) -> bool:
        """Hand the generation to a response whose real request is ``request``.

        Returns False (and cancels) if it was generated for a different request or was
        cancelled; True after replaying the buffered output into ``post``.
        """
        if self.cancel_event.is_set() or audio != self.audio or request != self.request:
            self.cancel()
            return False
        with self._lock:
            for msg in self._buffered:
                post(msg)
            self._buffered.clear()
            self._sink = post
        return True

    def cancel(self) -> None:
        """Stop the workers (between tokens/sentences) and drop what they produced."""
        self.cancel_event.set()
        with self._lock:
            self._buffered.clear()
