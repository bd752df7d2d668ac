"""Where the cloud backends connect (issue 13, item 1).

* ``openai``: OpenAI's public endpoint, or an OpenAI-compatible proxy (``openai_url``, the API
  root such as ``https://proxy.example/v1``).
* ``gemini``: Google's public endpoint, a proxy or regional gateway (``gemini_url``), or Vertex
  AI (``vertex_project`` [+ ``vertex_location``]) with a bearer token from Application Default
  Credentials or the gcloud CLI (``app.vertex_auth``).
* ``azure``: Azure OpenAI (``azure_endpoint`` = ``https://NAME.openai.azure.com``; the model is
  the deployment name; ``api-key`` header). ``azure_api_version`` empty = the GA ``/openai/v1``
  API; a dated preview version (``2025-04-01-preview``) = the older preview API, which speaks
  the beta protocol.

Each field is a ``Settings`` field (so also ``VOICECAM_<FIELD>``, a flag or the settings
file); the providers' own environment conventions fill a field the ``VOICECAM_`` variable does
not set: ``OPENAI_BASE_URL``, ``AZURE_OPENAI_ENDPOINT``, ``OPENAI_API_VERSION``,
``GOOGLE_CLOUD_PROJECT`` / ``GOOGLE_CLOUD_LOCATION`` (only with ``GOOGLE_GENAI_USE_VERTEXAI=
true``, as google-genai does). ``--backend-url`` sets the URL field of the chosen backend
(``URL_FIELDS``).

Keys and tokens are read when a session is made (``key_lookup``), registered as held secrets
by ``app.secrets`` / ``app.vertex_auth``, and travel only in secret headers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from realtime import gemini_endpoint, gemini_vertex, openai_endpoint
from realtime.core import Endpoint

__all__ = [
    "URL_FIELDS",
    "CloudEndpoints",
    "EndpointFields",
    "azure_base_url",
    "env_conventions",
    "problem",
]

log = logging.getLogger(__name__)

#: The settings field ``--backend-url`` sets, per backend.
URL_FIELDS = {"openai": "openai_url", "gemini": "gemini_url", "azure": "azure_endpoint"}


class EndpointFields(Protocol):
    """The endpoint fields of ``app.config.Settings`` (read-only view)."""

    @property
    def openai_url(self) -> str: ...
    @property
    def gemini_url(self) -> str: ...
    @property
    def vertex_project(self) -> str: ...
    @property
    def vertex_location(self) -> str: ...
    @property
    def azure_endpoint(self) -> str: ...
    @property
    def azure_api_version(self) -> str: ...


@dataclass(frozen=True)
class CloudEndpoints:
    """The endpoint choices of one configuration ("" = the provider's default)."""

    openai_url: str = ""
    gemini_url: str = ""
    vertex_project: str = ""
    vertex_location: str = ""
    azure_endpoint: str = ""
    azure_api_version: str = ""

    @classmethod
    def of(cls, fields: EndpointFields) -> CloudEndpoints:
        return cls(
            openai_url=fields.openai_url,
            gemini_url=fields.gemini_url,
            vertex_project=fields.vertex_project,
            vertex_location=fields.vertex_location,
            azure_endpoint=fields.azure_endpoint,
            azure_api_version=fields.azure_api_version,
        )

    @property
    def vertex(self) -> bool:
        """Gemini goes through Vertex AI (a project is set)."""
        return bool(self.vertex_project)

    @property
    def location(self) -> str:
        return self.vertex_location or gemini_vertex.DEFAULT_LOCATION

    # ------------------------------------------------------------------ endpoints

    def openai(self, key: str, model: str) -> Endpoint:
        return openai_endpoint.endpoint(key, model, base_url=self.openai_url or None)

    def gemini(self, key: str) -> Endpoint:
        return gemini_endpoint.endpoint(key, base_url=self.gemini_url or None)

    def vertex_endpoint(self, token: str) -> Endpoint:
        return gemini_vertex.endpoint(token, self.location, base_url=self.gemini_url or None)

    def vertex_model_prefix(self) -> str:
        return gemini_vertex.model_prefix(self.vertex_project, self.location)

    def azure(self, key: str, deployment: str) -> Endpoint:
        version = self.azure_api_version
        base = azure_base_url(self.azure_endpoint, version)
        return openai_endpoint.endpoint(
            key, deployment, base_url=base, azure=True, beta=bool(version), api_version=version
        )


def azure_base_url(endpoint: str, api_version: str = "") -> str:
    """``https://NAME.openai.azure.com`` (with or without ``/openai`` or ``/openai/v1``) → the
    API root the OpenAI core expects: ``…/openai/v1`` (GA) or ``…/openai`` (dated preview)."""
    if not endpoint:
        raise ValueError(
            "Azure OpenAI needs its endpoint: --backend-url https://NAME.openai.azure.com "
            "(or AZURE_OPENAI_ENDPOINT, or Settings → Backend URL)"
        )
    root = endpoint.rstrip("/").removesuffix("/v1").removesuffix("/openai")
    return root + ("/openai" if api_version else "/openai/v1")


def env_conventions(env: Mapping[str, str]) -> dict[str, str]:
    """Settings fields filled from the providers' own environment variables.

    Other tools read these variables too, so one that VoiceCam cannot use is skipped with a
    warning naming it (a ``VOICECAM_<FIELD>`` value, by contrast, must be right)."""
    out: dict[str, str] = {}
    for var, key in (
        ("OPENAI_BASE_URL", "openai_url"),
        ("AZURE_OPENAI_ENDPOINT", "azure_endpoint"),
        ("OPENAI_API_VERSION", "azure_api_version"),
    ):
        value = env.get(var, "").strip()
        if not value:
            continue
        found = _single_problem(key, value)
        if found:
            log.warning("%s is not used: %s", var, found)
        else:
            out[key] = value
    if env.get("GOOGLE_GENAI_USE_VERTEXAI", "").strip().lower() in ("1", "true", "yes"):
        for var, key in (
            ("GOOGLE_CLOUD_PROJECT", "vertex_project"),
            ("GOOGLE_CLOUD_LOCATION", "vertex_location"),
        ):
            if env.get(var, "").strip():
                out[key] = env[var].strip()
    return out


def _url_problem(name: str, url: str, schemes: tuple[str, ...], example: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.netloc:
        return f"{name} = {url[:80]!r}: use a URL like {example}"
    if parts.username or parts.password:
        return f"{name}: put no user name or password in the URL (keys go in the environment)"
    if "key=" in parts.query:
        return f"{name}: put no API key in the URL (keys go in the environment or keyring)"
    return ""


_WEB = ("http", "https", "ws", "wss")
_URLS = {
    "openai_url": (_WEB, "https://proxy.example/v1"),
    "gemini_url": (_WEB, "https://gateway.example"),
    "azure_endpoint": (("https", "http"), "https://NAME.openai.azure.com"),
}


def _single_problem(name: str, value: str) -> str:
    if name in _URLS:
        schemes, example = _URLS[name]
        return _url_problem(name, value, schemes, example)
    if name == "azure_api_version" and not (
        value[:4].isdigit() and value.replace("-", "").isalnum()
    ):
        return f"azure_api_version = {value[:40]!r}: use a dated version like 2025-04-01-preview"
    return ""


def problem(fields: EndpointFields) -> str:
    """Why these endpoint fields cannot be used (``""`` when they can)."""
    for name, value in (
        ("openai_url", fields.openai_url),
        ("gemini_url", fields.gemini_url),
        ("azure_endpoint", fields.azure_endpoint),
        ("azure_api_version", fields.azure_api_version),
    ):
        if value:
            found = _single_problem(name, value)
            if found:
                return found
    if fields.vertex_project:
        found = gemini_vertex.project_problem(fields.vertex_project)
        if found:
            return f"vertex_project: {found}"
    if fields.vertex_location:
        found = gemini_vertex.location_problem(fields.vertex_location)
        if found:
            return f"vertex_location: {found}"
        if not fields.vertex_project:
            return "vertex_location needs vertex_project (the Google Cloud project)"
    return ""
