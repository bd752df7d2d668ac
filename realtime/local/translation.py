"""Translating words and short phrases offline with the FreeDict dictionaries (Debian packages).

``parse_request(text) -> TranslationRequest | None`` finds "how do you say X in French", "say X
in Spanish", "what's the German word for X", "translate X into Italian", "X in Portuguese?".
``Dictionaries.translate(request) -> str | None`` looks X up in FreeDict's English→language
dictionary (``dict-freedict-eng-LANG``) and checks every candidate against the reverse dictionary
(``dict-freedict-LANG-eng``): a candidate whose own translation leads back to X wins (so "cat"
gives "chat", not "mégère"). None when the phrase or the dictionary is missing: the caller then
lets a capable model answer, or says it doesn't know — never a made-up translation.

Files: ``/usr/share/dictd/freedict-SRC-DST.{index,dict.dz}`` (dictd format; ``.dict.dz`` is
dictzip: gzip with independently deflated chunks, so one entry is read without inflating the
whole file). The index is memory-mapped and searched as bytes (a few ms per look-up even on the
11 MB English-German index). Thread-safe after construction; lazily opened per language.
"""

from __future__ import annotations

import mmap
import re
import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path

DICT_DIR = Path("/usr/share/dictd")
#: Spoken language name → FreeDict code (the Debian packages in the Makefile's RUN_DEBS).
LANGUAGES: dict[str, str] = {
    "french": "fra",
    "spanish": "spa",
    "german": "deu",
    "italian": "ita",
    "portuguese": "por",
}
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_LANG = "|".join(LANGUAGES)
_PHRASE = r"[\"'“”‘’]?([a-z][a-z' -]{0,40}?)[\"'“”‘’]?"
#: "in" as speech-to-text hears it ("hello and German").
_IN = r"(?:in|into|to|and|an|on)"
#: Words speech-to-text puts before a phrase when it mishears "how do you say" or "say".
_FILLER = frozenset(
    ("say", "says", "said", "take", "tell", "have", "a", "you", "do", "how", "please", "me")
)
_REQUESTS = (
    re.compile(
        rf"\bhow (?:(?:do|would|can|should|could) (?:you|i|we) |to )say {_PHRASE} {_IN} ({_LANG})\b"
    ),
    re.compile(rf"\btranslate {_PHRASE} {_IN} ({_LANG})\b"),
    re.compile(rf"\bwhat(?:'s| is) the ({_LANG}) (?:word|phrase|term) for {_PHRASE}\W*$"),
    re.compile(rf"\bwhat(?:'s| is) {_PHRASE} {_IN} ({_LANG})\b"),
    re.compile(rf"^\W*(?:please |can you |could you )?say {_PHRASE} {_IN} ({_LANG})\b"),
    re.compile(rf"^\W*{_PHRASE} in ({_LANG})\W*$"),
)


@dataclass(frozen=True)
class TranslationRequest:
    phrase: str  # English, lower case
    language: str  # 'french', 'spanish'...


def parse_request(text: str) -> TranslationRequest | None:
    """The phrase and language of a translation request, or None."""
    t = " ".join(text.lower().replace("’", "'").split()).rstrip("?.! ")
    for i, rx in enumerate(_REQUESTS):
        m = rx.search(t)
        if m is None:
            continue
        phrase, lang = (m.group(2), m.group(1)) if i == 2 else (m.group(1), m.group(2))
        phrase = phrase.strip(" '\"")
        if phrase:
            return TranslationRequest(phrase, lang)
    return None


def _b64(s: bytes) -> int:
    n = 0
    for ch in s.decode("ascii"):
        n = n * 64 + _B64.index(ch)
    return n


class _DictZip:
    """Random access to a dictzip (``.dict.dz``) file."""

    def __init__(self, path: Path) -> None:
        self._data = path.read_bytes()
        d = self._data
        if d[:2] != b"\x1f\x8b" or not d[3] & 0x04:
            raise ValueError(f"{path} is not a dictzip file")
        xlen = struct.unpack_from("<H", d, 10)[0]
        extra = d[12 : 12 + xlen]
        pos = 12 + xlen
        self._chunk_len = 0
        self._sizes: list[int] = []
        i = 0
        while i + 4 <= len(extra):
            sid, slen = extra[i : i + 2], struct.unpack_from("<H", extra, i + 2)[0]
            if sid == b"RA":
                _ver, chlen, count = struct.unpack_from("<HHH", extra, i + 4)
                self._chunk_len = chlen
                self._sizes = list(struct.unpack_from(f"<{count}H", extra, i + 10))
            i += 4 + slen
        flags = d[3]
        for bit in (0x08, 0x10):  # file name, comment: zero-terminated
            if flags & bit:
                pos = d.index(b"\0", pos) + 1
        if flags & 0x02:
            pos += 2
        if not self._sizes:
            raise ValueError(f"{path} has no dictzip chunk table")
        self._offsets = [pos]
        for size in self._sizes:
            self._offsets.append(self._offsets[-1] + size)

    def read(self, offset: int, length: int) -> bytes:
        first, last = offset // self._chunk_len, (offset + length - 1) // self._chunk_len
        out = b""
        for c in range(first, min(last, len(self._sizes) - 1) + 1):
            raw = self._data[self._offsets[c] : self._offsets[c + 1]]
            out += zlib.decompressobj(-15).decompress(raw)
        start = offset - first * self._chunk_len
        return out[start : start + length]


class _Dictionary:
    """One FreeDict dictionary: headword → list of senses (each a list of translations)."""

    def __init__(self, src: str, dst: str) -> None:
        base = DICT_DIR / f"freedict-{src}-{dst}"
        with open(f"{base}.index", "rb") as f:
            self._index = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._dict = _DictZip(Path(f"{base}.dict.dz"))

    def senses(self, word: str) -> list[list[str]]:
        # Plain substring search per case variant: far faster than a regex over 11 MB.
        variants = dict.fromkeys((word, word.lower(), word[:1].upper() + word[1:].lower()))
        found: list[list[str]] = []
        index = self._index
        for variant in variants:
            for suffix in ("", "!", "?", "."):
                key = b"\n" + (variant + suffix).encode("utf-8") + b"\t"
                pos = 0 if index[: len(key) - 1] == key[1:] else index.find(key)
                while pos != -1:
                    start = pos + len(key) if pos else len(key) - 1
                    end = index.find(b"\n", start)
                    fields = index[start : end if end != -1 else len(index)].split(b"\t")
                    if len(fields) >= 2:
                        text = self._dict.read(_b64(fields[0]), _b64(fields[1]))
                        found += _parse_entry(text.decode("utf-8", "replace"))
                    pos = index.find(key, pos + 1)
        return found


def _clean(candidate: str) -> str:
    candidate = re.sub(r"<[^>]*>|\[[^\]]*\]|\([^)]*\)", "", candidate)
    return " ".join(candidate.split()).strip(" .!?;")


def _parse_entry(text: str) -> list[list[str]]:
    """Senses of one entry: its lines after the headword, less notes, examples and links."""
    senses: list[list[str]] = []
    for line in text.splitlines()[1:]:
        s = line.strip()
        if (
            not s
            or s.startswith(('"', "Note:", "Synonym:", "see:", "Syn:", "{"))
            or line[:3] == "   "
        ):
            continue
        s = re.sub(r"^\d+\.\s*", "", s)
        items = [_clean(c) for c in s.split(",")]
        items = [c for c in items if c and not c.startswith(("Note", "see"))]
        if items:
            senses.append(items)
    return senses


class Dictionaries:
    """The installed FreeDict dictionaries, opened on first use."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str], _Dictionary | None] = {}
        self._lock = threading.Lock()

    def _get(self, src: str, dst: str) -> _Dictionary | None:
        with self._lock:
            if (src, dst) not in self._open:
                try:
                    self._open[(src, dst)] = _Dictionary(src, dst)
                except (OSError, ValueError):
                    self._open[(src, dst)] = None
            return self._open[(src, dst)]

    def available(self, language: str) -> bool:
        code = LANGUAGES.get(language)
        return code is not None and self._get("eng", code) is not None

    def translate(self, req: TranslationRequest) -> str | None:
        """'In French, good night is "bonne nuit".', or None if not in the dictionary."""
        code = LANGUAGES.get(req.language)
        forward = self._get("eng", code) if code else None
        if forward is None:
            return None
        # Speech-to-text may put misheard filler before the phrase ("take good night in
        # French", "have a you say thank you in Spanish"): drop such words, never others
        # ("good morning" must not become "morning").
        words = req.phrase.split()
        for drop in range(len(words)):
            if drop and words[drop - 1] not in _FILLER:
                break
            word = " ".join(words[drop:])
            senses = self._senses(forward, word)
            if senses:
                best = self._choose(word, senses, code or "")
                return f'In {req.language.capitalize()}, {word} is "{best}".'
        return None

    @staticmethod
    def _senses(forward: _Dictionary, word: str) -> list[list[str]]:
        senses = forward.senses(word)
        if not senses and word == "thank you":
            senses = forward.senses("thanks")
        for article in ("a ", "an ", "the ", "to "):
            if not senses and word.startswith(article):
                senses = forward.senses(word[len(article) :])
        return senses

    def _choose(self, word: str, senses: list[list[str]], code: str) -> str:
        """The candidate whose reverse translation leads back to ``word``: first those that
        translate back to it as a sense's main word, then the one with the most senses (a
        common word, not a technical term), then dictionary order. Without a reverse
        dictionary, the first candidate."""
        reverse = self._get(code, "eng")
        candidates = list(dict.fromkeys(c for sense in senses for c in sense[:3]))
        if reverse is None:
            return candidates[0]
        targets = {word.lower()} | ({"thanks"} if word.lower() == "thank you" else set())
        best, best_score = senses[0][0], (0, 0, 0)
        for order, candidate in enumerate(candidates[:8]):
            back = reverse.senses(candidate)
            main = any(s and s[0].lower() in targets for s in back)
            anywhere = any(b.lower() in targets for s in back for b in s)
            # Commonness (how many senses it has) separates "Hund" from "Bandhaken" for a
            # single word; a phrase is taken in dictionary order.
            common = int(anywhere and " " not in word and len(back) >= 3)
            score = (int(main), int(anywhere), common)
            if score > best_score or (score == best_score and order == 0):
                best, best_score = candidate, score
        return best
