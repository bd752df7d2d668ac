"""What the client's end-of-turn worker computes at a checkpoint (``audio.client_turns``).

``judge_turn`` runs on a worker thread: the turn model's P(complete) for the turn's audio and,
when it says complete and word readers are given, the turn's words (a transcriber, then a text
scorer) as a ``dsp.end_of_turn.TextCue``. Failing readers never hide the model's verdict. Also the
process's one shared Smart Turn model (``SharedTurnModel``) and the reader protocols.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dsp.end_of_turn import TextCue
from dsp.turn_model import TurnModel

log = logging.getLogger(__name__)

__all__ = [
    "Heard",
    "Readers",
    "SharedTurnModel",
    "TextScorer",
    "TurnJudge",
    "TurnTranscriber",
    "Verdict",
    "judge_turn",
    "text_cue",
]

FloatArray = npt.NDArray[np.float32]


class TurnJudge(Protocol):
    """P(turn complete) for 16 kHz float audio ending now (``dsp.turn_model.TurnModel``).

    Called on the worker thread; may raise (e.g. ``TurnModelMissing``)."""

    def probability(self, audio: FloatArray) -> float: ...


class TurnTranscriber(Protocol):
    """The words of 16 kHz PCM16 speech (``dsp.snippet_stt.SnippetTranscriber``); blocking,
    called on the worker thread."""

    def load(self) -> None:
        """Load the model now (blocking); raises what ``transcribe`` would."""

    def transcribe(self, pcm16_16k: bytes) -> str: ...


class TextScorer(Protocol):
    """P(the words are a finished utterance) (``dsp.text_end.TextEndScorer``); blocking,
    called on the worker thread."""

    def load(self) -> None:
        """Load the model now (blocking); raises what ``complete_p`` would."""

    def complete_p(self, text: str) -> float: ...


def text_cue(transcript: str, complete_p: float | None = None) -> TextCue | None:
    """What the words say about the turn (None: no words). Whisper closes even a cut-off
    phrase with a full stop ("Read me the text on.") or an ellipsis: a trailing "." / "..." /
    "," is dropped first, so the last word decides; "?" and "!" are kept. ``complete_p``: the
    text scorer's verdict, if one was asked."""
    words = transcript.strip()
    if not words:
        return None
    trailing_ellipsis = words.endswith(("...", "\u2026", ","))
    cue = TextCue.of(words.rstrip(".\u2026, "), complete_p)
    return TextCue(continuation=True, complete_p=complete_p) if trailing_ellipsis else cue


class SharedTurnModel:
    """The process's one Smart Turn model, loaded on first use (any thread; thread-safe).

    Loading takes about 0.3 s; ``ClientTurnEnd.warm()`` does it on the worker when the engine
    starts, so the first checkpoint does not pay for it."""

    _lock = threading.Lock()
    _model: TurnModel | None = None

    def probability(self, audio: FloatArray) -> float:
        """P(complete) averaged over the audio ending 0, 10 and 20 ms earlier, in one batched
        model call (``TurnModel.mean_probability``, as the offline server judges): the model's
        output jumps with the exact last sample (0.32 vs 0.54 averaged on one complete clip's
        first checkpoint), so one evaluation would let the engine's batching decide."""
        return self.model().mean_probability(audio)

    @classmethod
    def model(cls) -> TurnModel:
        with cls._lock:
            if cls._model is None:
                cls._model = TurnModel.load()
            return cls._model


@dataclass(frozen=True)
class Verdict:
    """One checkpoint's answer: the model's P(complete), the words' cue (None: not read)."""

    acoustic: float
    text: TextCue | None
    transcript: str | None  # what the words were (kept for the rechecks of the same silence)


@dataclass(frozen=True)
class Readers:
    """The optional word readers: a transcriber and a text scorer over its transcript."""

    words: TurnTranscriber | None
    scorer: TextScorer | None

    def load(self) -> None:
        """Load both now (blocking; a worker thread), so the first turn's checkpoint does not
        wait for them: cold from disk they took longer than medium patience's 1.3 s cap. A
        reader that cannot load is only logged here; its checkpoint says so (``judge_turn``)."""
        for reader in (self.words, self.scorer):
            if reader is None:
                continue
            try:
                reader.load()
            except Exception as exc:
                log.info("a turn word reader could not load ahead: %s", exc)


Heard = str | concurrent.futures.Future[str]


def judge_turn(
    judge: TurnJudge, readers: Readers, threshold: float, pcm16: bytes, heard: Heard | None
) -> Verdict:
    """Worker thread: the model's verdict on PCM16 audio, and the words' when the model says
    complete (a hesitation it hears needs no transcript). ``heard``: the transcript of this
    same speech, or its transcription started when the voice paused (only silence was added
    since)."""
    audio = np.frombuffer(pcm16, dtype="<i2").astype(np.float32) / 32768.0
    p = judge.probability(audio)
    if readers.words is None or p < threshold:
        return Verdict(p, None, heard if isinstance(heard, str) else None)
    try:  # without the words the model's verdict still stands
        if isinstance(heard, concurrent.futures.Future):
            heard = heard.result()
        transcript = heard if heard is not None else readers.words.transcribe(pcm16)
    except concurrent.futures.CancelledError:  # the voice came back: this verdict is dropped
        return Verdict(p, None, None)
    except Exception as exc:
        log.warning("the turn's words could not be read: %s", exc)
        return Verdict(p, None, None)
    complete_p: float | None = None
    if readers.scorer is not None and transcript:
        try:
            complete_p = readers.scorer.complete_p(transcript)
        except Exception as exc:
            log.warning("the turn's words could not be scored: %s", exc)
    return Verdict(p, text_cue(transcript, complete_p), transcript)
