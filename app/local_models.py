"""Local model servers as the offline backend's brain: the app-level facade over discovery.

The window's model picker and the CLI never import ``realtime.local.discovery``; they use this.

- ``discover_local_models(on_done)`` probes the known ports on this machine (Ollama 11434,
  LM Studio 1234, llama.cpp server 8080, vLLM 8000) on a daemon thread and returns a future at
  once. ``on_done(tuple[LocalModel, ...])`` runs **on the discovery thread**: a GUI must hop to
  its own thread (``app.gui.local_model_picker`` does it with a queued signal). Never raises.
- ``LocalModel`` is one model of one server: what the picker lists (``label``) and what is
  saved when it is chosen (``choice()``).
- ``LocalModelChoice`` is the saved choice (the ``Settings`` fields ``llm_url``, ``llm_model``,
  ``llm_vision``, ``llm_auth_env``); ``server_args()`` is what the offline server
  (``voicecam-server``) is started with: ``--llm-url URL --llm-model ID`` plus
  ``--llm-no-vision`` for a model its server says is blind and ``--llm-key-env VAR`` when an
  API key variable is configured. No choice (``llm_url == ""``) = the built-in model.

The key itself never passes through here: only the NAME of the environment variable holding it.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from app.config import Settings
from realtime.local.discovery import KNOWN_PORTS, LocalServer, discover_async

log = logging.getLogger(__name__)

__all__ = [
    "BUILT_IN_LABEL",
    "KNOWN_PORTS",
    "LocalModel",
    "LocalModelChoice",
    "discover_local_models",
    "local_models_of",
    "server_args",
    "with_brain",
]

#: What the picker shows for the model that ships with VoiceCam (the default entry).
BUILT_IN_LABEL = "Built-in (SmolLM2, offline)"


@dataclass(frozen=True)
class LocalModelChoice:
    """The offline backend's brain: a model on a local OpenAI-compatible server.

    ``url``: the server's API root (``http://127.0.0.1:11434/v1``); ``model``: its model id;
    ``vision``: False when the server says the model cannot see images (frames are then not
    sent); ``key_env``: the name of the environment variable holding its API key, or ""."""

    url: str
    model: str
    vision: bool = True
    key_env: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalModelChoice | None:
        """The saved choice, or None for the built-in model."""
        if not settings.llm_url:
            return None
        return cls(settings.llm_url, settings.llm_model, settings.llm_vision, settings.llm_auth_env)

    def server_args(self) -> tuple[str, ...]:
        """The offline server's command-line arguments for this brain."""
        args: list[str] = ["--llm-url", self.url]
        if self.model:
            args += ["--llm-model", self.model]
        if not self.vision:
            args.append("--llm-no-vision")
        if self.key_env:
            args += ["--llm-key-env", self.key_env]
        return tuple(args)


def with_brain(settings: Settings, choice: LocalModelChoice | None) -> Settings:
    """``settings`` with the offline backend's brain set to ``choice`` (None: built-in)."""
    if choice is None:
        return replace(settings, llm_url="", llm_model="", llm_vision=True, llm_auth_env="")
    return replace(
        settings,
        llm_url=choice.url,
        llm_model=choice.model,
        llm_vision=choice.vision,
        llm_auth_env=choice.key_env,
    )


def server_args(settings: Settings) -> tuple[str, ...]:
    """The offline server's arguments for the settings' brain (``()`` = the built-in model)."""
    choice = LocalModelChoice.from_settings(settings)
    return () if choice is None else choice.server_args()


@dataclass(frozen=True)
class LocalModel:
    """One model offered by a server found on this machine."""

    kind: str  # 'Ollama', 'LM Studio', 'llama.cpp server', 'vLLM', 'OpenAI-compatible server'
    url: str  # the server's API root, http://127.0.0.1:PORT/v1
    model: str
    vision: bool | None  # None: the server does not say
    label: str  # 'llama3.2 (Ollama, port 11434)'

    def choice(self, key_env: str = "") -> LocalModelChoice:
        """The saved form; a model whose server does not say whether it sees gets frames
        (the offline server stops sending them after the first refusal)."""
        return LocalModelChoice(self.url, self.model, self.vision is not False, key_env)

    def is_choice(self, choice: LocalModelChoice | None) -> bool:
        return choice is not None and (choice.url, choice.model) == (self.url, self.model)


def local_models_of(servers: Sequence[LocalServer]) -> tuple[LocalModel, ...]:
    """Every model of every server, in discovery order."""
    return tuple(
        LocalModel(s.kind, s.base_url, m.id, m.vision, s.label(m))
        for s in servers
        for m in s.models
    )


def discover_local_models(
    on_done: Callable[[tuple[LocalModel, ...]], None] | None = None,
    *,
    ports: Sequence[tuple[int, str]] = KNOWN_PORTS,
    timeout_s: float = 0.5,
) -> concurrent.futures.Future[tuple[LocalModel, ...]]:
    """Look for local model servers without blocking (see the module docstring for threads).
    The future completes within about ``2 * timeout_s``; ``on_done``'s own error is logged."""
    result: concurrent.futures.Future[tuple[LocalModel, ...]] = concurrent.futures.Future()

    def done(servers: list[LocalServer]) -> None:
        models = local_models_of(servers)
        result.set_result(models)
        if on_done is not None:
            try:
                on_done(models)
            except Exception:
                log.exception("local model discovery listener failed")

    discover_async(done, ports, timeout_s)
    return result
