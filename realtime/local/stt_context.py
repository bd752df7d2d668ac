"""The prompt that biases Whisper towards what this conversation is about.

``whisper_prompt(items)`` → text for Whisper's "previous text" slot, or None when there is
nothing to say. It holds, newest last (Whisper attends most to the end of its prompt):

1. the words the camera reads: OCR lines of the newest analysed frame (``SceneFacts.texts``),
   plus the text of QR codes and barcodes, as "On screen: EXIT, Coffee." — so a user asking
   about the "EXIT sign" is heard as such;
2. the last few things said (user transcripts and the assistant's heard words), trimmed to the
   last ``MAX_PROMPT_WORDS`` words.

Frames whose analysis is still running are skipped (the prompt never waits). Pure apart from
reading finished futures. Thread: the session's event-loop thread.
"""

from __future__ import annotations

from realtime.local.conversation import Item
from realtime.local.vision import SceneFacts

#: Whisper's prompt holds at most 223 tokens; this keeps it short (a long prompt costs decode
#: time and makes Whisper more likely to copy it on unclear audio).
MAX_PROMPT_WORDS = 48
#: At most this many camera words (the largest text first, as OCR lists them).
MAX_SCREEN_WORDS = 16
#: At most this many recent items are looked at for the conversation part.
RECENT_ITEMS = 4


def _finished_scene(item: Item) -> SceneFacts | None:
    task = item.scene_task
    if task is None or not task.done() or task.cancelled() or task.exception() is not None:
        return None
    return task.result()


def screen_words(items: list[Item]) -> list[str]:
    """Words of the newest analysed frame's text (OCR lines, QR and barcode payloads)."""
    for item in reversed(items):
        if not item.has_image:
            continue
        scene = _finished_scene(item)
        if scene is None:
            continue
        words: list[str] = []
        for line in (*scene.texts, *scene.qr_codes, *scene.barcodes):
            for word in line.split():
                if word not in words:
                    words.append(word)
        return words[:MAX_SCREEN_WORDS]
    return []


def recent_words(items: list[Item]) -> list[str]:
    """The last words said in the conversation (user and assistant messages, oldest first)."""
    said = [i.text() for i in items if i.role in ("user", "assistant") and not i.has_image]
    words = " ".join(t for t in said[-RECENT_ITEMS:] if t).split()
    return words[-MAX_PROMPT_WORDS:]


def whisper_prompt(items: list[Item]) -> str | None:
    """The prompt for the next user turn (see module docstring), or None."""
    screen = screen_words(items)
    recent = recent_words(items)
    budget = MAX_PROMPT_WORDS - len(screen)
    parts: list[str] = []
    if screen:
        parts.append("On screen: " + ", ".join(screen) + ".")
    if recent and budget > 0:
        parts.append(" ".join(recent[-budget:]))
    return " ".join(parts) or None
