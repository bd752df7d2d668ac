"""Backend registry: a name → protocol core, endpoint, default model/voice, price and caps.

Names: ``openai`` (OpenAI Realtime GA), ``gemini`` (Gemini Live, or through Vertex AI),
``azure`` (Azure OpenAI; the model is the deployment name), ``local`` (the embedded
offline server, started as a child process by ``app.local_server.LocalServer``), or a
``ws://``/``wss://`` URL of any server speaking the OpenAI Realtime protocol (its bearer token, if
any, from ``VOICECAM_BACKEND_TOKEN``).

``resolve(name, model, voice)`` returns a ``Backend`` (implements ``app.ports.ConnectSpec``).
Keys are read only when a session is made (``make_session``), so a missing key becomes the
conversation's error message (``MissingKeyError`` names the variable), not a crash at start-up.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from app.endpoints import CloudEndpoints
from app.local_server import LocalServer, ProgressCallback
from app.model_catalog import models_for
from app.ports import SessionPort, WireRecorderPort
from app.vertex_auth import VertexToken
from realtime import gemini, openai, openai_endpoint
from realtime.context_log import HistorySource
from realtime.core import Endpoint, ProtocolCore
from realtime.reconnect import OPENAI_RENEW_AFTER_S, Backoff, ReconnectingSession
from realtime.recording.scrub import hold_secret
from realtime.session import RealtimeSession

OPENAI_MODELS = models_for("openai")
OPENAI_VOICES = (
    "marin",
    "cedar",
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
)
GEMINI_MODELS = models_for("gemini")
#: The 30 voices of the native-audio Live models (the first eight are also the older models').
GEMINI_VOICES = (
    *("Puck", "Charon", "Kore", "Fenrir", "Aoede", "Leda", "Orus", "Zephyr"),
    *("Achernar", "Achird", "Algenib", "Algieba", "Alnilam", "Autonoe", "Callirrhoe"),
    *("Despina", "Enceladus", "Erinome", "Gacrux", "Iapetus", "Laomedeia", "Pulcherrima"),
    *("Rasalgethi", "Sadachbia", "Sadaltager", "Schedar", "Sulafat", "Umbriel"),
    *("Vindemiatrix", "Zubenelgenubi"),
)
LOCAL_MODELS = ("local",)
LOCAL_VOICES = ("joe",)
OPENAI_SESSION_CAP_S = 3600.0
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class BackendError(ValueError):
    """An unusable backend name or URL (the message lists what is accepted)."""


@dataclass(frozen=True)
class BackendInfo:
    """What a settings UI shows for a backend. ``needs_key`` names the env variable, if any."""

    name: str
    label: str
    models: tuple[str, ...]
    voices: tuple[str, ...]
    needs_key: str | None = None


BACKENDS: tuple[BackendInfo, ...] = (
    BackendInfo("local", "Offline (this computer)", LOCAL_MODELS, LOCAL_VOICES),
    BackendInfo("openai", "OpenAI Realtime", OPENAI_MODELS, OPENAI_VOICES, "OPENAI_API_KEY"),
    BackendInfo("gemini", "Gemini Live", GEMINI_MODELS, GEMINI_VOICES, "GEMINI_API_KEY"),
    BackendInfo("azure", "Azure OpenAI", OPENAI_MODELS, OPENAI_VOICES, "AZURE_OPENAI_API_KEY"),
)


@dataclass
class Backend:
    """A resolved backend. ``make_session`` builds a fresh (reconnecting) session each call."""

    name: str
    provider: str  # "openai" | "gemini": protocol family
    model: str
    voice: str
    input_rate_hz: int
    free: bool
    session_cap_s: float | None
    endpoint: Callable[[], Endpoint]
    reconnect: bool = True
    max_reconnect_attempts: int = 6
    #: Blocking preparation before the first connect (starting the offline server).
    prepare_fn: Callable[[ProgressCallback | None], None] | None = None
    server: LocalServer | None = field(default=None, repr=False)
    #: True when ``resolve`` started ``server`` for this backend (then ``close()`` stops it);
    #: a server passed in by the caller (the window's one) is the caller's to stop.
    owns_server: bool = False
    #: Builds the protocol core (default: by ``provider``; Vertex AI and Azure's preview API
    #: need a configured one).
    core_factory: Callable[[], ProtocolCore] | None = field(default=None, repr=False)

    def close(self) -> None:
        """Stop the offline server this backend owns (no-op otherwise). Blocking."""
        if self.owns_server and self.server is not None:
            self.server.stop()

    def core(self) -> ProtocolCore:
        if self.core_factory is not None:
            return self.core_factory()
        return gemini.GeminiCore() if self.provider == "gemini" else openai.OpenAICore()

    def prepare(self, on_progress: ProgressCallback | None = None) -> None:
        """Blocking (run it off the GUI and engine loops): e.g. start the offline server."""
        if self.prepare_fn is not None:
            self.prepare_fn(on_progress)

    def recent_crash(self) -> str:
        """Why the offline server died recently, else ``""`` (other backends: always ``""``)."""
        return self.server.recent_crash() if self.server is not None else ""

    def make_session(
        self, recorder: WireRecorderPort | None, context: HistorySource | None = None
    ) -> SessionPort:
        def one() -> RealtimeSession:
            return RealtimeSession(self.core(), self.endpoint(), recorder=recorder)

        if not self.reconnect:
            return one()
        return ReconnectingSession(
            one,
            backoff=Backoff(max_attempts=self.max_reconnect_attempts),
            context=context,
            renew_after_s=OPENAI_RENEW_AFTER_S if self.session_cap_s else None,
        )


def _ws_base(url: str) -> str:
    """``ws://h:p/v1/realtime?model=x`` → ``ws://h:p/v1`` (the API root the core expects)."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise BackendError(f"backend URL must look like ws://HOST:PORT/v1/realtime, got {url!r}")
    path = parts.path.rstrip("/").removesuffix("/realtime")
    return urlunsplit((parts.scheme, parts.netloc, path or "/v1", "", ""))


def resolve(
    name: str,
    model: str = "",
    voice: str = "",
    *,
    reconnect: bool = True,
    local_server: LocalServer | None = None,
    server_args: tuple[str, ...] = (),
    key_lookup: Callable[[str], str] | None = None,
    endpoints: CloudEndpoints | None = None,
) -> Backend:
    """The ``Backend`` for ``name`` (see module docstring). ``endpoints``: where the cloud
    backends connect (``app.endpoints``; default: the providers' public endpoints). Raises
    ``BackendError``."""
    if key_lookup is None:
        from app.secrets import api_key

        key_lookup = api_key
    lookup = key_lookup
    cloud = endpoints or CloudEndpoints()
    if name in ("openai", "azure"):
        model = model or OPENAI_MODELS[0]
        azure = name == "azure"
        if azure and not cloud.azure_endpoint:
            raise BackendError(
                "the azure backend needs the Azure OpenAI endpoint: --backend-url "
                "https://NAME.openai.azure.com (or AZURE_OPENAI_ENDPOINT, or Settings)"
            )
        beta = azure and bool(cloud.azure_api_version)
        return Backend(
            name=name,
            provider="openai",
            model=model,
            voice=voice or OPENAI_VOICES[0],
            input_rate_hz=24000,
            free=False,
            session_cap_s=OPENAI_SESSION_CAP_S,
            endpoint=(
                (lambda: cloud.azure(lookup("azure"), model))
                if azure
                else (lambda: cloud.openai(lookup("openai"), model))
            ),
            reconnect=reconnect,
            core_factory=(lambda: openai.OpenAICore(beta=True)) if beta else None,
        )
    if name == "gemini":
        if cloud.vertex:
            return vertex_backend(cloud, model, voice, reconnect=reconnect)
        return Backend(
            name="gemini",
            provider="gemini",
            model=model or GEMINI_MODELS[0],
            voice=voice or GEMINI_VOICES[0],
            input_rate_hz=16000,
            free=False,
            session_cap_s=None,
            endpoint=lambda: cloud.gemini(lookup("gemini")),
            reconnect=reconnect,
        )
    if name == "local":
        server = local_server or LocalServer(server_args)
        model = model or LOCAL_MODELS[0]

        def local_endpoint() -> Endpoint:
            base = server.base_url
            if base is None:  # crashed and restarting: the connect fails and is retried
                base = "ws://127.0.0.1:9/v1"
            return openai_endpoint.endpoint(server.token, model, base_url=base)

        def prepare(progress: ProgressCallback | None) -> None:
            if progress is not None:
                server.on_progress = progress
            server.start()

        return Backend(
            name="local",
            provider="openai",
            model=model,
            voice=voice or LOCAL_VOICES[0],
            input_rate_hz=24000,
            free=True,
            session_cap_s=None,
            endpoint=local_endpoint,
            reconnect=reconnect,
            prepare_fn=prepare,
            server=server,
            owns_server=local_server is None,
        )
    if name.startswith(("ws://", "wss://")):
        base = _ws_base(name)
        token = os.environ.get("VOICECAM_BACKEND_TOKEN", "")
        hold_secret(token)  # whatever its shape: never printed, logged or recorded
        host = urlsplit(name).hostname or ""
        return Backend(
            name=name,
            provider="openai",
            model=model or "gpt-realtime",
            voice=voice,
            input_rate_hz=24000,
            free=host in _LOOPBACK,
            session_cap_s=None,
            endpoint=lambda: openai_endpoint.endpoint(
                token, model or "gpt-realtime", base_url=base
            ),
            reconnect=reconnect,
        )
    raise BackendError(
        f"unknown backend {name!r}: use local, openai, gemini, azure, "
        "or a ws://HOST:PORT/v1/realtime URL"
    )


def vertex_backend(
    cloud: CloudEndpoints,
    model: str = "",
    voice: str = "",
    *,
    reconnect: bool = True,
    token: VertexToken | None = None,
) -> Backend:
    """Gemini Live through Vertex AI: ``prepare()`` fetches the access token (blocking: ADC or
    the gcloud CLI, ``app.vertex_auth``); each connect uses it, refreshed when near expiry."""
    held = token or VertexToken()
    model = model or GEMINI_MODELS[0]
    prefix = cloud.vertex_model_prefix()

    def fetch_token(_progress: ProgressCallback | None) -> None:
        held.get()  # raises VertexAuthError (a SessionError) with what to run

    return Backend(
        name="gemini",
        provider="gemini",
        model=model,
        voice=voice or GEMINI_VOICES[0],
        input_rate_hz=16000,
        free=False,
        session_cap_s=None,
        endpoint=lambda: cloud.vertex_endpoint(held.get()),
        reconnect=reconnect,
        prepare_fn=fetch_token,
        core_factory=lambda: gemini.GeminiCore(model_prefix=prefix),
    )
