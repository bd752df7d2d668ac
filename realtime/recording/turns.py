"""Derive transcript turns, per-turn latency and usage rows from provider-neutral core events.

``TurnTracker`` is fed by ``SessionRecorder.on_event`` (engine thread) and
``record_playback`` (any thread; a lock keeps the two consistent). It writes through a sink
with ``record_turn``/``record_latency``/``record_usage`` (the recorder).

Latency figures, per assistant item, all in ms from the moment the user's turn ended (the
earliest of: local VAD speech end, provider ``SpeechStopped``, ``InputCommitted``, a typed
message):

* ``first_audio_ms``   – first reply audio received from the provider
* ``first_text_ms``    – first reply transcript/text received
* ``first_played_ms``  – first reply audio actually played (when playback is recorded)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal, Protocol

from realtime.events import (
    AudioDelta,
    Event,
    InputCommitted,
    InputTranscript,
    Interrupted,
    ItemTruncated,
    ResponseDone,
    ResponseStarted,
    SpeechStarted,
    SpeechStopped,
    TranscriptDelta,
    TranscriptDone,
    TurnComplete,
    Usage,
)


class _Sink(Protocol):
    def record_turn(
        self,
        role: Literal["user", "assistant"],
        text: str,
        t_ns: int,
        *,
        item_id: str = "",
        t_start_ns: int | None = None,
        t_end_ns: int | None = None,
        source: str = "voice",
        status: str = "completed",
    ) -> None: ...

    def record_latency(self, item_id: str, metric: str, value_ms: float, t_ns: int) -> None: ...

    def record_usage(
        self, usage: Usage, t_ns: int, *, response_id: str = "", cost_usd: float | None = None
    ) -> None: ...


@dataclass
class _Reply:
    item_id: str
    first_audio_ns: int | None = None
    first_text_ns: int | None = None
    first_played_ns: int | None = None
    deltas: list[str] = field(default_factory=list)
    text: str | None = None
    interrupted: bool = False
    user_end_ns: int | None = None


class TurnTracker:
    def __init__(self, sink: _Sink) -> None:
        self._sink = sink
        self._lock = threading.Lock()
        self._speech_start_ns: int | None = None
        self._user_end_ns: int | None = None
        self._replies: dict[str, _Reply] = {}
        self._order: list[str] = []
        #: user-turn end of replies already written, for playback that starts after them
        self._done: dict[str, int | None] = {}

    # -- inputs -----------------------------------------------------------------------------

    def on_user_speech_start(self, t_ns: int) -> None:
        with self._lock:
            if self._speech_start_ns is None or self._user_end_ns is not None:
                self._speech_start_ns = t_ns
                self._user_end_ns = None

    def on_user_speech_end(self, t_ns: int) -> None:
        with self._lock:
            self._mark_user_end(t_ns)

    def on_user_text(self, text: str, t_ns: int) -> None:
        with self._lock:
            self._user_end_ns = t_ns
        self._sink.record_turn("user", text, t_ns, t_start_ns=t_ns, t_end_ns=t_ns, source="text")

    def on_playback(self, item_id: str, t_ns: int) -> None:
        with self._lock:
            if item_id in self._done:
                start = self._done.pop(item_id)
            else:
                reply = self._reply(item_id)
                if reply.first_played_ns is not None:
                    return
                reply.first_played_ns = t_ns
                start = reply.user_end_ns
        if start is not None:
            self._sink.record_latency(item_id, "first_played_ms", (t_ns - start) / 1e6, t_ns)

    def on_event(self, event: Event, t_ns: int) -> None:
        latency: tuple[str, str, float] | None = None
        with self._lock:
            if isinstance(event, SpeechStarted):
                # the provider's detector; a local VAD start shortly before it wins
                if self._speech_start_ns is None or self._user_end_ns is not None:
                    self._speech_start_ns = t_ns
                self._user_end_ns = None
            elif isinstance(event, SpeechStopped | InputCommitted):
                self._mark_user_end(t_ns)
            elif isinstance(event, InputTranscript) and event.final:
                start, end = self._speech_start_ns, self._user_end_ns
                self._sink.record_turn(
                    "user",
                    event.text,
                    t_ns,
                    item_id=event.item_id,
                    t_start_ns=start,
                    t_end_ns=end,
                )
            elif isinstance(event, ResponseStarted):
                pass
            elif isinstance(event, AudioDelta):
                reply = self._reply(event.item_id)
                if reply.first_audio_ns is None:
                    reply.first_audio_ns = t_ns
                    if reply.user_end_ns is not None:
                        latency = (event.item_id, "first_audio_ms", t_ns - reply.user_end_ns)
            elif isinstance(event, TranscriptDelta):
                reply = self._reply(event.item_id)
                reply.deltas.append(event.text)
                if reply.first_text_ns is None:
                    reply.first_text_ns = t_ns
                    if reply.user_end_ns is not None:
                        latency = (event.item_id, "first_text_ms", t_ns - reply.user_end_ns)
            elif isinstance(event, TranscriptDone):
                self._reply(event.item_id).text = event.text
            elif isinstance(event, ItemTruncated):
                self._reply(event.item_id).interrupted = True
            elif isinstance(event, Interrupted):
                for reply in self._replies.values():
                    reply.interrupted = True
            elif isinstance(event, ResponseDone | TurnComplete):
                status = event.status if isinstance(event, ResponseDone) else "completed"
                self._finish(t_ns, status)
                if isinstance(event, ResponseDone) and event.usage is not None:
                    self._sink.record_usage(event.usage, t_ns, response_id=event.response_id)
        if latency is not None:
            item_id, metric, ns = latency
            self._sink.record_latency(item_id, metric, ns / 1e6, t_ns)

    def flush(self, t_ns: int) -> None:
        """Write assistant turns still pending (session ending)."""
        with self._lock:
            self._finish(t_ns, "incomplete")

    # -- internals (lock held) ----------------------------------------------------------------

    def _mark_user_end(self, t_ns: int) -> None:
        if self._user_end_ns is None:
            self._user_end_ns = t_ns

    def _reply(self, item_id: str) -> _Reply:
        reply = self._replies.get(item_id)
        if reply is None:
            reply = _Reply(item_id, user_end_ns=self._user_end_ns)
            self._replies[item_id] = reply
            self._order.append(item_id)
        return reply

    def _finish(self, t_ns: int, status: str) -> None:
        for item_id in self._order:
            reply = self._replies[item_id]
            text = reply.text if reply.text is not None else "".join(reply.deltas)
            if not text and reply.first_audio_ns is None:
                continue
            final_status = "interrupted" if reply.interrupted else status
            if status == "cancelled":
                final_status = "interrupted"
            start = reply.first_played_ns or reply.first_audio_ns or reply.first_text_ns
            if reply.first_played_ns is None and reply.first_audio_ns is not None:
                self._done[item_id] = reply.user_end_ns
                if len(self._done) > 64:
                    self._done.pop(next(iter(self._done)))
            self._sink.record_turn(
                "assistant", text, t_ns, item_id=item_id, t_start_ns=start, status=final_status
            )
        self._replies.clear()
        self._order.clear()
        self._speech_start_ns = None
        self._user_end_ns = None
