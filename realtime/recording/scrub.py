"""Defensive redaction of secrets from anything written to a session file or export.

The session layer already keeps headers and URLs with keys away from the recorder; this is the
second line of defence. ``Scrubber.text()`` replaces key-shaped substrings (``Bearer ...``,
``sk-...``, ``AIza...``, ``ek_...``, ``?key=...``, JSON fields named like secrets), any exact
secret registered with ``add_secret()``, and every secret the process holds (``hold_secret()``:
API keys, backend tokens, the offline server's token — whatever their shape) by ``[REDACTED]``.
Thread-safe: ``add_secret``/``hold_secret`` may be called from any thread (each swaps an
immutable tuple, longest secret first so one secret inside another is still fully redacted).
"""

from __future__ import annotations

import re
import threading

REDACTED = "[REDACTED]"

_SECRET_KEYS = (
    r"authorization|proxy-authorization|api[_-]?key|x-goog-api-key|x-api-key|access[_-]?token|"
    r"refresh[_-]?token|id[_-]?token|token|client[_-]?secret|secret|password|ephemeral[_-]?key|"
    r"bearer|credentials?"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "api_key": "....", "Authorization": "Bearer ..."  (JSON string values)
    (
        re.compile(r'("(?:' + _SECRET_KEYS + r')"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE),
        r'\1"' + REDACTED + '"',
    ),
    # "client_secret": {"value": "...", ...}
    (
        re.compile(r'("(?:client[_-]?secret|credentials?)"\s*:\s*)\{[^{}]*\}', re.IGNORECASE),
        r'\1"' + REDACTED + '"',
    ),
    # header-ish text: "Authorization: Bearer x", "api-key: x", "x-goog-api-key=x"
    (
        re.compile(
            r"\b((?:proxy-)?authorization|api[_-]?key|x-goog-api-key|x-api-key)(\s*[:=]\s*)"
            r"(?:bearer\s+|basic\s+)?[^\s\"',;&]+",
            re.IGNORECASE,
        ),
        r"\1\2" + REDACTED,
    ),
    (re.compile(r"\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{6,}", re.IGNORECASE), r"\1 " + REDACTED),
    # URL query parameters
    (
        re.compile(
            r"([?&](?:key|api[_-]?key|access[_-]?token|token|auth|sig|signature)=)[^&\s\"'#]+",
            re.IGNORECASE,
        ),
        r"\1" + REDACTED,
    ),
    # well-known key shapes
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), REDACTED),
    # not inside base64 (audio): a key is not preceded by + or / nor followed by + / =
    (re.compile(r"(?<![+/])\bAIza[0-9A-Za-z_\-]{20,}(?![0-9A-Za-z_+/=-])"), REDACTED),
    (re.compile(r"\bek_[A-Za-z0-9_\-]{12,}"), REDACTED),
)
# A cheap pre-check so large audio messages that contain none of these skip the regexes.
_HINT = re.compile(
    r"bearer|basic|sk-|AIza|ek_|key|token|secret|password|authoriz|credential|[?&]sig",
    re.IGNORECASE,
)


#: Shortest value treated as a secret (shorter strings would redact ordinary words).
MIN_SECRET_LEN = 6

_held: tuple[str, ...] = ()
_held_lock = threading.Lock()


def hold_secret(value: str) -> None:
    """Register a secret this process holds: every ``Scrubber`` (recordings, exports, logs, the
    CLI's output) redacts this exact value from now on. Call it wherever a secret enters the
    process (a key read, a token generated or read from the environment)."""
    global _held
    if not value or len(value) < MIN_SECRET_LEN:
        return
    with _held_lock:
        if value not in _held:
            _held = tuple(sorted((*_held, value), key=len, reverse=True))


def held_secrets() -> tuple[str, ...]:
    """Every value registered with ``hold_secret``, longest first."""
    return _held


class Scrubber:
    """Redacts secrets. Register exact values (e.g. the API key in use) with ``add_secret``;
    values registered process-wide with ``hold_secret`` are always redacted too."""

    def __init__(self, secrets: tuple[str, ...] | list[str] = ()) -> None:
        self._secrets: tuple[str, ...] = ()
        for s in secrets:
            self.add_secret(s)

    def add_secret(self, value: str) -> None:
        """Redact this exact value everywhere from now on (values shorter than 6 are ignored)."""
        if value and len(value) >= MIN_SECRET_LEN and value not in self._secrets:
            self._secrets = tuple(sorted((*self._secrets, value), key=len, reverse=True))

    def _exact(self) -> tuple[str, ...]:
        held = _held
        if not self._secrets:
            return held
        if not held:
            return self._secrets
        return tuple(sorted({*self._secrets, *held}, key=len, reverse=True))

    def text(self, s: str) -> str:
        for secret in self._exact():
            if secret in s:
                s = s.replace(secret, REDACTED)
        if not _HINT.search(s):
            return s
        for pattern, repl in _PATTERNS:
            s = pattern.sub(repl, s)
        return s

    def data(self, b: bytes) -> bytes:
        """Scrub bytes: exact secrets as UTF-8 bytes; key shapes if the bytes are UTF-8 text."""
        for secret in self._exact():
            sb = secret.encode("utf-8")
            if sb in b:
                b = b.replace(sb, REDACTED.encode())
        try:
            text = b.decode("utf-8")
        except UnicodeDecodeError:
            return b
        cleaned = self.text(text)
        return b if cleaned == text else cleaned.encode("utf-8")


def scrub_text(s: str) -> str:
    """Key-shape redaction without registered secrets."""
    return _DEFAULT.text(s)


_DEFAULT = Scrubber()
