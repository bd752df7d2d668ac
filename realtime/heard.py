"""What of a reply the user heard: the one rule that cuts its text where playback stopped.

Used by the app's transcript (``app.transcript.Turn.heard_text``) and by the reconnect context
(``realtime.context_log.ContextLog``), so both keep the same words. Pure.

The text is cut at ``fraction`` of its characters (the played fraction of the received audio,
rounded to the nearest character), moved back to the start of the word it falls in.
"""

from __future__ import annotations


def heard_index(text: str, fraction: float) -> int:
    """Index splitting ``text`` into heard (before) and unheard (after)."""
    if fraction >= 1.0:
        return len(text)
    if fraction <= 0.0:
        return 0
    i = round(len(text) * fraction)
    if i >= len(text):
        return len(text)
    while i > 0 and not text[i - 1].isspace() and not text[i].isspace():
        i -= 1
    return i


def heard_text(text: str, fraction: float, mark: str = "") -> str:
    """The heard part of ``text`` (right-stripped); ``mark`` (e.g. "…") is appended when the
    text was cut and something remains."""
    i = heard_index(text, fraction)
    head = text[:i].rstrip()
    return head + mark if head and i < len(text) else head


def unheard_text(text: str, fraction: float) -> str:
    """The part generated but never played (left-stripped)."""
    return text[heard_index(text, fraction) :].lstrip()
