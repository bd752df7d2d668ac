"""Speech to text with faster-whisper (Whisper tiny.en, int8), plus speculative transcription.

``transcribe(models, pcm16_16k, options=..., prompt=..., prefix=...) -> str``: blocking; call it
from a worker thread.

- ``options`` (``DecodeOptions``): beam search, temperature fallback, the no-speech gate.
  ``DEFAULT_OPTIONS`` is what the server uses; ``GREEDY_OPTIONS`` is the old greedy decode
  (``bench/bench_wer.py`` measures both in one run).
- ``prompt``: earlier text (Whisper's "previous text" slot) that biases spelling and vocabulary
  towards the conversation and the words the camera reads (``stt_context.whisper_prompt``).
- ``prefix``: text the decoder is forced to start with (the stable prefix of the streaming
  transcript, ``live_transcript``); only the tokens after it are searched. The result then
  starts with ``prefix`` (whitespace-normalised).

``Speculator``: the turn detector calls ``start(samples_end, pcm)`` when silence begins (before the
turn is closed by ``silence_duration_ms``); the transcription runs in the executor meanwhile.
When the turn closes, ``result_for(samples_end)`` returns the speculative future if no more
speech arrived after the speculation started, so the transcript is ready when the turn closes.
Thread: ``Speculator`` is used from the event-loop thread only.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from dsp.vad import StreamingVad, VoiceEnd, VoiceStart
from realtime.local.models import Models
from realtime.local.stage_log import mark

#: Whisper hallucinates on near-silence; below this RMS (dBFS) we return "" without decoding.
_SILENCE_DBFS = -60.0


@dataclass(frozen=True)
class DecodeOptions:
    """How Whisper decodes. Thresholds follow Whisper's own (None switches a check off).

    ``temperatures``: the first is tried; the next only when a result fails the checks
    (``compression_ratio_threshold``: repetitive text; ``log_prob_threshold``: an unsure
    decode). ``no_speech_threshold``: a window whose no-speech probability is above it and whose
    decode is unsure (below ``log_prob_threshold``) yields no text. ``use_prompt``: pass the
    conversation/camera prompt (callers build it; the option lets a benchmark switch it off).
    """

    beam_size: int = 1
    temperatures: tuple[float, ...] = (0.0,)
    compression_ratio_threshold: float | None = None
    log_prob_threshold: float | None = None
    no_speech_threshold: float | None = None
    use_prompt: bool = False
    #: Shorten pauses inside the speech (``compact_pauses``): Whisper tends to end its text at
    #: a long hesitation and drop what follows.
    compact_pauses: bool = False
    #: Decode only when Silero hears voice somewhere in the audio (threshold ``VOICE_GATE``):
    #: on noise alone Whisper would otherwise write its prompt out.
    require_voice: bool = False


#: The decode before #11 (greedy, no fallback, no prompt): the benchmark's baseline.
GREEDY_OPTIONS = DecodeOptions()
#: What the server uses (measured by ``bench/bench_wer.py``; figures in the commit message).
#: Beam 5: same WER as greedy on clean clips, 6 points better on noisy espeak, ~40 ms slower.
DEFAULT_OPTIONS = DecodeOptions(
    beam_size=5,
    temperatures=(0.0, 0.2, 0.4, 0.6),
    compression_ratio_threshold=2.4,
    log_prob_threshold=-1.0,
    no_speech_threshold=0.6,
    use_prompt=True,
    compact_pauses=True,
    require_voice=True,
)


#: ``compact_pauses``: a pause of voice at least this long ...
PAUSE_MIN_MS = 300
#: ... keeps this much of its silence on each side (so words keep their tails and onsets).
PAUSE_KEEP_MS = 100


#: Silero probability that counts as voice for ``require_voice`` (below the turn detector's
#: 0.5: the gate must not drop quiet speech, only audio with no voice at all).
VOICE_GATE = 0.35


def _voice_events(pcm16_16k: bytes) -> list[VoiceStart | VoiceEnd]:
    vad = StreamingVad(threshold=VOICE_GATE, min_silence_ms=PAUSE_MIN_MS, min_speech_ms=64)
    return vad.process(pcm16_16k) + vad.finish()


def has_voice(pcm16_16k: bytes) -> bool:
    """Whether Silero hears voice anywhere in the audio. Thread: any."""
    return any(isinstance(ev, VoiceStart) for ev in _voice_events(pcm16_16k))


def compact_pauses(pcm16_16k: bytes, events: list[VoiceStart | VoiceEnd] | None = None) -> bytes:
    """The audio with every pause between voiced stretches (Silero VAD, ``PAUSE_MIN_MS`` or
    longer) cut down to 2 × ``PAUSE_KEEP_MS``; leading and trailing silence are kept.
    ``events``: the VAD's events for this audio if already computed.
    Thread: any (a fresh detector per call; ~1 ms per second of audio)."""
    if events is None:
        events = _voice_events(pcm16_16k)
    keep = PAUSE_KEEP_MS * 16
    cuts: list[tuple[int, int]] = []
    end: int | None = None
    for ev in events:
        if isinstance(ev, VoiceEnd):
            end = ev.sample
        elif isinstance(ev, VoiceStart) and end is not None:
            if ev.sample - end > 2 * keep:
                cuts.append((end + keep, ev.sample - keep))
            end = None
    if not cuts:
        return pcm16_16k
    out = bytearray()
    pos = 0
    for a, b in cuts:
        out += pcm16_16k[pos * 2 : a * 2]
        pos = b
    out += pcm16_16k[pos * 2 :]
    return bytes(out)


def pcm_to_float(pcm16_16k: bytes) -> np.ndarray:
    """PCM16 little-endian mono → float32 in [-1, 1)."""
    return np.frombuffer(pcm16_16k, dtype="<i2").astype(np.float32) / 32768.0


def transcribe(
    models: Models,
    pcm16_16k: bytes,
    options: DecodeOptions = DEFAULT_OPTIONS,
    *,
    prompt: str | None = None,
    prefix: str | None = None,
) -> str:
    """Transcribe 16 kHz PCM16 mono audio. Thread: worker (blocks for ~0.3-0.8 s on 2 cores:
    Whisper always encodes a 30 s window, so the cost hardly depends on the length)."""
    audio = prepare(pcm16_16k, options)
    if audio is None:
        return ""
    asked = time.monotonic()
    with models.whisper_lock:
        mark("stt_start", wait_ms=round((time.monotonic() - asked) * 1000), beam=options.beam_size)
        text = decode_locked(models, audio, options, prompt=prompt, prefix=prefix)
    mark("stt_done", samples=len(pcm16_16k) // 2)
    return text


def prepare(pcm16_16k: bytes, options: DecodeOptions) -> np.ndarray | None:
    """The float audio Whisper should decode (pauses compacted if asked), or None when there
    is nothing to decode (too short, near-silent, or no voice with ``require_voice``)."""
    if options.require_voice or options.compact_pauses:
        events = _voice_events(pcm16_16k)
        if options.require_voice and not any(isinstance(ev, VoiceStart) for ev in events):
            return None
        if options.compact_pauses:
            pcm16_16k = compact_pauses(pcm16_16k, events)
    audio = pcm_to_float(pcm16_16k)
    if audio.size < 1600:
        return None
    rms = float(np.sqrt(np.mean(audio * audio)))
    if rms <= 0 or 20 * np.log10(rms) < _SILENCE_DBFS:
        return None
    return audio


def decode_locked(
    models: Models,
    audio: np.ndarray,
    options: DecodeOptions,
    *,
    prompt: str | None = None,
    prefix: str | None = None,
) -> str:
    """Run Whisper on float32 16 kHz ``audio``; the caller holds ``models.whisper_lock``."""
    return decode_on(models.whisper, audio, options, prompt=prompt, prefix=prefix)


def decode_on(
    whisper: Any,
    audio: np.ndarray,
    options: DecodeOptions,
    *,
    prompt: str | None = None,
    prefix: str | None = None,
) -> str:
    """Run the faster-whisper model ``whisper`` on float32 16 kHz ``audio``; the caller makes
    sure nobody else uses that model meanwhile (``decode_locked``: ``whisper_lock``)."""
    temps = options.temperatures
    segments, _info = whisper.transcribe(
        audio,
        language="en",
        beam_size=options.beam_size,
        best_of=options.beam_size,
        temperature=list(temps) if len(temps) > 1 else temps[0],
        compression_ratio_threshold=options.compression_ratio_threshold,
        log_prob_threshold=options.log_prob_threshold,
        no_speech_threshold=options.no_speech_threshold,
        initial_prompt=(prompt or None) if options.use_prompt else None,
        prefix=prefix or None,
        without_timestamps=True,
        condition_on_previous_text=False,
        vad_filter=False,
    )
    text = " ".join(s.text.strip() for s in segments)
    return " ".join(text.split())


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

    def start(
        self,
        start_sample: int,
        end_sample: int,
        pcm16_16k: bytes,
        *,
        prompt: str | None = None,
        prefix: str | None = None,
        reuse: tuple[int, concurrent.futures.Future[str | None]] | None = None,
        options: DecodeOptions = DEFAULT_OPTIONS,
    ) -> None:
        """Silence began at ``end_sample``: transcribe ``pcm16_16k`` (the turn so far), forced
        to start with ``prefix`` (the streamed stable text) and biased by ``prompt``.

        ``reuse``: ``(covered_to_sample, future)`` of a decode of this same utterance already
        running with the same options and prefix (a streaming re-decode) whose audio reaches
        the end of the voice; its text is taken instead of decoding again (the turn's end
        then does not wait for it AND a new decode). A None result (that decode was skipped)
        falls back to decoding ``pcm16_16k``. ``options``: how to decode (``reuse`` must then
        be None unless they are ``DEFAULT_OPTIONS``, the live re-decodes' options)."""
        if self._spec is not None and self._spec.end_sample == end_sample:
            return
        self.discard()
        if reuse is None:
            fut = self._executor.submit(
                transcribe, self._models, pcm16_16k, options, prompt=prompt, prefix=prefix
            )
            self._spec = _Spec(start_sample, end_sample, fut)
            return
        covered_to, running = reuse
        chained: concurrent.futures.Future[str] = concurrent.futures.Future()

        def settle(source: concurrent.futures.Future[str]) -> None:
            if chained.cancelled():
                return
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                exc = source.exception() if not source.cancelled() else None
                if source.cancelled():
                    chained.cancel()
                elif exc is not None:
                    chained.set_exception(exc)
                else:
                    chained.set_result(source.result())

        def on_running(f: concurrent.futures.Future[str | None]) -> None:
            text = None if f.cancelled() or f.exception() is not None else f.result()
            if chained.cancelled():
                return
            if text is not None:
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    chained.set_result(text)
                return
            again = self._executor.submit(
                transcribe, self._models, pcm16_16k, prompt=prompt, prefix=prefix
            )
            again.add_done_callback(settle)

        running.add_done_callback(on_running)
        self._spec = _Spec(start_sample, min(end_sample, covered_to), chained)

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
