"""Input audio of one offline-server session: ``input_audio_buffer.*`` events and turn detection.

``on_append`` feeds the client's 24 kHz PCM16 to the ``InputBuffer`` (VAD, end-of-turn policy)
and acts on each ``TurnEvent`` it returns, in order:

- ``SpeechBegan``: start the live transcript, drop a prepared reply, barge in on a running
  response (``interrupt_response``), send ``speech_started``;
- ``SilenceBegan``: decode the utterance so far speculatively and, for server VAD, prepare the
  reply to it (``reply_prefetch``);
- ``JudgeTurn`` (semantic_vad): judge the checkpoint on a worker; audio is held meanwhile and
  ``_judge_turn`` hands the verdict back to the buffer;
- ``SpeechResumed``: the speculation and a prepared reply are stale;
- ``SpeechEnded``: send ``speech_stopped``;
- ``TurnCommitted``: ``TurnCommit.commit`` (VAD turn).

The client's ``input_audio_buffer.commit``/``clear`` are handled here too.

Thread: the server's event-loop thread. ``_turn_lock`` keeps the buffer's events in order
between appends and a judgement that finishes in between. Times: ``audio_*_ms`` in ms of
session audio; samples at 16 kHz.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from realtime.local import protocol
from realtime.local.conversation import Conversation
from realtime.local.live_transcript import LiveTranscript
from realtime.local.outbox import Outbox
from realtime.local.protocol import ClientEventError
from realtime.local.replies import Replies
from realtime.local.reply_prefetch import ReplyPrefetch
from realtime.local.stage_log import mark
from realtime.local.stt import Speculator
from realtime.local.stt_context import whisper_prompt
from realtime.local.turn_commit import TurnCommit
from realtime.local.turn_judge import JUDGE_OPTIONS, TurnJudge
from realtime.local.turns import (
    CommitTooShort,
    InputBuffer,
    JudgeTurn,
    SilenceBegan,
    SpeechBegan,
    SpeechEnded,
    SpeechResumed,
    TurnCommitted,
    TurnEvent,
)


class InputAudio:
    """Drives the session's ``InputBuffer`` and the work its turn events start."""

    def __init__(
        self,
        *,
        outbox: Outbox,
        conversation: Conversation,
        input_buffer: InputBuffer,
        turn_judge: TurnJudge,
        speculator: Speculator,
        live: LiveTranscript,
        prefetch: ReplyPrefetch,
        replies: Replies,
        turns: TurnCommit,
    ) -> None:
        self._outbox = outbox
        self._conversation = conversation
        self._input = input_buffer
        self._turn_judge = turn_judge
        self._speculator = speculator
        self._live = live
        self._prefetch = prefetch
        self._replies = replies
        self._turns = turns
        self._judging: asyncio.Task[None] | None = None
        self._turn_lock = asyncio.Lock()

    def close(self) -> None:
        """The session closed: stop a running semantic_vad judgement."""
        if self._judging is not None:
            self._judging.cancel()

    # ------------------------------------------------------------------ client events

    async def on_append(self, event: dict[str, Any]) -> None:
        """``input_audio_buffer.append``: buffer the audio and act on the turn events."""
        pcm = protocol.decode_audio(event)
        async with self._turn_lock:
            for ev in self._input.append(pcm):
                await self._turn_event(ev)
            self._live.feed(
                self._input.stream_samples,
                self._input.speech_so_far,
                voice_stopped=self._input.end_of_turn is not None and self._input.quiet,
            )

    async def on_commit(self, event: dict[str, Any]) -> None:
        """``input_audio_buffer.commit``: the client ends the turn (never creates a response)."""
        try:
            turn = self._input.commit()
        except CommitTooShort as exc:
            raise ClientEventError(
                str(exc),
                "input_audio_buffer_commit_empty",
                event_id=event.get("event_id"),
                event_type="input_audio_buffer.commit",
            ) from None
        self._speculator.discard()
        self._prefetch.drop()
        await self._turns.commit(turn, from_vad=False)

    async def on_clear(self, event: dict[str, Any]) -> None:
        """``input_audio_buffer.clear``: forget the buffered audio and all work on it."""
        self._input.clear()
        self._live.clear()
        self._speculator.discard()
        self._prefetch.drop()
        await self._outbox.emit("input_audio_buffer.cleared")

    async def on_output_clear(self, event: dict[str, Any]) -> None:
        """``output_audio_buffer.clear``: refused, as OpenAI does over WebSocket."""
        raise ClientEventError(
            "output_audio_buffer.clear is only available over WebRTC/SIP; over WebSocket "
            "send response.cancel and conversation.item.truncate.",
            "invalid_value",
            event_id=event.get("event_id"),
            event_type="output_audio_buffer.clear",
        )

    # ------------------------------------------------------------------ turn events

    async def _judge_turn(self, ask: JudgeTurn) -> None:
        """A semantic_vad checkpoint (audio is held meanwhile): judge it, then let the buffer go
        on. When the turn goes on, the reply is prepared speculatively (adopted if the turn then
        ends without more speech) if the turn model says complete but the words hold the turn
        open, or if this was the silence's last check (``EndOfTurn.rechecks_left``): the turn
        then ends at the cap unless speech resumes, and the reply is ready by then instead of
        starting at the commit (measured: 0.15-0.6 s from the commit to its first audio). Not
        before the last check: the reply holds the language model, which a re-check's words
        score would wait for."""
        acoustic, text = 0.0, None  # on failure: wait for the cap
        eot = self._input.end_of_turn
        try:
            threshold = eot.policy.acoustic_threshold if eot is not None else 0.5
            verdict = await self._turn_judge.judge(
                ask,
                self._speculator.pending,
                self._conversation.history(),
                threshold,
                whisper_prompt(self._conversation.items),
            )
            acoustic, text = verdict.acoustic, verdict.text
        except Exception as exc:
            print(f"voicecam-server: turn judgement failed: {exc!r}", file=sys.stderr, flush=True)
        async with self._turn_lock:
            events = self._input.judged(ask.ask_id, acoustic, text)
            mark("judged", ended=any(isinstance(ev, TurnCommitted) for ev in events))
            eot = self._input.end_of_turn
            if (
                not events
                and eot is not None
                and (acoustic >= eot.policy.acoustic_threshold or not eot.rechecks_left)
                and self._prefetch.idle
            ):
                self._prefetch.start()
            for ev in events:
                await self._turn_event(ev)

    async def _turn_event(self, ev: TurnEvent) -> None:
        if isinstance(ev, SpeechBegan):
            self._live.begin(ev.item_id)
            self._prefetch.drop()
            params = self._input.params
            if params is not None and params.interrupt_response:
                await self._replies.cancel_running("turn_detected")
            await self._outbox.emit(
                "input_audio_buffer.speech_started",
                audio_start_ms=ev.audio_start_ms,
                item_id=ev.item_id,
            )
        elif isinstance(ev, SilenceBegan):
            mark("silence", voice_end_ms=ev.voice_end_sample // 16)
            self._live.pause()
            prompt = whisper_prompt(self._conversation.items)
            if self._input.end_of_turn is not None:  # judged: a function of the audio only
                self._speculator.start(
                    ev.start_sample,
                    ev.end_sample,
                    ev.pcm16_16k,
                    prompt=prompt,
                    options=JUDGE_OPTIONS,
                )
            else:
                self._speculator.start(
                    ev.start_sample,
                    ev.end_sample,
                    ev.pcm16_16k,
                    prompt=prompt,
                    prefix=self._live.stable_text or None,
                    reuse=self._live.running_decode(ev.start_sample, ev.voice_end_sample),
                )
            self._live.watch(self._speculator.pending)
            if self._input.end_of_turn is None:  # semantic_vad prepares after its judgement
                self._prefetch.start()
        elif isinstance(ev, JudgeTurn):
            mark("ask", silence_ms=ev.silence_ms)
            self._judging = asyncio.ensure_future(self._judge_turn(ev))
        elif isinstance(ev, SpeechResumed):
            self._live.resume()
            self._speculator.discard()
            self._prefetch.drop()
        elif isinstance(ev, SpeechEnded):
            await self._outbox.emit(
                "input_audio_buffer.speech_stopped",
                audio_end_ms=ev.audio_end_ms,
                item_id=ev.item_id,
            )
        elif isinstance(ev, TurnCommitted):
            await self._turns.commit(ev, from_vad=True)
