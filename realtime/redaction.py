"""Keeping secrets out of logs and messages: an endpoint's secret values, redaction, URLs fit
for messages, and the logger adapter handed to websockets (it logs request headers at DEBUG)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from realtime.core import Endpoint

#: Authorization schemes: a header holding only one of these holds no secret.
AUTH_SCHEMES = frozenset(("bearer", "basic", "token", "key"))


def secret_values(endpoint: Endpoint) -> tuple[str, ...]:
    """Every secret string of ``endpoint`` (header values and their bare tokens)."""
    names = {n.lower() for n in endpoint.secret_headers}
    found: set[str] = set()
    for name, value in endpoint.headers:
        words = value.split()
        if name.lower() not in names or not words:
            continue
        if len(words) == 1 and words[0].lower() in AUTH_SCHEMES:
            continue  # "Bearer " with no token: nothing secret (holding it would cut "Bearer x")
        found.add(value)
        if len(words[-1]) >= 4:
            found.add(words[-1])
    query = urlsplit(endpoint.url).query
    for part in query.split("&"):
        key, _, value = part.partition("=")
        if key.lower() in {"key", "api_key", "api-key", "token", "access_token"} and value:
            found.add(value)
    return tuple(sorted(found, key=len, reverse=True))


def redact(text: str, secrets: Iterable[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "[redacted]")
    return text


def safe_url(url: str) -> str:
    """``url`` without query, fragment or user info: fit for logs and messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def host_port(url: str) -> str:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = 443 if parts.scheme in ("wss", "https") else 80
    host = parts.hostname or "?"
    return f"{host}:{port}"


class _RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """Handed to websockets: it logs request headers (the key!) at DEBUG level."""

    def __init__(self, logger: logging.Logger, secrets: tuple[str, ...]) -> None:
        super().__init__(logger, {})
        self._secrets = secrets

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg)
        if args:
            try:
                text = text % args
            except (TypeError, ValueError):
                text = f"{text} {args!r}"
        kwargs.pop("extra", None)
        self.logger.log(level, redact(text, self._secrets), **kwargs)
