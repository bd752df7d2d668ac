"""Finding OpenAI-compatible model servers on this machine: quick, parallel, never blocking.

Probed on 127.0.0.1 (``KNOWN_PORTS``): Ollama (11434), LM Studio (1234), a llama.cpp server
(8080) and vLLM (8000); any other port can be added. A closed port costs one refused TCP
connect (well under a millisecond); an open one a ``GET /v1/models`` plus, to learn which models
accept images, the server's own description where it has one (Ollama ``POST /api/show``
``capabilities``, llama.cpp ``GET /props`` ``modalities``, LM Studio ``GET /api/v0/models``
``type``). All ports are probed at once on daemon threads; each probe is bounded by
``timeout_s``.

API (what the app's model picker calls):

- ``discover_async(on_done=None, ports=KNOWN_PORTS, timeout_s=0.5) -> Future[list[LocalServer]]``
  returns at once; the future completes within about ``2 * timeout_s``. ``on_done`` is called
  with the list **on the discovery thread** (a GUI must hop to its own thread, e.g. a queued
  signal). It never raises: a server that answers nonsense is left out.
- ``discover(...)`` is the blocking form; ``probe(port)`` checks one port.
- ``LocalServer.endpoint(model_id) -> ChatEndpoint`` is what the brain is given; on the command
  line the same choice is ``voicecam-server --llm-url URL --llm-model ID`` (``--list-llm``
  prints what is found).

``discover`` only probes loopback; ``probe_url``/``resolve_endpoint`` probe the one URL a user
gave on the command line.
"""

from __future__ import annotations

import concurrent.futures
import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from realtime.local.endpoint import ChatEndpoint

#: (port, what usually listens there), in the order they are listed.
KNOWN_PORTS: tuple[tuple[int, str], ...] = (
    (11434, "Ollama"),
    (1234, "LM Studio"),
    (8080, "llama.cpp server"),
    (8000, "vLLM"),
)
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class ModelInfo:
    """A model a server offers. ``vision``: accepts images (None when the server doesn't say;
    the brain then tries, and stops sending frames after the first refusal)."""

    id: str
    vision: bool | None = None


@dataclass(frozen=True)
class LocalServer:
    """An OpenAI-compatible server found on this machine."""

    kind: str  # 'Ollama', 'LM Studio', 'llama.cpp server', 'vLLM' or 'OpenAI-compatible server'
    base_url: str  # e.g. http://127.0.0.1:11434/v1
    models: tuple[ModelInfo, ...]

    @property
    def port(self) -> int:
        return urlsplit(self.base_url).port or 80

    def label(self, model: ModelInfo) -> str:
        """What a model picker shows: 'llama3.2 (Ollama, port 11434)'."""
        eyes = ", sees images" if model.vision else ""
        return f"{model.id} ({self.kind}, port {self.port}{eyes})"

    def endpoint(self, model_id: str, api_key: str | None = None) -> ChatEndpoint:
        """The brain's endpoint for one of this server's models."""
        info = next((m for m in self.models if m.id == model_id), ModelInfo(model_id))
        return ChatEndpoint(
            url=self.base_url, model=model_id, api_key=api_key, vision=info.vision is not False
        )


def _get_json(url: str, timeout_s: float, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode("utf-8") if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        headers={"Content-Type": "application/json"} if data else {},
        method="POST" if data else "GET",
    )
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        return json.loads(resp.read(2_000_000).decode("utf-8"))


def _try_json(url: str, timeout_s: float, body: dict[str, Any] | None = None) -> Any:
    try:
        return _get_json(url, timeout_s, body)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _port_open(host: str, port: int, timeout_s: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _model_ids(listing: Any) -> list[str]:
    if not isinstance(listing, dict) or not isinstance(listing.get("data"), list):
        return []
    ids = [m.get("id") for m in listing["data"] if isinstance(m, dict)]
    return [i for i in ids if isinstance(i, str) and i]


def _vision_ollama(root: str, model: str, timeout_s: float) -> bool | None:
    shown = _try_json(f"{root}/api/show", timeout_s, {"model": model})
    caps = shown.get("capabilities") if isinstance(shown, dict) else None
    return "vision" in caps if isinstance(caps, list) else None


def _describe(root: str, ids: list[str], guess: str, timeout_s: float) -> LocalServer:
    """Name the server and learn which models see, from whatever it exposes."""
    base = f"{root}/v1"
    if isinstance(_try_json(f"{root}/api/version", timeout_s), dict):
        models = tuple(ModelInfo(i, _vision_ollama(root, i, timeout_s)) for i in ids)
        return LocalServer("Ollama", base, models)
    lms = _try_json(f"{root}/api/v0/models", timeout_s)
    if isinstance(lms, dict) and isinstance(lms.get("data"), list):
        kinds = {m.get("id"): m.get("type") for m in lms["data"] if isinstance(m, dict)}
        models = tuple(
            ModelInfo(i, kinds[i] == "vlm" if kinds.get(i) in ("vlm", "llm") else None) for i in ids
        )
        return LocalServer("LM Studio", base, models)
    props = _try_json(f"{root}/props", timeout_s)
    if isinstance(props, dict):
        modalities = props.get("modalities")
        sees = modalities.get("vision") if isinstance(modalities, dict) else None
        vision = sees if isinstance(sees, bool) else None
        return LocalServer("llama.cpp server", base, tuple(ModelInfo(i, vision) for i in ids))
    listing = _try_json(f"{base}/models", timeout_s)
    owners = {m.get("owned_by") for m in (listing or {}).get("data", []) if isinstance(m, dict)}
    kind = "vLLM" if "vllm" in owners else guess
    return LocalServer(kind, base, tuple(ModelInfo(i) for i in ids))


def probe(
    port: int, *, host: str = LOOPBACK, timeout_s: float = 0.5, guess: str = ""
) -> LocalServer | None:
    """The OpenAI-compatible server on ``host:port`` with its models, or None. Blocking."""
    if not _port_open(host, port, min(timeout_s, 0.25)):
        return None
    root = f"http://{host}:{port}"
    ids = _model_ids(_try_json(f"{root}/v1/models", timeout_s))
    if not ids:
        return None
    return _describe(root, ids, guess or "OpenAI-compatible server", timeout_s)


def probe_url(url: str, timeout_s: float = 2.0) -> LocalServer | None:
    """``probe`` for a base URL such as http://127.0.0.1:8080/v1 (any host). Blocking."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.hostname is None:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "https":
        return None  # a remote service: its models are listed by its own tools
    return probe(port, host=parts.hostname, timeout_s=timeout_s)


def discover(
    ports: Sequence[tuple[int, str]] = KNOWN_PORTS, timeout_s: float = 0.5
) -> list[LocalServer]:
    """Probe every port in parallel; the servers found, in the order of ``ports``."""
    found: list[LocalServer | None] = [None] * len(ports)

    def one(i: int, port: int, guess: str) -> None:
        try:
            found[i] = probe(port, timeout_s=timeout_s, guess=guess)
        except Exception:  # never let one odd server break the others
            found[i] = None

    threads = [
        threading.Thread(target=one, args=(i, p, g), name=f"discover-{p}", daemon=True)
        for i, (p, g) in enumerate(ports)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s * 6)
    return [s for s in found if s is not None]


def discover_async(
    on_done: Callable[[list[LocalServer]], None] | None = None,
    ports: Sequence[tuple[int, str]] = KNOWN_PORTS,
    timeout_s: float = 0.5,
) -> concurrent.futures.Future[list[LocalServer]]:
    """Start discovery on a daemon thread and return its future at once (see module doc)."""
    future: concurrent.futures.Future[list[LocalServer]] = concurrent.futures.Future()

    def run() -> None:
        servers = discover(ports, timeout_s)
        future.set_result(servers)
        if on_done is not None:
            on_done(servers)

    threading.Thread(target=run, name="discover-llm-servers", daemon=True).start()
    return future


def listing_lines(servers: Sequence[LocalServer]) -> list[str]:
    """One line per model: '<base_url> <model id> <kind>[ vision]' (``--list-llm``)."""
    lines: list[str] = []
    for server in servers:
        for m in server.models:
            eyes = " vision" if m.vision else ""
            lines.append(f"{server.base_url} {m.id} {server.kind.replace(' ', '-')}{eyes}")
    return lines


class EndpointChoiceError(ValueError):
    """``--llm-url``/``--llm-model`` name nothing usable; the message says what to do."""


def resolve_endpoint(
    url: str,
    model: str | None,
    *,
    api_key: str | None = None,
    vision: bool = True,
    timeout_s: float = 2.0,
) -> ChatEndpoint:
    """The endpoint for ``--llm-url URL [--llm-model M]``. Without a model, the server is asked
    for its models and the first is used (raises ``EndpointChoiceError`` if it lists none).
    A model the server says cannot see images gets ``vision=False``."""
    server = probe_url(url, timeout_s) if not model or vision else None
    if not model:
        if server is None or not server.models:
            raise EndpointChoiceError(
                f"no model list at {url}: is the server running? Name one with --llm-model "
                "(voicecam-server --list-llm shows what runs on this machine)"
            )
        model = server.models[0].id
    info = next((m for m in server.models if m.id == model), None) if server else None
    sees = vision and (info is None or info.vision is not False)
    return ChatEndpoint(url=url, model=model, api_key=api_key, vision=sees)
