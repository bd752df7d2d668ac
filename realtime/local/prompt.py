"""What the language model sees: the system prompt, few-shot exchanges, history and scene note.

``build_messages(request)`` turns a ``BrainRequest`` (the history ending with the user's turn,
client instructions, scene facts) into OpenAI-style chat messages for SmolLM2 or a chat endpoint.
Pure and fast (no model, no clock); called on the worker that generates the answer
(``brain.Brain.generate``) and by the text-turn path. Limits are in characters and turns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from realtime.local import skills
from realtime.local.conversation import Turn
from realtime.local.intent import classify
from realtime.local.memory import Memory
from realtime.local.vision import SceneFacts

SYSTEM_PROMPT = (
    "You are VoiceCam, a friendly voice assistant that runs offline on this computer. "
    "Answer in one or two short, plain sentences that sound natural when spoken. "
    "If you don't know, or can't tell from the camera facts, say so; never make things up. "
    "Never use lists, markdown or emoji."
)
#: Two short English exchanges: they keep a 135M model in English and to the point.
FEW_SHOT: tuple[tuple[str, str], ...] = (
    ("What is the capital of Italy?", "The capital of Italy is Rome."),
    ("What do cows eat?", "Cows eat grass."),
)
#: Client instructions are appended to the system prompt, cut to this many characters
#: (a 135M model loses the thread with long prompts).
MAX_INSTRUCTIONS_CHARS = 400
#: The small model sees only the last few turns (prompt evaluation dominates its latency).
MAX_HISTORY_TURNS = 6
MAX_TURN_CHARS = 400


@dataclass(frozen=True)
class BrainRequest:
    """Everything one response is generated from. ``history`` ends with the user's turn."""

    history: list[Turn]
    #: The user's newest turn was audio with no recognisable words.
    unheard: bool = False
    instructions: str = ""
    scene: SceneFacts | None = None
    image_jpeg: bytes | None = None
    max_tokens: int = 96
    temperature: float | None = None


def last_user_text(history: list[Turn]) -> str:
    """The text of the newest user turn (empty if there is none)."""
    for turn in reversed(history):
        if turn.role == "user":
            return turn.text
    return ""


def without_camera_turns(history: list[Turn]) -> list[Turn]:
    """The history less earlier questions about the camera and their answers (a small model
    repeats camera readouts it finds in the history when asked something else)."""
    out: list[Turn] = []
    skipping = False
    for i, turn in enumerate(history):
        last = i == len(history) - 1
        if turn.role == "user":
            skipping = not last and classify(turn.text).kind in skills.CAMERA_KINDS
        if not skipping:
            out.append(turn)
    return out


def build_messages(
    req: BrainRequest, *, memory: Memory | None = None, with_scene: bool = True
) -> list[dict[str, Any]]:
    """Chat messages: system prompt (+ remembered facts, + client instructions), the few-shot
    exchanges, the history, and the camera facts as a note on the last user message.

    The note goes last, not into the system prompt, so the prompt prefix stays the same from
    turn to turn and llama.cpp reuses its evaluated tokens (the frame changes every turn).
    Without the scene (``with_scene=False``), earlier camera questions and answers are left out
    of the history too.
    """
    system = SYSTEM_PROMPT
    facts = memory.prompt_line() if memory is not None else ""
    if facts:
        system += " " + facts
    if req.instructions.strip():
        system += " " + req.instructions.strip()[:MAX_INSTRUCTIONS_CHARS]
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for question, answer in FEW_SHOT:
        messages.append({"role": "user", "content": question})
        messages.append({"role": "assistant", "content": answer})
    history = req.history if with_scene else without_camera_turns(req.history)
    for turn in history[-MAX_HISTORY_TURNS:]:
        text = turn.text if len(turn.text) <= MAX_TURN_CHARS else turn.text[-MAX_TURN_CHARS:]
        messages.append({"role": turn.role, "content": text})
    if with_scene and req.scene is not None:
        note = f"({req.scene.summary()})"
        if messages[-1]["role"] == "user":
            messages[-1] = {"role": "user", "content": f"{messages[-1]['content']}\n{note}"}
        else:
            messages.append({"role": "user", "content": note})
    return messages
