"""What a question is asking for: scored patterns on the transcript, with a confidence.

``classify(text) -> Intent`` is pure and fast (a few dozen precompiled regular expressions,
well under a millisecond). Each skill has *cues* (patterns that are its question, with a weight)
and *vetoes* (near-misses that contain its words without being its question: "the sign for
infinity", "read me a poem", "say good night in French", "how fast is light"). The score of an
intent is the strongest cue that matched minus the strongest veto, clamped to 0..1. The best
intent wins if its score reaches ``CONFIDENT``; otherwise the question goes to the language model
(``Kind.CHAT``): when unsure, prefer the model.

``Intent.about_camera`` tells whether a chat question refers to what the camera sees ("is this
healthy?", "look at this"), so the small model is only shown the scene when it matters.
"""

from __future__ import annotations

from dataclasses import dataclass

from realtime.local.intent_cues import (
    CAMERA_WORDS,
    CUES,
    GLOBAL_VETOES,
    NO_GLOBAL_VETO,
    SLOWER,
    TARGET,
    VETOES,
    VISUAL_WORDS,
    Cue,
    Kind,
)
from realtime.local.translation import parse_request

__all__ = ["CONFIDENT", "Intent", "Kind", "classify"]

#: An intent below this score is not trusted: the language model answers instead.
CONFIDENT = 0.6


@dataclass(frozen=True)
class Intent:
    """The classification of one utterance. ``score`` is 0..1; ``reason`` names the pattern
    that decided (for logs and tests); ``slower`` is set on REPEAT when a slower pace was asked;
    ``target`` is the thing asked about ("mug" in "what colour is the mug")."""

    kind: Kind
    score: float
    reason: str
    slower: bool = False
    target: str = ""
    about_camera: bool = False
    #: Names the picture outright ("can you see", "in the picture", "I'm holding").
    visual: bool = False


def _best(cues: tuple[Cue, ...], text: str) -> tuple[float, str]:
    best, why = 0.0, ""
    for rx, weight, reason in cues:
        if weight > best and rx.search(text):
            best, why = weight, reason
    return best, why


def classify(text: str) -> Intent:
    """The intent of one utterance (see module docstring). Pure; thread-safe."""
    t = " ".join(text.strip().lower().replace("’", "'").split())
    about_camera = bool(CAMERA_WORDS.search(t))
    visual = bool(VISUAL_WORDS.search(t))
    if not t:
        return Intent(Kind.CHAT, 1.0, "empty")
    global_veto, global_why = _best(GLOBAL_VETOES, t)
    if global_veto:  # "read me that poem", "say this in French": not about the picture
        about_camera = visual = False
    scored: list[tuple[float, Kind, str]] = []
    for kind, cues in CUES.items():
        score, why = _best(cues, t)
        if score == 0.0:
            continue
        veto, veto_why = _best(VETOES[kind], t)
        if kind not in NO_GLOBAL_VETO and global_veto > veto:
            veto, veto_why = global_veto, global_why
        if veto:
            why = f"{why}, but {veto_why}"
        scored.append((max(0.0, score - veto), kind, why))
    if parse_request(t) is not None:
        scored.append((0.9, Kind.TRANSLATE, "asks for a word in another language"))
    if not scored:
        return Intent(Kind.CHAT, 1.0, "no skill pattern", about_camera=about_camera, visual=visual)
    scored.sort(key=lambda s: -s[0])
    score, kind, why = scored[0]
    if score < CONFIDENT:
        return Intent(
            Kind.CHAT, round(1.0 - score, 2), why, about_camera=about_camera, visual=visual
        )
    target = ""
    if kind == Kind.COLOUR_OF_THING and (m := TARGET.search(t)):
        target = (m.group(1) or m.group(2) or "").strip()
    return Intent(
        kind,
        round(score, 2),
        why,
        slower=kind == Kind.REPEAT and bool(SLOWER.search(t)),
        target=target,
        about_camera=about_camera,
        visual=visual,
    )
