"""Speech to text with faster-whisper (Whisper tiny.en, int8), plus speculative transcription.

``transcribe(models, pcm16_16k) -> str``: blocking; call it from a worker thread.

``Speculator``: the turn detector calls ``start(samples_end, pcm)`` when silence begins (before the
turn is closed by ``silence_duration_ms``); the transcription runs in the executor meanwhile.
When the turn closes, ``result_for(samples_end)`` returns the speculative future if no more
speech arrived after the speculation started, so the transcript is ready when the turn closes.
Thread: ``Speculator`` is used from the event-loop thread only.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass

import numpy as np

from realtime.local.models import Models

#: Whisper hallucinates on near-silence; below this RMS (dBFS) we return "" without decoding.
_SILENCE_DBFS = -60.0


def transcribe(models: Models, pcm16_16k: bytes) -> str:
    """Transcribe 16 kHz PCM16 mono audio. Thread: worker (blocks for ~0.3-0.6 s)."""
    audio = np.frombuffer(pcm16_16k, dtype=np.int16).astype(np.float32) / 32768.0
    if audio.size < 1600:
        return ""
    rms = float(np.sqrt(np.mean(audio * audio)))
    if rms <= 0 or 20 * np.log10(rms) < _SILENCE_DBFS:
        return ""
    with models.whisper_lock:
        segments, _info = models.whisper.transcribe(
            audio,
            language="en",
            # Greedy: same WER as beam 5 on the shared set, less CPU on 2 shared cores.
            beam_size=1,
            without_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        text = " ".join(s.text.strip() for s in segments)
    return text.strip()


@dataclass
class _Spec:
    start_sample: int
    end_sample: int
    future: concurrent.futures.Future[str]


class Speculator:
    """Start transcribing when silence begins; reuse the result if the turn then closes."""

    def __init__(self, models: Models, executor: concurrent.futures.Executor) -> None:
        self._models = models
        self._executor = executor
        self._spec: _Spec | None = None

    def start(self, start_sample: int, end_sample: int, pcm16_16k: bytes) -> None:
        """Silence began at ``end_sample``: transcribe ``pcm16_16k`` (the turn so far)."""
        if self._spec is not None and self._spec.end_sample == end_sample:
            return
        self.discard()
        fut = self._executor.submit(transcribe, self._models, pcm16_16k)
        self._spec = _Spec(start_sample, end_sample, fut)

    @property
    def pending(self) -> concurrent.futures.Future[str] | None:
        """The current speculative transcription, if any (not yet taken or discarded)."""
        return self._spec.future if self._spec is not None else None

    def discard(self) -> None:
        """Speech resumed (or the buffer was cleared): the speculation is stale."""
        if self._spec is not None:
            self._spec.future.cancel()
            self._spec = None

    def take(
        self, start_sample: int, last_voiced_sample: int
    ) -> concurrent.futures.Future[str] | None:
        """The speculative future covering a turn that started at ``start_sample`` and whose
        last voiced sample is ``last_voiced_sample``, or None if it does not cover it."""
        spec, self._spec = self._spec, None
        if spec is None or spec.future.cancelled():
            return None
        if spec.start_sample == start_sample and spec.end_sample >= last_voiced_sample:
            return spec.future
        spec.future.cancel()
        return None
