"""Dialogue memory: facts the user stated and the last answer, read from the conversation.

``Memory.from_history(turns)`` is a pure function of the turns the model may see (what was
heard, after truncation), so a speculative reply and the real one derive the same memory, and
deleting an item forgets what it said. Facts are kept as ``Fact(key, value)`` with the newest
statement winning ("my name is Sam" ... "call me Sue" → name = Sue).

Keys: ``name``, ``holding``, ``age``, ``home``, ``favourite <thing>``, ``likes`` (several, in
order), ``dislikes``. ``recall(question)`` answers a question about them deterministically (a
135M model invents stories instead), ``acknowledge(statement)`` confirms a statement, and
``prompt_line()`` is the compact form given to a language model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from realtime.local.conversation import Turn


@dataclass(frozen=True)
class Fact:
    key: str
    value: str


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_STOP = r"(?=\s*(?:[.,!?;]|\band\b|\bbut\b|\bso\b|\bwhat\b|\bcan\b|$))"
_NAME_WORD = r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'-]*"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "name",
        _rx(
            rf"\b(?:my name is|my name's|i'?m called|i am called|call me)\s+"
            rf"({_NAME_WORD}(?:\s+{_NAME_WORD})?){_STOP}"
        ),
    ),
    (
        "name",
        _rx(
            rf"(?:^|[.!?]\s+)\W*(?:(?:hi|hello|hey)\W+)?(?:i'?m|i am)\s+({_NAME_WORD})"
            r"\s*(?=[.!?,]|$)"
        ),
    ),
    ("holding", _rx(rf"\b(?:i'?m|i am) holding\s+(.{{2,60}}?){_STOP}")),
    ("holding", _rx(rf"^\W*this is my\s+(.{{2,40}}?){_STOP}")),
    ("age", _rx(r"\b(?:i'?m|i am)\s+(\d{1,3}|[a-z]+(?:[- ][a-z]+)?)\s+years?\s+old\b")),
    ("home", _rx(rf"\b(?:i live in|i'?m from|i am from|i come from)\s+(.{{2,40}}?){_STOP}")),
    ("favourite", _rx(rf"\bmy fav(?:ou?rite)?\s+([a-z]+(?:\s[a-z]+)?)\s+is\s+(.{{1,40}}?){_STOP}")),
    ("likes", _rx(rf"\bi (?:really )?(?:like|love|enjoy|prefer)\s+(.{{2,50}}?){_STOP}")),
    ("dislikes", _rx(rf"\bi (?:really )?(?:hate|dislike|don'?t like)\s+(.{{2,50}}?){_STOP}")),
)
#: "I'm X" is only a name when X is not an ordinary word about a state.
_NOT_NAMES = frozenset(
    [
        "fine",
        "good",
        "ok",
        "okay",
        "tired",
        "back",
        "here",
        "ready",
        "sorry",
        "hungry",
        "happy",
        "sad",
        "busy",
        "done",
        "home",
        "sure",
        "well",
        "cold",
        "hot",
        "bored",
        "lost",
        "new",
        "great",
        "alright",
        "confused",
        "curious",
        "listening",
        "thirsty",
    ]
)
_MINE = _rx(r"\bmy\b")


def _your(value: str) -> str:
    """'my keys' → 'your keys' (the answer speaks to the user)."""
    return _MINE.sub("your", value)


@dataclass(frozen=True)
class Memory:
    """What the user told us, newest statement winning, and the assistant's last answer."""

    facts: tuple[Fact, ...] = ()
    last_answer: str = ""
    #: Answers given so far, oldest first (the last one is ``last_answer``).
    answers: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def from_history(cls, turns: Sequence[Turn]) -> Memory:
        facts: dict[str, Fact] = {}
        likes: list[str] = []
        dislikes: list[str] = []
        answers: list[str] = []
        for turn in turns:
            if turn.role == "assistant":
                if turn.text.strip():
                    answers.append(turn.text.strip())
                continue
            if turn.role != "user":
                continue
            for fact in extract_facts(turn.text):
                if fact.key == "likes":
                    likes = [v for v in likes if v != fact.value] + [fact.value]
                    dislikes = [v for v in dislikes if v != fact.value]
                elif fact.key == "dislikes":
                    dislikes = [v for v in dislikes if v != fact.value] + [fact.value]
                    likes = [v for v in likes if v != fact.value]
                else:
                    facts[fact.key] = fact
        out = list(facts.values())
        out += [Fact("likes", v) for v in likes] + [Fact("dislikes", v) for v in dislikes]
        return cls(tuple(out), answers[-1] if answers else "", tuple(answers))

    def get(self, key: str) -> str | None:
        for fact in reversed(self.facts):
            if fact.key == key:
                return fact.value
        return None

    def holding(self) -> str | None:
        """What the user said they hold, as said back to them ('your keys'), or None."""
        held = self.get("holding")
        return _your(held) if held else None

    def values(self, key: str) -> list[str]:
        return [f.value for f in self.facts if f.key == key]

    def prompt_line(self) -> str:
        """The facts in a compact form for a language model ('' when none)."""
        parts: list[str] = []
        for fact in self.facts:
            key = fact.key.replace("favourite ", "favourite ")
            parts.append(f"{key}: {fact.value}")
        return ("About the user: " + "; ".join(parts) + ".") if parts else ""

    def recall(self, question: str) -> str:
        """A deterministic answer to a question about a stated fact (what the user said, or
        that they haven't told us)."""
        q = question.lower()
        if re.search(r"\bname\b|\bwho am i\b", q):
            name = self.get("name")
            return f"Your name is {name}." if name else "You haven't told me your name yet."
        m = re.search(r"\bfav(?:ou?rite)?\s+([a-z]+(?:\s[a-z]+)?)", q) or re.search(
            r"\bwhat ([a-z]+) do i (?:like|love|prefer|enjoy) (?:most|best)\b", q
        )
        if m:
            thing = m.group(1).strip()
            value = self.get(f"favourite {thing}")
            if value is None:  # "favourite colour" asked, "favourite color" stated
                norm = thing.replace("colour", "color")
                value = next(
                    (
                        f.value
                        for f in self.facts
                        if f.key.startswith("favourite ")
                        and f.key[10:].replace("colour", "color") == norm
                    ),
                    None,
                )
            if value:
                return f"Your favourite {thing} is {_your(value)}."
            return f"You haven't told me your favourite {thing} yet."
        if re.search(r"\bholding\b|\bin my hand\b", q):
            held = self.get("holding")
            if held:
                return f"You told me you're holding {_your(held)}."
            return "You haven't told me what you're holding."
        if re.search(r"\bhow old\b|\bage\b", q):
            age = self.get("age")
            return (
                f"You told me you're {age} years old." if age else "You haven't told me your age."
            )
        if re.search(r"\blive\b|\bfrom\b", q):
            home = self.get("home")
            return f"You told me {home}." if home else "You haven't told me where you live."
        likes = self.values("likes")
        if re.search(r"\b(like|love|enjoy|prefer)\b", q):
            if likes:
                return "You told me you like " + _join([_your(v) for v in likes]) + "."
            return "You haven't told me what you like yet."
        return "I don't remember you telling me that."

    @staticmethod
    def acknowledge(statement: str) -> str | None:
        """A short confirmation of the facts in ``statement`` (None if it states none)."""
        facts = extract_facts(statement)
        if not facts:
            return None
        fact = facts[0]
        if fact.key == "name":
            return f"Nice to meet you, {fact.value}."
        if fact.key == "holding":
            return f"Got it, you're holding {_your(fact.value)}."
        if fact.key.startswith("favourite "):
            return f"Got it, your {fact.key} is {_your(fact.value)}."
        if fact.key == "likes":
            return f"Got it, you like {_your(fact.value)}."
        if fact.key == "dislikes":
            return f"Got it, you don't like {_your(fact.value)}."
        if fact.key == "age":
            return f"Got it, you're {fact.value}."
        return f"Got it, {fact.value}."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _clean(value: str) -> str:
    value = value.strip(" .,!?;:\"'")
    return re.sub(r"\s+", " ", value)


def extract_facts(text: str) -> list[Fact]:
    """The facts stated in one user utterance, in the order of the patterns."""
    found: list[Fact] = []
    for key, rx in _PATTERNS:
        for m in rx.finditer(text):
            if key == "favourite":
                thing, value = _clean(m.group(1)).lower(), _clean(m.group(2))
                if value:
                    found.append(Fact(f"favourite {thing}", value))
                continue
            value = _clean(m.group(1))
            if not value:
                continue
            if key == "name":
                if value.lower().split()[0] in _NOT_NAMES:
                    continue
                value = " ".join(w[:1].upper() + w[1:] for w in value.split())
                if any(f.key == "name" for f in found):
                    continue
            found.append(Fact(key, value))
    return found
