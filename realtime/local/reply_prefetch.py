"""Speculative replies of one offline-server session: prepare the answer during a pause.

When silence begins inside an utterance (server VAD with ``create_response``), or a semantic_vad
checkpoint that did not end the turn found it acoustically complete or was the silence's last
check (``input_audio.InputAudio._judge_turn``), ``start`` waits for the speculative transcript
and prepares the reply to it (``speculation.Prefetch``: language model and speech on the
workers) without sending anything. If the turn then commits from the same audio,
``turn_commit`` adopts it with ``take``; speech resuming, a buffer change or a session change
throws it away with ``drop``.

Call order: ``start`` → (``take`` | ``drop``), any number of times; ``drop`` is always safe.
Thread: the server's event-loop thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib

from realtime.local.brain import Brain
from realtime.local.conversation import Conversation, Item, Part
from realtime.local.replies import Replies
from realtime.local.scenes import Scenes
from realtime.local.speculation import Prefetch, build_request
from realtime.local.stt import Speculator
from realtime.local.tts import Speaker
from realtime.local.turns import InputBuffer
from realtime.local.vision import SceneFacts


class ReplyPrefetch:
    """Holds at most one prepared reply (``prepared``) and the task preparing it (``task``)."""

    def __init__(
        self,
        *,
        enabled: bool,
        input_buffer: InputBuffer,
        speculator: Speculator,
        conversation: Conversation,
        replies: Replies,
        scenes: Scenes,
        brain: Brain,
        speaker: Speaker,
        executor: concurrent.futures.Executor,
    ) -> None:
        self._enabled = enabled
        self._input = input_buffer
        self._speculator = speculator
        self._conversation = conversation
        self._replies = replies
        self._scenes = scenes
        self._brain = brain
        self._speaker = speaker
        self._executor = executor
        #: A reply being prepared from the speculative transcript (see ``_prepare``).
        self.prepared: Prefetch | None = None
        self.task: asyncio.Task[None] | None = None

    @property
    def idle(self) -> bool:
        """Nothing is prepared nor being prepared."""
        return self.prepared is None and self.task is None

    def start(self) -> None:
        """Silence began inside an utterance (server VAD with create_response): once the
        speculative transcript is ready, prepare the reply to it without sending anything."""
        self.drop()
        params = self._input.params
        spec = self._speculator.pending
        if not self._enabled or params is None or not params.create_response or spec is None:
            return
        self.task = asyncio.ensure_future(self._prepare(spec))

    async def _prepare(self, spec: concurrent.futures.Future[str]) -> None:
        """Thread: event loop; cancelled by ``drop``."""
        try:
            text = await asyncio.shield(asyncio.wrap_future(spec))
        except Exception:
            return
        if not text or self._speculator.pending is not spec:
            return
        if self._replies.running:
            return  # the turn would interrupt (or wait for) it: not worth guessing
        options = self._replies.default_options()
        await self._replies.settle()
        # The conversation as it will be once the turn is committed (transcripts all final).
        for item in list(self._conversation.items):
            if item.transcript_task is not None and not item.transcript_task.done():
                with contextlib.suppress(Exception):
                    await asyncio.shield(item.transcript_task)
        scene: SceneFacts | None = None
        jpeg: bytes | None = None
        img = self._conversation.latest_image()
        if img is not None:
            try:
                scene = await asyncio.shield(self._scenes.scene_for(img))
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
        items = [*self._conversation.items, user]
        request = build_request(
            items,
            self._conversation.history(extra=user),
            scene=scene,
            image_jpeg=jpeg,
            instructions=options.instructions,
            max_tokens=options.max_tokens,
            temperature=options.temperature,
        )
        self.prepared = Prefetch(
            executor=self._executor,
            brain=self._brain,
            speaker=self._speaker,
            request=request,
            audio="audio" in options.modalities,
        )

    def take(self) -> Prefetch | None:
        """The prepared reply, if its preparation got as far as starting the workers."""
        prefetch, self.prepared = self.prepared, None
        if self.task is not None:
            self.task.cancel()
            self.task = None
        return prefetch

    def drop(self) -> None:
        """Speech resumed, the buffer changed or the session did: stop preparing (silently)."""
        prefetch = self.take()
        if prefetch is not None:
            prefetch.cancel()
