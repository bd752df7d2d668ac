"""Deterministic answers for what a 135M language model gets wrong.

``answer(intent, question, scene, now, held) -> str | None`` answers a question that
``intent.classify`` confidently gave to a skill: arithmetic, date and time, reading text, QR codes
and barcodes, counting faces, the light, blur, the colour of a thing (the most salient, central
or held region), the colours in view, a description of the scene, and — only when asked to
identify something — an honest "I can't tell what objects are offline" followed by what it can
tell. None means "let the language model answer". Pure: ``now`` is passed in.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from realtime.local.intent import Intent, Kind
from realtime.local.regions import pick_object
from realtime.local.vision import SceneFacts

_UNITS = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_OPS = {
    "plus": "+",
    "add": "+",
    "and": "+",
    "+": "+",
    "minus": "-",
    "less": "-",
    "-": "-",
    "times": "*",
    "multiplied by": "*",
    "x": "*",
    "*": "*",
    "×": "*",
    "divided by": "/",
    "over": "/",
    "/": "/",
    "÷": "/",
    "percent of": "%",
    "% of": "%",
}
_NUM_WORD = "|".join(sorted([*_UNITS, *_SCALES], key=len, reverse=True))
_NUMBER = rf"(?:-?\d+(?:\.\d+)?|(?:(?:{_NUM_WORD})(?:[\s-]+(?:and\s+)?)?)+)"
_OP = r"(plus|minus|times|multiplied by|divided by|percent of|% of|over|x|×|÷|\*|/|\+|-)"
_ARITH = re.compile(rf"({_NUMBER})\s*{_OP}\s*({_NUMBER})", re.IGNORECASE)
_SQRT = re.compile(rf"square root of\s+({_NUMBER})", re.IGNORECASE)
_SQUARED = re.compile(rf"({_NUMBER})\s+squared", re.IGNORECASE)


def parse_number(text: str) -> float | None:
    """'twelve' → 12, 'one hundred and five' → 105, '3.5' → 3.5; None if not a number."""
    text = text.strip().lower().replace(",", "")
    try:
        return float(text)
    except ValueError:
        pass
    total = current = 0
    found = False
    for word in re.split(r"[\s-]+", text):
        if word == "and" or not word:
            continue
        if word in _UNITS:
            current += _UNITS[word]
            found = True
        elif word in _SCALES:
            current = max(current, 1) * _SCALES[word]
            if _SCALES[word] >= 1000:
                total += current
                current = 0
            found = True
        else:
            return None
    return float(total + current) if found else None


def _say(value: float) -> str:
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return f"{value:.4g}"


_VERB_ARITH = re.compile(
    rf"\b(multiply|divide|add|subtract|take)\s+({_NUMBER})\s+(by|and|to|from|away from)\s+"
    rf"({_NUMBER})",
    re.IGNORECASE,
)


def _verb_arithmetic(q: str) -> str | None:
    """'multiply 6 by 8', 'divide 10 by 4', 'add 2 and 3', 'subtract 5 from 9'."""
    m = _VERB_ARITH.search(q)
    if not m:
        return None
    verb, a, b = m.group(1).lower(), parse_number(m.group(2)), parse_number(m.group(4))
    if a is None or b is None:
        return None
    if verb == "multiply":
        return f"{_say(a)} times {_say(b)} is {_say(a * b)}."
    if verb == "divide":
        if b == 0:
            return f"{_say(a)} divided by zero is undefined."
        return f"{_say(a)} divided by {_say(b)} is {_say(a / b)}."
    if verb == "add":
        return f"{_say(a)} plus {_say(b)} is {_say(a + b)}."
    return f"{_say(b)} minus {_say(a)} is {_say(b - a)}."  # subtract/take a from b


def arithmetic(question: str) -> str | None:
    q = question.lower()
    if verbal := _verb_arithmetic(q):
        return verbal
    if m := _SQRT.search(q):
        n = parse_number(m.group(1))
        if n is not None and n >= 0:
            return f"The square root of {_say(n)} is {_say(math.sqrt(n))}."
    if m := _SQUARED.search(q):
        n = parse_number(m.group(1))
        if n is not None:
            return f"{_say(n)} squared is {_say(n * n)}."
    m = _ARITH.search(q)
    if not m:
        return None
    a, b = parse_number(m.group(1)), parse_number(m.group(3))
    op = _OPS.get(m.group(2).lower())
    if a is None or b is None or op is None:
        return None
    if op == "+" and m.group(2).lower() == "and" and "plus" not in q and "add" not in q:
        return None
    if op == "%":
        return f"{_say(a)} percent of {_say(b)} is {_say(a * b / 100)}."
    words = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}[op]
    if op == "/" and b == 0:
        return f"{_say(a)} divided by zero is undefined."
    value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0}[op]
    return f"{_say(a)} {words} {_say(b)} is {_say(value)}."


def time_now(now: dt.datetime) -> str:
    return f"It's {now.strftime('%H:%M').lstrip('0') or '0'}."


def date_today(question: str, now: dt.datetime) -> str:
    q = question.lower()
    if re.search(r"\b(what|which) year\b", q):
        return f"It's {now.year}."
    if re.search(r"\b(what|which) month\b", q):
        return f"It's {now.strftime('%B')}."
    if re.search(r"\bday\b", q) and not re.search(r"\bdate\b", q):
        return f"Today is {now.strftime('%A')}."
    return f"Today is {now.strftime('%A, %B')} {now.day}, {now.year}."


NO_CAMERA = "I don't have a camera picture yet. Turn the camera on and ask again."
#: Said only when asked to identify something.
CANNOT_IDENTIFY = "I can't tell what objects are offline"


def _codes(scene: SceneFacts) -> str:
    codes = scene.qr_codes + scene.barcodes
    if not codes:
        return "I don't see a QR code or barcode in the picture."
    kind = "QR code" if scene.qr_codes else "barcode"
    return f"The {kind} says {'; '.join(codes)}."


def _light(scene: SceneFacts) -> str:
    return {
        "very dark": "It's very dark, too dark for reading.",
        "dim": "It's dim; a bit dark for reading.",
        "fairly bright": "The light is fairly bright, fine for reading.",
        "bright": "It's bright, plenty of light for reading.",
    }[scene.light_level]


def _read(question: str, scene: SceneFacts) -> str:
    if not scene.texts:
        if scene.qr_codes or scene.barcodes:
            return "I can't make out any text, but there's a code. " + _codes(scene)
        return "I can't make out any text in the picture."
    what = "sign says" if "sign" in question.lower() else "text says"
    return f"The {what} {', '.join(scene.texts[:6])}."


def _faces(scene: SceneFacts) -> str:
    n = scene.faces
    if n == 0:
        return "I don't see any faces."
    return f"I see {n} face{'s' if n != 1 else ''}."


def _colour_of(intent: Intent, scene: SceneFacts, held: str | None) -> str:
    region = pick_object(scene.regions, intent.target)
    if region is None:
        names = scene.colour_names(limit=2)
        if not names:
            return "I can't tell the colours in this picture."
        return f"I can't pick out one thing, but the picture is mostly {' and '.join(names)}."
    if region.kind == "sign":
        return f"The sign is {region.colour}."
    if region.kind == "code":
        return f"The code is on a {region.colour} background."
    if held and ("hold" in intent.target or intent.target in ("", "thing", "object", "it")):
        return f"You told me you're holding {held}; the object there looks {region.colour}."
    thing = intent.target if intent.target not in ("", "thing", "object", "it") else ""
    if thing:
        return f"The {thing} looks {region.colour}; it's the {region.colour} object {region.place}."
    return f"It looks {region.colour}: the {region.colour} object {region.place}."


def _colours(scene: SceneFacts) -> str:
    named = [
        f"a {r.colour} {'sign' if r.kind == 'sign' else 'object'}"
        for r in scene.regions
        if r.kind != "code"
    ]
    names = scene.colour_names(limit=3)
    if not names and not named:
        return "I can't tell the colours in this picture."
    out = "I see " + _join(named[:4]) + ". " if named else ""
    if names:
        out += "Overall the picture is mostly " + _join(names) + "."
    return out.strip()


def _identify(scene: SceneFacts, held: str | None) -> str:
    if held:
        region = pick_object(scene.regions, "holding")
        where = f", and I see a {region.colour} object {region.place}" if region else ""
        return f"You told me you're holding {held}{where}."
    region = pick_object(scene.regions, "this")
    if region is None:
        return f"{CANNOT_IDENTIFY}, and nothing stands out in the picture. {scene.describe()}"
    return f"{CANNOT_IDENTIFY}, but I see {region.phrase()}."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


CAMERA_KINDS = frozenset(
    {
        Kind.READ_TEXT,
        Kind.CODES,
        Kind.FACES,
        Kind.LIGHT,
        Kind.BLUR,
        Kind.COLOUR_OF_THING,
        Kind.COLOURS,
        Kind.DESCRIBE,
        Kind.IDENTIFY,
    }
)


def answer(
    intent: Intent,
    question: str,
    scene: SceneFacts | None,
    now: dt.datetime,
    held: str | None = None,
) -> str | None:
    """The deterministic answer for a confident skill ``intent``, or None to let the language
    model reply (CHAT, memory kinds, or a sum the parser can't evaluate). ``held`` is what the
    user said they are holding, if they did."""
    kind = intent.kind
    if kind == Kind.ARITHMETIC:
        return arithmetic(question)
    if kind == Kind.TIME:
        return time_now(now)
    if kind == Kind.DATE:
        return date_today(question, now)
    if kind not in CAMERA_KINDS:
        return None
    if scene is None:
        if kind == Kind.IDENTIFY and held:
            return f"You told me you're holding {held}, but I don't have a camera picture yet."
        return NO_CAMERA
    if kind == Kind.CODES:
        return _codes(scene)
    if kind == Kind.LIGHT:
        return _light(scene)
    if kind == Kind.READ_TEXT:
        return _read(question, scene)
    if kind == Kind.FACES:
        return _faces(scene)
    if kind == Kind.BLUR:
        return "The picture is blurry." if scene.is_blurry else "The picture looks sharp."
    if kind == Kind.COLOUR_OF_THING:
        return _colour_of(intent, scene, held)
    if kind == Kind.COLOURS:
        return _colours(scene)
    if kind == Kind.DESCRIBE:
        return scene.describe()
    return _identify(scene, held)
