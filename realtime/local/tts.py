"""Text to speech with piper (en_US-joe-medium), resampled to 24 kHz PCM16 for the wire.

``Speaker(models).speak(text, cancel)`` yields 24 kHz PCM16 ``bytes`` per sentence piece.
Piper normalises each sentence to full scale; we synthesise at volume 0.9 to leave headroom
for the resampler. Thread: worker (blocking; checks ``cancel`` between sentences).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

from dsp.resample import StreamResampler
from realtime.local.models import Models
from realtime.openai_vocab import RATE_HZ

OUTPUT_RATE_HZ = RATE_HZ
#: 100 ms of 24 kHz PCM16: the largest ``response.output_audio.delta`` we send.
MAX_CHUNK_BYTES = OUTPUT_RATE_HZ // 10 * 2

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|\n+")
#: Words that open a new clause: the first piece of a long sentence may end before one.
_CLAUSE_START = re.compile(
    r"\s(?=(?:and|but|or|so|because|which|while|when|whereas|although|though|if|then)\s)"
)


def split_sentences(text: str) -> list[str]:
    """Split finished text into sentences (keeps their punctuation)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


class SentenceBuffer:
    """Accumulates streamed text; ``push`` returns the sentences completed so far.

    A sentence is complete at ``.!?;:`` followed by whitespace. ``flush`` returns the rest.
    A first sentence longer than ``first_max_chars`` (later ones: ``max_chars``) is cut at its
    last comma, else (the first only) before its last clause word ("and", "because", "which"...),
    else at a word once twice as long: the first audio is then one clause, synthesised sooner.
    """

    def __init__(self, max_chars: int = 160, first_max_chars: int = 60) -> None:
        self._buf = ""
        self._max = first_max_chars
        self._later_max = max_chars
        self._started = False

    def push(self, text: str) -> list[str]:
        self._buf += text
        out: list[str] = []
        while True:
            m = _SENTENCE_END.search(self._buf)
            if m is None:
                break
            piece, self._buf = self._buf[: m.start()].strip(), self._buf[m.end() :]
            if piece:
                out.append(piece)
        if len(self._buf) > self._max:
            cut = self._buf.rfind(", ", 0, self._later_max)
            clause = (
                [m.start() for m in _CLAUSE_START.finditer(self._buf, 20, 2 * self._max)]
                if not self._started
                else []
            )
            if cut > 20:
                out.append(self._buf[: cut + 1].strip())
                self._buf = self._buf[cut + 2 :]
            elif clause:
                out.append(self._buf[: clause[-1]].strip())
                self._buf = self._buf[clause[-1] + 1 :]
            elif len(self._buf) > 2 * self._max:
                # No comma either (a run-on reply): cut at a word boundary.
                space = self._buf.rfind(" ", 0, 2 * self._max)
                if space > 20:
                    out.append(self._buf[:space].strip())
                    self._buf = self._buf[space + 1 :]
        if out:
            # Only the first piece is cut early (at a comma), so the first audio comes sooner.
            self._max = self._later_max
            self._started = True
        return out

    def flush(self) -> list[str]:
        rest, self._buf = self._buf.strip(), ""
        return [rest] if rest else []


class Speaker:
    """Synthesises sentences with the shared piper voice (under ``models.piper_lock``)."""

    def __init__(self, models: Models, volume: float = 0.9) -> None:
        from piper import SynthesisConfig

        self._models = models
        self._config = SynthesisConfig(volume=volume)
        self.source_rate_hz = int(models.piper.config.sample_rate)

    def speak(
        self, text: str, cancel: threading.Event, length_scale: float = 1.0
    ) -> Iterator[bytes]:
        """Yield 24 kHz PCM16 mono for ``text``, one piece per sentence, until ``cancel``.
        ``length_scale`` is piper's pace (1.0 the voice's own; 1.5 is half as fast again)."""
        config = self._config
        if length_scale != 1.0:
            from piper import SynthesisConfig

            config = SynthesisConfig(volume=self._config.volume, length_scale=length_scale)
        for chunk_text in split_sentences(text) or [text]:
            if cancel.is_set():
                return
            with self._models.piper_lock:
                chunks = list(self._models.piper.synthesize(chunk_text, config))
            resampler = StreamResampler(self.source_rate_hz, OUTPUT_RATE_HZ)
            pcm = b"".join(resampler.process(c.audio_int16_bytes) for c in chunks)
            pcm += resampler.flush()
            if cancel.is_set():
                return
            if pcm:
                yield pcm


def chunk_audio(pcm: bytes, max_bytes: int = MAX_CHUNK_BYTES) -> list[bytes]:
    """Split PCM16 into wire chunks of at most ``max_bytes`` (even lengths, ≤ 100 ms)."""
    return [pcm[i : i + max_bytes] for i in range(0, len(pcm), max_bytes)]
