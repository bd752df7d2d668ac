"""Answers the input buffer's ``semantic_vad`` checkpoints (``turns.JudgeTurn``) off the event loop.

A checkpoint is judged from two sources, combined by ``dsp.end_of_turn``:

- the audio: Smart Turn v3.2's P(turn complete) (``TurnModel.mean_probability``: averaged over
  three end points 10 ms apart, in one batched model call; ~120-300 ms on a worker);
- the words: the transcript of the turn so far, scored by ``text_turn.TextTurnScorer`` (does it
  read as finished?) and checked for a last word that needs a continuation.

The transcript must be a function of the audio alone (the decision lands at the same audio time
however fast the audio comes, so it must also BE the same): it is the speculative transcription
the connection starts when the silence begins (``Speculator.pending``), decoded with
``JUDGE_OPTIONS``, the conversation's Whisper prompt and no forced prefix; without one, the same
decode of the checkpoint's audio here. Not the streamed ``stable_text`` as a prefix nor the
running re-decode: both depend on which re-decodes ran, i.e. on the worker's wall-clock timing
(measured: ``paused05_espeak`` cut on some runs only), and not Whisper's temperature fallback,
which samples (the same audio gave "Time is dampened." and "Time to sample." on three decodes).

Failures never leave the buffer waiting: a failed transcript judges on the audio alone; a
failed turn model answers 0.0 (incomplete), so the turn ends at the eagerness's cap.

Thread: ``judge`` is a coroutine on the connection's event loop; the models run in the executor.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import os
from dataclasses import dataclass, replace

from dsp.end_of_turn import TextCue
from realtime.local.conversation import Turn
from realtime.local.models import Models
from realtime.local.stage_log import mark
from realtime.local.stt import DEFAULT_OPTIONS, pcm_to_float, transcribe
from realtime.local.text_turn import TextTurnScorer
from realtime.local.turns import JudgeTurn

#: The judged transcript's decode: the server's beam search without the temperature fallback
#: (random sampling), so equal audio gives equal text.
JUDGE_OPTIONS = replace(DEFAULT_OPTIONS, temperatures=(0.0,))


@dataclass(frozen=True)
class Judgement:
    """What a checkpoint was judged on (the bench prints these)."""

    acoustic: float
    transcript: str | None
    text: TextCue | None


class TurnJudge:
    """One per connection (see module docstring)."""

    def __init__(self, models: Models, executor: concurrent.futures.Executor) -> None:
        self._models = models
        self._executor = executor
        self._acoustic = models.turn
        self._scorer = TextTurnScorer(models)

    async def judge(
        self,
        ask: JudgeTurn,
        speculative: concurrent.futures.Future[str] | None,
        history: list[Turn],
        acoustic_threshold: float,
        prompt: str | None = None,
    ) -> Judgement:
        """Judge ``ask``. ``speculative``: the transcription started for this turn's silence
        (with ``JUDGE_OPTIONS``, ``prompt`` and no prefix); ``history``: the conversation before
        this turn (for the text score); ``prompt``: its Whisper prompt.

        The turn model answers first; below ``acoustic_threshold`` the turn waits whatever the
        words say, so the transcript is not awaited (the audio is held while this runs: a short
        gap between words must not cost a whole transcription). The continuation-word hold is
        then not applied; the cap (1.3 s at auto) still outlasts the shared hesitations."""
        loop = asyncio.get_running_loop()
        acoustic = 0.0
        if self._acoustic is not None:
            with contextlib.suppress(Exception):
                acoustic = float(
                    await loop.run_in_executor(self._executor, self._acoustic_mean, ask.pcm16_16k)
                )
        mark("acoustic", p=round(acoustic, 3))
        if acoustic < acoustic_threshold:
            _log(ask, Judgement(acoustic, None, None))
            return Judgement(acoustic, None, None)
        transcript = await self._transcript(ask, speculative, prompt)
        mark("words")
        text: TextCue | None = None
        if transcript is not None:
            p: float | None = None
            if transcript.strip() and self._scorer.available:
                with contextlib.suppress(Exception):
                    p = await loop.run_in_executor(
                        self._executor, self._scorer.complete_p, history, transcript
                    )
            text = TextCue.of(transcript, p)
            mark("scored")
        verdict = Judgement(acoustic, transcript, text)
        _log(ask, verdict)
        return verdict

    def _acoustic_mean(self, pcm16_16k: bytes) -> float:
        """Smart Turn's P averaged over the audio ending 0, 10 and 20 ms earlier (its output
        jumps with the exact end sample, so one evaluation would let the chunking of the stream
        decide), the three in one batched call. Thread: worker."""
        model = self._acoustic
        assert model is not None
        return model.mean_probability(pcm_to_float(pcm16_16k))

    async def _transcript(
        self,
        ask: JudgeTurn,
        speculative: concurrent.futures.Future[str] | None,
        prompt: str | None,
    ) -> str | None:
        try:
            if speculative is not None and not speculative.cancelled():
                # Shielded: the commit that may follow reuses this same transcription.
                return await asyncio.shield(asyncio.wrap_future(speculative))
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor,
                functools.partial(
                    transcribe, self._models, ask.pcm16_16k, JUDGE_OPTIONS, prompt=prompt
                ),
            )
        except (Exception, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError) and not (
                speculative is not None and speculative.cancelled()
            ):
                raise
            return None


def _log(ask: JudgeTurn, verdict: Judgement) -> None:
    """With ``$VOICECAM_TURN_LOG`` set to a file, append one JSON line per checkpoint (the turn
    so far in samples, the silence, both scores, the transcript): the data behind
    ``dsp.end_of_turn``'s thresholds, and a check that equal audio gets equal judgements."""
    path = os.environ.get("VOICECAM_TURN_LOG")
    if not path:
        return
    text = verdict.text
    line = {
        "start_sample": ask.start_sample,
        "samples": len(ask.pcm16_16k) // 2,
        "silence_ms": ask.silence_ms,
        "acoustic": round(verdict.acoustic, 4),
        "transcript": verdict.transcript,
        "text_p": None if text is None or text.complete_p is None else round(text.complete_p, 5),
        "continuation": None if text is None else text.continuation,
    }
    with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
