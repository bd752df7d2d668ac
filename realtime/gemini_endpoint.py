"""Where a Gemini Live session connects with an API key (the Gemini API or a gateway); pure.

Vertex AI (a bearer token, a regional host) is ``realtime.gemini_vertex``.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from realtime import _wire
from realtime.core import Endpoint

DEFAULT_HOST = "wss://generativelanguage.googleapis.com"
WS_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"


def endpoint(api_key: str, base_url: str | None = None) -> Endpoint:
    """Where to connect. The key goes in the ``x-goog-api-key`` header, never in the URL.

    ``base_url`` is a host root such as ``http://127.0.0.1:8765`` (→ ``ws://127.0.0.1:8765/ws/
    google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent``) or a full
    ``ws(s)://`` URL that already contains ``/ws/``. Raises ``ValueError`` for an unusable URL.
    """
    parts = urlsplit(base_url or DEFAULT_HOST)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(
            "Gemini base URL must look like https://host or http://127.0.0.1:PORT, "
            f"got {_wire.excerpt(base_url or '', 80)!r}"
        )
    if "key=" in parts.query:
        raise ValueError("put the Gemini API key in the header, not in the URL (?key=)")
    path = parts.path if "/ws/" in parts.path else parts.path.rstrip("/") + WS_PATH
    url = urlunsplit((scheme, parts.netloc, path, parts.query, ""))
    return Endpoint(
        url=url, headers=(("x-goog-api-key", api_key),), secret_headers=("x-goog-api-key",)
    )
