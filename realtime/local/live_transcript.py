"""Streaming transcription of the utterance in progress (``...input_audio_transcription.delta``).

While the user speaks, the growing utterance is re-decoded every ``interval_ms`` of audio
(audio time, so streaming faster than real time only means fewer re-decodes). Words that two
consecutive decodes agree on (``StablePrefix``, the "local agreement" policy) are final: they
are sent at once as a delta and every later decode is forced to start with them (Whisper's
``prefix``), so only the tail is searched again. When the turn is committed, ``end()`` hands the
sent text to the final decode, which is forced to start with it too: the deltas' concatenation
is always a prefix of the completed transcript.

Bounded work on a 2-core machine (the reply path comes first):

- one re-decode in flight per session, on ONE shared worker thread for all sessions, which
  decodes at the lowest CPU priority on its own copy of Whisper (``live_worker``): a re-decode
  in flight never delays the turn's judged or final transcript (it used to hold the shared
  Whisper for up to ~1 s at the end of a turn), it only uses idle CPU time;
- without that copy (``live_worker.background_whisper()`` is None), a re-decode is skipped
  (not queued) when the shared Whisper is busy with another decode (a final or speculative
  transcript of any session): the worker only try-locks ``models.whisper_lock``;
- a re-decode still queued on the worker when ``pause()``, ``end()`` or ``clear()`` comes is
  dropped unstarted (its result would be dropped anyway);
- re-decodes use the final decode's options, so when silence begins while a re-decode of the
  whole utterance is running, the ``Speculator`` takes its text (``running_decode``) instead
  of queueing a second decode behind it;
- nothing runs while the utterance is in silence (the ``Speculator`` decodes then) or when the
  session has no ``audio.input.transcription`` (no deltas to send).

Thread: ``LiveTranscript`` is used from the session's event-loop thread; decodes run on the
worker. ``StablePrefix`` is pure.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from realtime.local import live_worker
from realtime.local.models import Models
from realtime.local.stage_log import mark
from realtime.local.stt import DEFAULT_OPTIONS, decode_locked, decode_on, prepare

#: Re-decode the utterance every this many ms of audio.
INTERVAL_MS = 700
#: No re-decode before this much of the utterance (prefix padding included) is buffered.
MIN_AUDIO_MS = 700
#: After a re-decode was skipped (Whisper busy), try again after this much audio.
RETRY_MS = 120
#: The final decode's options, so a re-decode that covers the whole utterance can
#: serve as its transcript (``running_decode``).
LIVE_OPTIONS = DEFAULT_OPTIONS
_SENTENCE_END = ".?!,;:"
_BYTES_PER_MS_16K = 32


def _norm(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum() or c == "'")


class StablePrefix:
    """Local agreement over word sequences: a word is stable once two consecutive hypotheses
    (each starting with the stable text) agree on it and on every word before it.

    ``text`` is what has been emitted so far; it only ever grows, and ``hypothesis()`` returns
    exactly the piece appended (a delta, with its leading space). Sentence punctuation at the
    very end is held back (the next words decide it).
    """

    def __init__(self) -> None:
        self.text = ""
        self._previous: list[str] | None = None

    def hypothesis(self, text: str) -> str:
        """A new decode of the growing utterance; returns the newly stable text ("" if none)."""
        words = text.split()
        previous, self._previous = self._previous, words
        if previous is None:
            return ""
        agreed: list[str] = []
        for old, new in zip(previous, words):
            if old == new:
                agreed.append(new)
                continue
            if _norm(old) and _norm(old) == _norm(new):
                # Same word, different punctuation or case: keep what both spell alike.
                common = ""
                for a, b in zip(old, new):
                    if a != b:
                        break
                    common += a
                if common:
                    agreed.append(common)
            break
        stable = " ".join(agreed).rstrip(_SENTENCE_END)
        if len(stable) <= len(self.text) or not stable.startswith(self.text):
            return ""
        delta, self.text = stable[len(self.text) :], stable
        return delta

    def rest(self, final: str) -> str:
        """The last delta: what ``final`` adds to the emitted text ("" when it does not start
        with it; the completed transcript then corrects the deltas)."""
        final = " ".join(final.split())
        return final[len(self.text) :] if final.startswith(self.text) else ""


@dataclass(frozen=True)
class Handoff:
    """What the streaming part of a turn leaves to its final transcript."""

    #: The text already sent as deltas (the final decode is forced to start with it).
    sent: str
    #: The last delta send, to await before sending the final one (keeps deltas in order).
    sending: asyncio.Future[None] | None = None


SendDelta = Callable[[str, str], Awaitable[None]]


class LiveTranscript:
    """Re-decodes one session's utterance in progress and sends its stable deltas."""

    def __init__(
        self,
        models: Models,
        send_delta: SendDelta,
        *,
        enabled: Callable[[], bool],
        prompt: Callable[[], str | None],
        interval_ms: int = INTERVAL_MS,
        whisper: Callable[[], Any | None] = live_worker.background_whisper,
        worker: Callable[[], concurrent.futures.Executor] = live_worker.shared_worker,
    ) -> None:
        """``send_delta(item_id, delta)`` sends one delta event; ``enabled()`` says whether the
        session wants transcription events; ``prompt()`` is the Whisper prompt for this turn.
        ``whisper()`` (called on the worker) is the model re-decodes run on, None for the
        shared one; ``worker()`` the executor they run on (both: ``live_worker``'s)."""
        self._models = models
        self._whisper = whisper
        self._worker = worker
        #: Set when the current re-decode's result can no longer be used (pause/end/clear).
        self._stale = threading.Event()
        self._send_delta = send_delta
        self._enabled = enabled
        self._prompt = prompt
        self._interval = interval_ms * 16
        self._item: str | None = None
        self._stable = StablePrefix()
        self._generation = 0
        self._busy = False
        self._paused = False
        self._next_at = 0
        self._retry_at = 0
        self._sending: asyncio.Future[None] | None = None
        #: The re-decode in flight: (start sample, end sample, its prefix, future).
        self._running: tuple[int, int, str, concurrent.futures.Future[str | None]] | None = None
        #: Re-decodes run / skipped because Whisper was busy (for benchmarks and tests).
        self.decodes = 0
        self.skipped = 0

    @property
    def stable_text(self) -> str:
        """The text sent as deltas for the utterance in progress ("" outside one)."""
        return self._stable.text if self._item is not None else ""

    def begin(self, item_id: str) -> None:
        """Speech began: a new utterance whose item will be ``item_id``."""
        self._reset()
        self._item = item_id

    def pause(self) -> None:
        """Silence began inside the utterance: stop re-decoding; a result in flight is dropped
        (the speculative transcript is forced to start with ``stable_text`` as it is now)."""
        self._generation += 1
        self._paused = True
        self._stale.set()

    def running_decode(
        self, start_sample: int, voice_end_sample: int
    ) -> tuple[int, concurrent.futures.Future[str | None]] | None:
        """The re-decode in flight, as ``(end sample, future)``, if it decodes this utterance
        from ``start_sample`` through ``voice_end_sample`` with the current stable text as
        prefix (so the ``Speculator`` can take its text instead of decoding again)."""
        run = self._running
        if run is None or self._item is None or voice_end_sample < 0:
            return None
        start, end, prefix, fut = run
        if start != start_sample or end < voice_end_sample or prefix != self._stable.text:
            return None
        return end, fut

    def resume(self) -> None:
        """Speech resumed: re-decode at the next chance."""
        self._paused = False
        self._next_at = 0

    def feed(
        self,
        stream_samples: int,
        speech: Callable[[], tuple[int, bytes] | None],
        *,
        voice_stopped: bool = False,
    ) -> None:
        """Audio was appended (``stream_samples`` in total); ``speech()`` gives the utterance so
        far. Starts a re-decode when one is due and none is in flight, unless ``voice_stopped``
        (semantic_vad, the voice has stopped and ``pause()`` is yet to come): such a re-decode
        is dropped by that pause if the silence goes on, yet takes CPU time from the judged
        transcript (and, without ``live_worker``'s copy, holds Whisper ~0.5 s from it)."""
        if self._item is None or self._paused or self._busy or stream_samples < self._next_at:
            return
        if voice_stopped:
            return
        if not self._enabled():
            return
        got = speech()
        if got is None or len(got[1]) < MIN_AUDIO_MS * _BYTES_PER_MS_16K:
            return
        self._next_at = stream_samples + self._interval
        self._retry_at = stream_samples + RETRY_MS * 16
        self._busy = True
        generation, item = self._generation, self._item
        self._stale = threading.Event()
        fut = self._worker().submit(
            self._decode, got[1], self._prompt(), self._stable.text or None, self._stale
        )
        self._running = (got[0], got[0] + len(got[1]) // 2, self._stable.text, fut)
        asyncio.wrap_future(fut).add_done_callback(lambda f: self._decoded(f, generation, item))

    def _decode(
        self, pcm16_16k: bytes, prompt: str | None, prefix: str | None, stale: threading.Event
    ) -> str | None:
        """Worker: one decode ("" when there is nothing to decode), or None when it did not
        run: ``stale`` was set before it started (its result would be dropped; a
        ``running_decode`` taker then decodes itself) or it falls back to the shared Whisper
        and that is busy (skipped, not queued)."""
        if stale.is_set():
            mark("live_drop")
            return None
        audio = prepare(pcm16_16k, LIVE_OPTIONS)
        if audio is None:
            return ""
        if stale.is_set():
            mark("live_drop")
            return None
        whisper = self._whisper()
        if whisper is not None:
            mark("live_start", samples=len(pcm16_16k) // 2, own=True)
            try:
                return decode_on(whisper, audio, LIVE_OPTIONS, prompt=prompt, prefix=prefix)
            finally:
                mark("live_done")
        if not self._models.whisper_lock.acquire(blocking=False):
            mark("live_skip")
            return None
        try:
            mark("live_start", samples=len(pcm16_16k) // 2)
            return decode_locked(self._models, audio, LIVE_OPTIONS, prompt=prompt, prefix=prefix)
        finally:
            self._models.whisper_lock.release()
            mark("live_done")

    def _decoded(self, fut: asyncio.Future[str | None], generation: int, item: str) -> None:
        """Loop: a re-decode finished; send what became stable."""
        self._busy = False
        self._running = None
        if fut.cancelled() or fut.exception() is not None:
            return
        text = fut.result()
        if text is None:
            self.skipped += 1
            self._next_at = min(self._next_at, self._retry_at)
            return
        self.decodes += 1
        if generation != self._generation or item != self._item or self._paused:
            return
        self._hypothesis(item, text)

    def _hypothesis(self, item: str, text: str) -> None:
        delta = self._stable.hypothesis(text)
        if delta:
            self._sending = asyncio.ensure_future(self._send_after(self._sending, item, delta))

    def watch(self, speculation: concurrent.futures.Future[str] | None) -> None:
        """Silence began and the ``Speculator`` decodes the utterance so far (forced to start
        with ``stable_text``): its text is one more hypothesis, so words stabilise during a
        hesitation. Call right after ``pause()``. Stable text then stays a prefix of that
        decode, which is also the final transcript if the turn ends here."""
        if speculation is None or self._item is None:
            return
        generation, item = self._generation, self._item

        def done(fut: asyncio.Future[str]) -> None:
            if fut.cancelled() or fut.exception() is not None:
                return
            if generation == self._generation and item == self._item:
                self._hypothesis(item, fut.result())

        asyncio.wrap_future(speculation).add_done_callback(done)

    async def _send_after(self, before: asyncio.Future[None] | None, item: str, delta: str) -> None:
        if before is not None:
            await asyncio.shield(before)
        await self._send_delta(item, delta)

    def end(self, item_id: str) -> Handoff:
        """The turn ``item_id`` was committed: hand over what was sent and stop."""
        if item_id != self._item:
            self._reset()
            return Handoff("")
        handoff = Handoff(self._stable.text, self._sending)
        self._reset()
        return handoff

    def clear(self) -> None:
        """The buffer was cleared (or the session closed): forget the utterance."""
        self._reset()

    def _reset(self) -> None:
        self._generation += 1
        self._stale.set()
        self._item = None
        self._stable = StablePrefix()
        self._paused = False
        self._next_at = 0
        self._sending = None


def continues(sent: str, final: str) -> bool:
    """Whether ``final`` (whitespace-normalised) starts with the deltas' text ``sent``."""
    return " ".join(final.split()).startswith(sent)


async def agreeing(first: Awaitable[str], sent: str, redo: Callable[[], Awaitable[str]]) -> str:
    """The completed transcript of a turn whose deltas sent ``sent``: ``first`` (a decode made
    without that prefix, e.g. the deterministic one semantic_vad judged) when it starts with
    them, else ``redo()`` (a decode forced to start with ``sent``), so the deltas still add up
    to the completed transcript. Thread: event loop."""
    text = await first
    if not sent or continues(sent, text):
        return text
    return await redo()


def rest_of(handoff: Handoff, final: str) -> str:
    """The final delta of a turn: ``final`` minus what the handoff says was sent."""
    stable = StablePrefix()
    stable.text = handoff.sent
    return stable.rest(final)
