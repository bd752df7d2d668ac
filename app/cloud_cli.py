"""The command line's cloud flags: endpoints (issue 13, item 1) and provider options (item 3).

``add_cloud_arguments(parser)`` adds them; ``resolve_with_cloud(overrides, args, resolve)``
turns them into settings with the usual precedence (``app.compose.resolve_settings``).
``--backend-url`` sets the URL field of whichever backend is in effect (``--backend``, else the
environment or the saved setting), so it is resolved in a second pass.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

from app.config import Settings, SettingsError
from app.endpoints import URL_FIELDS
from app.provider_options import EAGERNESS, MEDIA_RESOLUTIONS, NOISE_REDUCTION, REASONING_EFFORTS

__all__ = ["CLOUD_ARGS", "add_cloud_arguments", "resolve_with_cloud"]

#: argparse dest → Settings field, for the flags that map one to one.
_FIELDS = {
    "vertex_project": "vertex_project",
    "vertex_location": "vertex_location",
    "azure_api_version": "azure_api_version",
    "noise_reduction": "noise_reduction",
    "vad_eagerness": "vad_eagerness",
    "idle_timeout_ms": "idle_timeout_ms",
    "media_resolution": "media_resolution",
    "context_compression": "context_compression",
    "proactive_audio": "proactive_audio",
    "affective_dialog": "affective_dialog",
    "reasoning_effort": "reasoning_effort",
}
#: Every dest this module adds (a front end may refuse them where they make no sense).
CLOUD_ARGS = ("backend_url", *_FIELDS)

#: A setting's value as a flag gives it (``app.compose.SettingValue``), None = not given.
Value = str | int | float | bool | None
Resolve = Callable[[Mapping[str, Value]], Settings]


def add_cloud_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "cloud endpoints",
        "where openai, gemini and azure connect (default: the providers' public endpoints)",
    )
    g.add_argument(
        "--backend-url",
        default=None,
        metavar="URL",
        help="openai: an OpenAI-compatible API root (https://proxy.example/v1); gemini: a "
        "gateway (https://host or wss://…/ws/…); azure: https://NAME.openai.azure.com",
    )
    g.add_argument("--vertex-project", default=None, metavar="ID", help="gemini through Vertex AI")
    g.add_argument("--vertex-location", default=None, metavar="REGION", help="default us-central1")
    g.add_argument(
        "--azure-api-version",
        default=None,
        metavar="VERSION",
        help="a dated preview API (2025-04-01-preview); default: the GA /openai/v1 API",
    )
    o = p.add_argument_group("provider options")
    o.add_argument(
        "--noise-reduction",
        default=None,
        choices=NOISE_REDUCTION,
        help="openai: auto picks near (headset) or far (laptop/room microphone) by device",
    )
    o.add_argument("--vad-eagerness", default=None, choices=EAGERNESS, help="openai semantic VAD")
    o.add_argument(
        "--reasoning-effort",
        default=None,
        choices=REASONING_EFFORTS,
        help="openai reasoning models (gpt-realtime-2 …): less effort answers sooner",
    )
    o.add_argument(
        "--idle-timeout-ms",
        type=int,
        default=None,
        metavar="MS",
        help="openai server VAD: answer after this much silence (0 = off)",
    )
    o.add_argument(
        "--media-resolution",
        default=None,
        choices=MEDIA_RESOLUTIONS,
        help="gemini: tokens per frame (2.x: low 64, else 258; 3.x: low/medium 70, high 280)",
    )
    o.add_argument(
        "--context-compression",
        default=None,
        action=argparse.BooleanOptionalAction,
        help="gemini: compress old context so sessions with video last past 2 minutes (default on)",
    )
    o.add_argument(
        "--proactive-audio",
        default=None,
        action=argparse.BooleanOptionalAction,
        help="gemini native-audio models: answer only when addressed",
    )
    o.add_argument(
        "--affective-dialog",
        default=None,
        action=argparse.BooleanOptionalAction,
        help="gemini native-audio models: adapt to the user's tone",
    )


def resolve_with_cloud(
    overrides: Mapping[str, Value], args: argparse.Namespace, resolve: Resolve
) -> Settings:
    """Settings from ``overrides`` plus the cloud flags in ``args``. Raises ``SettingsError``
    (e.g. ``--backend-url`` with a backend that has no URL)."""
    given: dict[str, Value] = {**overrides}
    given.update({f: getattr(args, dest) for dest, f in _FIELDS.items()})
    settings = resolve(given)
    url = args.backend_url
    if url is None:
        return settings
    field = URL_FIELDS.get(settings.backend)
    if field is None:
        raise SettingsError(
            f"--backend-url is for the openai, gemini and azure backends, not "
            f"{settings.backend!r} (a ws:// backend is its own URL: --backend ws://…)"
        )
    return resolve({**given, field: url})
