"""Responses of one offline-server session: ``response.create``/``response.cancel`` and the one
current ``Response``.

A session has at most one active response. It is started by the client (``response.create``) or
by a committed turn (server VAD with ``create_response``, see ``turn_commit``), possibly adopting
a reply prepared speculatively (``reply_prefetch``). Barge-in and truncation cancel it through
``cancel_running``. Generation itself (language model, speech) runs in ``pipeline.Response`` on
the shared executor.

Thread: the server's event-loop thread; every method is called by one client-event handler or
turn task at a time. ``max_tokens`` is in model tokens (``inf`` becomes 96, capped at 256).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

from realtime.local.brain import Brain
from realtime.local.conversation import Conversation
from realtime.local.outbox import Outbox
from realtime.local.pipeline import Response, ResponseOptions
from realtime.local.protocol import ClientEventError
from realtime.local.scenes import Scenes
from realtime.local.session_config import SessionState
from realtime.local.speculation import Prefetch
from realtime.local.tts import Speaker


class Replies:
    """Owns ``current``, the session's latest response (finished, running or cancelled)."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        config: SessionState,
        conversation: Conversation,
        brain: Brain,
        speaker: Speaker,
        executor: concurrent.futures.Executor,
        scenes: Scenes,
    ) -> None:
        self._outbox = outbox
        self._config = config
        self._conversation = conversation
        self._brain = brain
        self._speaker = speaker
        self._executor = executor
        self._scenes = scenes
        self.current: Response | None = None

    def default_options(self) -> ResponseOptions:
        """The session's response options (``session.update`` values) at this moment."""
        mot = self._config.max_output_tokens
        return ResponseOptions(
            modalities=self._config.modalities,
            instructions=self._config.instructions,
            max_tokens=96 if mot == "inf" else min(int(mot), 256),
            limit_asked=mot != "inf",
            temperature=self._config.temperature,
            voice=self._config.voice,
        )

    @property
    def running(self) -> bool:
        """The current response has not finished (it may be closing after a cancel)."""
        return self.current is not None and not self.current.done

    @property
    def active(self) -> bool:
        """The current response is active (neither done nor cancelled)."""
        return self.current is not None and self.current.active

    async def cancel_running(self, reason: str) -> None:
        """Cancel the current response if it has not finished (barge-in, truncation)."""
        if self.current is not None and not self.current.done:
            await self.current.cancel(reason)

    async def settle(self) -> None:
        """Wait until the current response (if any) has sent its ``response.done``."""
        if self.current is not None:
            await self.current.finish()

    async def start(self, options: ResponseOptions, prefetch: Prefetch | None = None) -> Response:
        """Start a response (adopting ``prefetch`` if given) and let it take its first step."""
        conversation = self._conversation
        resp = Response(
            ids=self._outbox.ids,
            send=self._outbox.send,
            conversation=conversation,
            brain=self._brain,
            speaker=self._speaker,
            executor=self._executor,
            options=options,
            prefetch=prefetch,
            scene_for=self._scenes.scene_for,
            previous_item_id=lambda: conversation.items[-1].id if conversation.items else None,
        )
        self.current = resp
        resp.start()
        # Let the task take its first step (it sends response.created inside its own
        # try/except): a task cancelled before it ever ran would skip its closing
        # response.done, and a client's response.cancel right after response.create would lose
        # the response altogether.
        await asyncio.sleep(0)
        return resp

    def close(self) -> None:
        """The socket closed: stop the current response's workers and task (no events)."""
        if self.current is not None:
            self.current._cancel.set()
            if self.current.task is not None:
                self.current.task.cancel()

    # ------------------------------------------------------------------ client events

    async def on_create(self, event: dict[str, Any]) -> None:
        """``response.create``: refused while another response is active."""
        if self.current is not None and not self.current.active:
            await self.current.finish()  # closing or cancelled: its response.done comes first
        if self.current is not None and self.current.active:
            raise ClientEventError(
                f"Conversation already has an active response in progress: {self.current.id}. "
                "Wait until the response is finished before creating a new one.",
                "conversation_already_has_active_response",
                event_id=event.get("event_id"),
                event_type="response.create",
            )
        await self.start(self._requested_options(event))

    def _requested_options(self, event: dict[str, Any]) -> ResponseOptions:
        """The session's options overridden by ``response.create``'s ``response`` object."""
        options = self.default_options()
        r = event.get("response")
        if r is not None and not isinstance(r, dict):
            raise ClientEventError(
                "'response' must be an object.",
                "invalid_type",
                param="response",
                event_id=event.get("event_id"),
                event_type="response.create",
            )
        if not r:
            return options
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
        meta = r.get("metadata")
        if meta is not None:
            if (
                not isinstance(meta, dict)
                or len(meta) > 16
                or not all(
                    isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 512
                    for k, v in meta.items()
                )
            ):
                raise ClientEventError(
                    "'metadata' must map at most 16 string keys to string values.",
                    "invalid_type",
                    param="response.metadata",
                    event_id=event.get("event_id"),
                    event_type="response.create",
                )
            options.metadata = meta
        mot = r.get("max_output_tokens")
        if isinstance(mot, int) and not isinstance(mot, bool):
            options.max_tokens = max(1, min(mot, 256))
            options.limit_asked = True
        return options

    async def on_cancel(self, event: dict[str, Any]) -> None:
        """``response.cancel``: refused unless the named (or current) response is active."""
        wanted = event.get("response_id")
        if (
            self.current is None
            or not self.current.active
            or (isinstance(wanted, str) and wanted != self.current.id)
        ):
            raise ClientEventError(
                "Cancellation failed: no active response found.",
                "response_cancel_not_active",
                event_id=event.get("event_id"),
                event_type="response.cancel",
            )
        await self.current.cancel("client_cancelled")
