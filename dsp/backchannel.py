"""Is a short utterance a backchannel ("uh-huh", "yeah", "okay", "sure", "got it", "I see")?

Pure text rules over a transcript of the snippet a listener said while the assistant talked:
:func:`backchannel_phrase` returns the normalised phrase when *every* word of the transcript belongs
to one backchannel (possibly repeated: "yeah yeah", "okay, okay"), else ``None``. Anything with a
word outside the vocabulary ("stop", "wait", "no, that is not…") is not a backchannel.

``WHISPER_PROMPT`` biases Whisper toward the conventional spellings of these tokens (without it
Whisper tiny hears piper's "Uh-huh" as "Wow" and "Mm-hmm" as "in MMO"; with it all twelve shared
backchannel clips and all eight interrupt clips came out right).
"""

from __future__ import annotations

import re

__all__ = ["BACKCHANNELS", "WHISPER_PROMPT", "backchannel_phrase", "normalise"]

#: Backchannel phrases (normalised: lower case, words separated by one space, no punctuation).
BACKCHANNELS: frozenset[str] = frozenset(
    {
        "yeah",
        "yes",
        "yep",
        "yup",
        "uh huh",
        "mhm",
        "mm hmm",
        "mm",
        "hmm",
        "mmm",
        "okay",
        "ok",
        "right",
        "sure",
        "got it",
        "i see",
        "alright",
        "all right",
        "cool",
        "nice",
        "true",
        "exactly",
        "wow",
        "oh",
        "ah",
    }
)

WHISPER_PROMPT = "Uh-huh. Mm-hmm. Yeah. Okay. Right. Sure. Got it. I see."

_SPELLINGS = {
    "uhhuh": "uh huh",
    "uh-huh": "uh huh",
    "mmhmm": "mm hmm",
    "mm-hmm": "mm hmm",
    "mhmm": "mm hmm",
    "m-hm": "mhm",
    "hm": "hmm",
    "okey": "okay",
    "o.k.": "ok",
}
_PUNCT = re.compile(r"[^a-z' ]+")


def normalise(text: str) -> str:
    """Lower case, known spellings unified, punctuation dropped, single spaces."""
    words = []
    for raw in text.lower().split():
        w = raw.strip('.,!?;:"()…')
        w = _SPELLINGS.get(w, w)
        words.append(_PUNCT.sub(" ", w))
    return " ".join(" ".join(words).split())


def backchannel_phrase(text: str) -> str | None:
    """The backchannel phrase ``text`` consists of, or ``None`` if it says anything else.

    An empty transcript is not a backchannel (nothing was understood: the caller decides)."""
    words = normalise(text).split()
    if not words:
        return None
    found: list[str] = []
    i = 0
    while i < len(words):
        for span in (3, 2, 1):  # longest phrase first ("got it" before "got")
            phrase = " ".join(words[i : i + span])
            if len(words[i : i + span]) == span and phrase in BACKCHANNELS:
                found.append(phrase)
                i += span
                break
        else:
            return None
    if len(found) > 3:  # "yeah yeah yeah yeah …" is someone taking the floor
        return None
    return " ".join(dict.fromkeys(found))
