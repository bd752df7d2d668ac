"""Does the transcript so far read as a finished utterance? SmolLM2's view of the next token.

``TextTurnScorer.complete_p(history, text)`` evaluates the conversation as the language model
will see it (system prompt, few-shot, history: ``brain.build_messages``) followed by the user's
words so far, WITHOUT their closing punctuation (Whisper puts a "?" after "What is twelve" just as
after a finished question), and returns the probability that the next token closes the utterance:
``<|im_end|>``, ".", "?" or "!". An unfinished clause ("Can you tell me", "I want to know how
many") scores below 1e-4; a finished question or request scores about 0.04-0.8.

Measured on the shared turn clips' transcripts at the pause (see ``bench/bench_turns.py``): the
first halves of the paused questions score 0-0.04 unless Whisper misheard them into a sentence,
the complete questions 0.04-0.8. ``dsp.end_of_turn.EndOfTurnPolicy.text_threshold`` is the cut.

The scoring itself is ``dsp.text_end.TextEndScorer`` (the one implementation, shared with the
app's client-side end of turn) over the server's own SmolLM2 and its lock; this module only builds
the server's context. KV cache: the scoring prompt shares its prefix with the reply's prompt, and
llama.cpp's cache is trimmed only after the longest common prefix (as ``Llama.generate`` does), so
scoring costs the user's few words (~30-60 ms on one core) and the reply that follows re-evaluates
only what comes after them; the conversation prefix stays cached between turns.

Thread: any worker; takes ``models.llm_lock``. Without a local language model (a chat endpoint
replaces SmolLM2) ``complete_p`` returns None and the end-of-turn decision uses the transcript's
last word only.
"""

from __future__ import annotations

from dsp.text_end import TRAILING, TextEndScorer
from realtime.local.brain import BrainRequest, build_messages
from realtime.local.conversation import Turn
from realtime.local.memory import Memory
from realtime.local.models import Models


def chat_prompt(history: list[Turn], text: str) -> str:
    """The ChatML text SmolLM2's template renders for ``history`` plus the user's unfinished
    ``text`` (no ``<|im_end|>`` after it: the model is asked what comes next)."""
    turns = [*history, Turn("user", text)]
    req = BrainRequest(history=turns)
    messages = build_messages(req, memory=Memory.from_history(turns), with_scene=False)
    parts = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    return "".join(parts)[: -len("<|im_end|>\n")]


class TextTurnScorer:
    """P(the utterance is finished) from the local language model (see module docstring)."""

    def __init__(self, models: Models) -> None:
        self._models = models
        self._scorer: TextEndScorer | None = None
        self._last: tuple[str, float] | None = None  # rechecks of one silence ask again

    @property
    def available(self) -> bool:
        return self._models.llm is not None

    def complete_p(self, history: list[Turn], text: str) -> float | None:
        """P(next token ends the utterance) after ``text``; None without a local model or text.
        Blocking (~30-60 ms); thread: worker."""
        llm = self._models.llm
        bare = text.rstrip(TRAILING)
        if llm is None or not bare:
            return None
        prompt = chat_prompt(history, bare)
        last = self._last
        if last is not None and last[0] == prompt:
            return last[1]
        if self._scorer is None:
            self._scorer = TextEndScorer(llm=llm, lock=self._models.llm_lock)
        p = self._scorer.prompt_p(prompt)
        self._last = (prompt, p)
        return p
