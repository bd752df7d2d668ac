"""Deterministic answers for what a 135M language model gets wrong.

``answer(question, scene, now) -> str | None``: arithmetic, date and time, reading text, QR codes
and barcodes, counting faces, naming colours, the light level, and an honest "I can't recognise
objects offline". None means "let the language model answer". Pure: ``now`` is passed in.
"""

from __future__ import annotations

import datetime as dt
import math
import re

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
}
_NUM_WORD = "|".join(sorted([*_UNITS, *_SCALES], key=len, reverse=True))
_NUMBER = rf"(?:-?\d+(?:\.\d+)?|(?:(?:{_NUM_WORD})(?:[\s-]+(?:and\s+)?)?)+)"
_OP = r"(plus|minus|times|multiplied by|divided by|over|x|×|÷|\*|/|\+|-)"
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


def arithmetic(question: str) -> str | None:
    q = question.lower()
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
    words = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}[op]
    if op == "/" and b == 0:
        return f"{_say(a)} divided by zero is undefined."
    value = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0}[op]
    return f"{_say(a)} {words} {_say(b)} is {_say(value)}."


def date_time(question: str, now: dt.datetime) -> str | None:
    q = question.lower()
    if re.search(r"\bwhat time\b|\bthe time\b|\btime is it\b", q):
        return f"It's {now.strftime('%H:%M').lstrip('0') or '0'}."
    if re.search(r"\b(what|which) day\b|\bday is it\b|\bday of the week\b", q):
        return f"Today is {now.strftime('%A')}."
    if re.search(r"\bdate\b|\btoday\b|\bwhat month\b|\bwhat year\b", q):
        return f"Today is {now.strftime('%A, %B')} {now.day}, {now.year}."
    return None


_NO_CAMERA = "I don't have a camera picture yet. Turn the camera on and ask again."


def seeing(question: str, scene: SceneFacts | None) -> str | None:
    """Questions about the camera picture."""
    q = question.lower()
    if re.search(r"\bq\.?\s?r\b|\bbar ?code\b", q):
        if scene is None:
            return _NO_CAMERA
        codes = scene.qr_codes + scene.barcodes
        if not codes:
            return "I don't see a QR code or barcode in the picture."
        kind = "QR code" if scene.qr_codes else "barcode"
        return f"The {kind} says {'; '.join(codes)}."
    if re.search(r"\blight\b|\bdark\b|\bbright\b|\bdim\b|\blit\b", q):
        if scene is None:
            return _NO_CAMERA
        level = scene.light_level
        verdict = {
            "very dark": "It's very dark, too dark for reading.",
            "dim": "It's dim; a bit dark for reading.",
            "fairly bright": "The light is fairly bright, fine for reading.",
            "bright": "It's bright, plenty of light for reading.",
        }[level]
        return verdict
    if re.search(r"\bread\b|\btext\b|\bsign\b|\bsays?\b|\bwritten\b|\bwriting\b", q):
        if scene is None:
            return _NO_CAMERA
        if not scene.texts:
            return "I can't make out any text in the picture."
        what = "sign says" if "sign" in q else "text says"
        return f"The {what} {', '.join(scene.texts[:6])}."
    if re.search(r"\bfaces?\b|\bpeople\b|\bpersons?\b|\banyone\b|\bsomebody\b|\bsomeone\b", q):
        if scene is None:
            return _NO_CAMERA
        n = scene.faces
        if n == 0:
            return "I don't see any faces."
        return f"I see {n} face{'s' if n != 1 else ''}."
    if re.search(r"\bcolou?rs?\b", q):
        if scene is None:
            return _NO_CAMERA
        names = scene.colour_names(limit=5)
        if not names:
            return "I can't tell the colours in this picture."
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        prefix = ""
        if re.search(r"\bwhat colou?r (is|are) (the|my|this|that)\b", q):
            prefix = "I can't pick out single objects offline, but "
        return f"{prefix}the main colours I see are {listed}."
    if re.search(r"\bblurr?y\b|\bin focus\b|\bsharp\b", q):
        if scene is None:
            return _NO_CAMERA
        return "The picture is blurry." if scene.is_blurry else "The picture looks sharp."
    if re.search(
        r"\bwhat (is|are) (this|that|these|those|it)\b|\bwhat am i holding\b|\bhow many\b"
        r"|\bwhat do you see\b|\bwhat can you see\b|\bdescribe\b|\brecogni[sz]e\b|\bidentify\b"
        r"|\bwhat'?s in front\b|\bwhat object\b|\bwho is\b",
        q,
    ):
        base = (
            "I can't recognise objects offline. I can read text, scan QR codes, count faces, "
            "name colours and judge the light."
        )
        if scene is None or not re.search(r"\bsee\b|\bdescribe\b|\bin front\b", q):
            return base
        return base + " " + scene.summary()
    return None


def answer(question: str, scene: SceneFacts | None, now: dt.datetime) -> str | None:
    """The deterministic answer to ``question``, or None to let the language model reply."""
    question = question.strip()
    if not question:
        return None
    return arithmetic(question) or date_time(question, now) or seeing(question, scene)
