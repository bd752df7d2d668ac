"""Gemini Live through Vertex AI: where to connect and how the model is named (pure).

Vertex AI speaks the same Live protocol as the Gemini API (``realtime.gemini.GeminiCore``) at a
regional endpoint, with an OAuth bearer token instead of an API key, and names the model by its
full resource path. The shape follows google-genai's own client (``live.py``):

* URL ``wss://{location}-aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1beta1.
  LlmBidiService/BidiGenerateContent`` (``global`` → ``aiplatform.googleapis.com``);
* header ``Authorization: Bearer <access token>`` (a secret header);
* ``setup.model = projects/{project}/locations/{location}/publishers/google/models/{model}``.

Getting the token (Application Default Credentials or the gcloud CLI) is I/O and lives in
``app.vertex_auth``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from realtime import _wire
from realtime.core import Endpoint

API_VERSION = "v1beta1"
WS_PATH = f"/ws/google.cloud.aiplatform.{API_VERSION}.LlmBidiService/BidiGenerateContent"
DEFAULT_LOCATION = "us-central1"
_LOCATION = re.compile(r"^[a-z]+(?:-[a-z0-9]+)*$")
_ID = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"
_PROJECT = re.compile(rf"^(?:[a-z0-9.-]+:)?{_ID}$")  # optionally domain-scoped: example.com:id


def location_problem(location: str) -> str:
    """Why ``location`` is not a Vertex AI region name (``""`` if it looks like one)."""
    if not _LOCATION.match(location):
        return f"Vertex AI location {_wire.excerpt(location, 40)!r} is not like us-central1"
    return ""


def project_problem(project: str) -> str:
    """Why ``project`` is not a Google Cloud project id (``""`` if it looks like one)."""
    if not _PROJECT.match(project):
        return (
            f"Vertex AI project {_wire.excerpt(project, 40)!r} is not a Google Cloud project id "
            "(lowercase letters, digits and hyphens, e.g. my-project-123)"
        )
    return ""


def host(location: str) -> str:
    """The regional API host for ``location``."""
    if location == "global":
        return "aiplatform.googleapis.com"
    return f"{location}-aiplatform.googleapis.com"


def model_prefix(project: str, location: str) -> str:
    """What goes before the model name in ``setup.model`` on Vertex AI."""
    return f"projects/{project}/locations/{location}/publishers/google/models/"


def endpoint(token: str, location: str, base_url: str | None = None) -> Endpoint:
    """Where to connect. ``base_url`` overrides the regional host (a private endpoint or a
    company proxy): a host root (``https://proxy.example``; the Live path is appended) or a
    full ``wss://`` URL that already contains ``/ws/``. Raises ``ValueError`` for a bad URL
    or location."""
    problem = location_problem(location)
    if problem:
        raise ValueError(problem)
    parts = urlsplit(base_url or f"wss://{host(location)}")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(
            "Vertex AI URL must look like https://host or wss://host/ws/…, "
            f"got {_wire.excerpt(base_url or '', 80)!r}"
        )
    path = parts.path if "/ws/" in parts.path else parts.path.rstrip("/") + WS_PATH
    url = urlunsplit((scheme, parts.netloc, path, parts.query, ""))
    return Endpoint(
        url=url,
        headers=(("Authorization", f"Bearer {token}"),),
        secret_headers=("Authorization",),
    )
