"""Where an OpenAI Realtime session connects: URL and headers for OpenAI, Azure or a local server.

Pure: builds a ``realtime.core.Endpoint`` value, opens nothing.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from realtime import _wire
from realtime.core import Endpoint

DEFAULT_URL = "wss://api.openai.com/v1"


def endpoint(
    api_key: str,
    model: str = "gpt-realtime",
    base_url: str | None = None,
    azure: bool = False,
    beta: bool = False,
    api_version: str = "",
) -> Endpoint:
    """Where to connect for ``model``.

    ``base_url`` is an HTTP(S) or WS(S) API root such as ``http://127.0.0.1:8765/v1`` (→
    ``ws://127.0.0.1:8765/v1/realtime?model=…``) or an Azure ``https://NAME.openai.azure.com/
    openai/v1``. OpenAI authenticates with ``Authorization: Bearer``, Azure with ``api-key``.
    ``beta`` adds ``OpenAI-Beta: realtime=v1``. ``api_version`` (Azure's dated preview API,
    e.g. ``2025-04-01-preview``, with ``base_url`` ``https://NAME.openai.azure.com/openai``)
    names the deployment and version in the query instead: ``…/openai/realtime?api-version=
    …&deployment=…``. Raises ``ValueError`` for an unusable URL.
    """
    if azure and not base_url:
        raise ValueError(
            "Azure OpenAI needs its endpoint URL, e.g. https://NAME.openai.azure.com/openai/v1"
        )
    parts = urlsplit(base_url or DEFAULT_URL)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(
            f"base URL must look like https://host/v1 or http://127.0.0.1:PORT/v1, "
            f"got {_wire.excerpt(base_url or '', 80)!r}"
        )
    path = parts.path.rstrip("/") + "/realtime"
    if api_version:
        query = f"api-version={quote(api_version, safe='')}&deployment={quote(model, safe='')}"
    else:
        query = f"model={quote(model, safe='')}"
    if parts.query:
        query = parts.query + "&" + query
    url = urlunsplit((scheme, parts.netloc, path, query, ""))
    if azure:
        headers: list[tuple[str, str]] = [("api-key", api_key)]
        secret = ("api-key",)
    else:
        headers = [("Authorization", f"Bearer {api_key}")]
        secret = ("Authorization",)
    if beta:
        headers.append(("OpenAI-Beta", "realtime=v1"))
    return Endpoint(url=url, headers=tuple(headers), secret_headers=secret)
