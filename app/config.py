"""User settings, persisted as TOML in the platformdirs config folder (never any API key).

``Settings.load()`` reads ``<config dir>/settings.toml`` (``VOICECAM_CONFIG_DIR`` overrides the
folder, for tests and portable installs); unknown keys are ignored, a wrong type or value raises
``SettingsError`` naming the key and what is allowed. ``save()`` writes atomically. API keys live
in the environment or the OS keyring (``app.secrets``): a key-looking field is refused.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from app.endpoints import problem as endpoint_problem
from app.modes import PATIENCE_CHOICES, ConversationOptions, Mode
from app.pricing import bills_every_frame
from app.provider_options import problem as options_problem
from app.provider_options import provider_options
from video.pacing import PacerConfig, Policy

APP_NAME = "voicecam"
BACKENDS = ("local", "openai", "gemini", "azure")
#: "auto": change-or-request for models that bill every frame (cloud), on-speech otherwise.
FRAME_POLICIES = ("auto", "on-speech", "continuous", "on-change", "snapshot", "change-or-request")
AEC_CHOICES = ("on", "off", "headphones")
THEMES = ("system", "light", "dark")


class SettingsError(ValueError):
    """A setting that cannot be used; the message names the key and the allowed values."""


def config_dir() -> Path:
    override = os.environ.get("VOICECAM_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def default_recordings_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "sessions"


@dataclass(frozen=True)
class Settings:
    backend: str = "local"  # local | openai | gemini | azure | ws://… URL
    model: str = ""  # "" = the backend's default
    voice: str = ""  # "" = the backend's default
    instructions: str = (
        "You are VoiceCam, a helpful voice assistant that can see the user's camera. "
        "Answer briefly, in one or two spoken sentences."
    )
    input_device: str = ""  # by name ("" = system default)
    output_device: str = ""
    camera: str = ""  # camera name, index, or stream URL ("" = first camera)
    camera_on: bool = True
    vad_sensitivity: float = 0.5  # 0 (only clear speech) … 1 (very sensitive)
    aec: str = "on"  # on | off | headphones
    mode: str = Mode.HANDS_FREE.value
    turn_detection: str = "client"  # client | server | semantic
    patience: str = "medium"  # low | medium | high: how long a pause may last (app.modes)
    frame_policy: str = "auto"
    frames_per_minute: int = 30
    recordings_dir: str = ""  # "" = default_recordings_dir()
    recording: bool = True
    # The offline backend's brain: a local OpenAI-compatible server (app.local_models);
    # llm_url "" = the built-in model. llm_auth_env: the NAME of a variable holding its key.
    llm_url: str = ""  # e.g. http://127.0.0.1:11434/v1
    llm_model: str = ""  # "" = the server's first model
    llm_vision: bool = True  # False: never send camera frames to it
    llm_auth_env: str = ""
    theme: str = "system"  # the window's colours: system | light | dark
    # Cloud endpoints (app.endpoints; "" = the provider's public endpoint).
    openai_url: str = ""  # an OpenAI-compatible proxy's API root (OPENAI_BASE_URL)
    gemini_url: str = ""  # a Gemini Live gateway (VOICECAM_GEMINI_URL)
    vertex_project: str = ""  # set: Gemini through Vertex AI
    vertex_location: str = ""  # "" = us-central1
    azure_endpoint: str = ""  # https://NAME.openai.azure.com (AZURE_OPENAI_ENDPOINT)
    azure_api_version: str = ""  # "" = the GA /openai/v1 API
    # Provider options (app.provider_options).
    noise_reduction: str = "auto"  # auto | near | far | off (OpenAI)
    vad_eagerness: str = "auto"  # semantic VAD: auto | low | medium | high (OpenAI)
    idle_timeout_ms: int = 0  # server VAD: answer after this much silence (0 = off; OpenAI)
    media_resolution: str = "default"  # default | low | medium | high (Gemini)
    context_compression: bool = True  # Gemini: sessions with video last past 2 minutes
    proactive_audio: bool = False  # Gemini native-audio models
    affective_dialog: bool = False  # Gemini native-audio models
    reasoning_effort: str = "default"  # default | minimal … xhigh (OpenAI reasoning models)
    # Spend limits in US dollars (0 = no limit): app.day_spend, app.core_budget.
    budget_session_usd: float = 0.0
    budget_day_usd: float = 0.0
    # Privacy (app.redaction): blur faces off | cloud | always; screen-sharing exclusions.
    blur_faces: str = "off"
    exclude_windows: str = ""  # window titles, comma-separated
    exclude_region: str = ""  # X,Y,W,H on the virtual screen
    # Retention (app.retention), applied at start: 0 = keep forever / no size limit.
    keep_days: int = 0
    keep_gb: float = 0.0

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if not (self.backend in BACKENDS or self.backend.startswith(("ws://", "wss://"))):
            raise SettingsError(
                f"unknown backend {self.backend!r} (setting backend): use "
                f"{', '.join(BACKENDS)}, or a ws://HOST:PORT/v1/realtime URL"
            )
        if not 0.0 <= self.vad_sensitivity <= 1.0:
            raise SettingsError(f"vad_sensitivity = {self.vad_sensitivity}: use 0.0 … 1.0")
        if self.aec not in AEC_CHOICES:
            raise SettingsError(f"aec = {self.aec!r}: use one of {', '.join(AEC_CHOICES)}")
        if self.mode not in {m.value for m in Mode}:
            raise SettingsError(
                f"mode = {self.mode!r}: use one of {', '.join(m.value for m in Mode)}"
            )
        if self.turn_detection not in ("client", "server", "semantic"):
            raise SettingsError(
                f"turn_detection = {self.turn_detection!r}: use client, server or semantic"
            )
        if self.patience not in PATIENCE_CHOICES:
            raise SettingsError(f"patience = {self.patience!r}: use {', '.join(PATIENCE_CHOICES)}")
        if self.frame_policy not in FRAME_POLICIES:
            raise SettingsError(
                f"frame_policy = {self.frame_policy!r}: use one of {', '.join(FRAME_POLICIES)}"
            )
        if not 1 <= self.frames_per_minute <= 120:
            raise SettingsError(f"frames_per_minute = {self.frames_per_minute}: use 1 … 120")
        if self.llm_url and not self.llm_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"llm_url = {self.llm_url!r}: use the server's API root, "
                "e.g. http://127.0.0.1:11434/v1"
            )
        if self.theme not in THEMES:
            raise SettingsError(f"theme = {self.theme!r}: use one of {', '.join(THEMES)}")
        if (self.llm_model or self.llm_auth_env) and not self.llm_url:
            raise SettingsError("llm_model and llm_auth_env need llm_url (the server's API root)")
        problem = endpoint_problem(self) or options_problem(
            self.noise_reduction,
            self.vad_eagerness,
            self.idle_timeout_ms,
            self.media_resolution,
            self.reasoning_effort,
        )
        if problem:
            raise SettingsError(problem)
        for name in ("budget_session_usd", "budget_day_usd"):
            usd = getattr(self, name)
            if not 0.0 <= usd < 1e6:  # also refuses NaN
                raise SettingsError(f"{name} = {usd}: use an amount in US dollars, 0 = no limit")
        if self.keep_days < 0 or self.keep_gb < 0:
            raise SettingsError(
                f"keep_days = {self.keep_days}, keep_gb = {self.keep_gb}: use 0 (no limit) or more"
            )
        from app.redaction import exclusion_problem

        privacy_problem = exclusion_problem(self.blur_faces, self.exclude_region)
        if privacy_problem:
            raise SettingsError(privacy_problem)

    # ------------------------------------------------------------------ persistence
    @staticmethod
    def path() -> Path:
        return config_dir() / "settings.toml"

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        """Settings from ``path`` (default ``Settings.path()``); defaults if it does not exist."""
        path = path or cls.path()
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path} is not valid TOML ({exc}); fix or delete it") from exc
        return cls.from_dict(data, source=str(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, object], source: str = "settings") -> Settings:
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}  # checked against each field's type below
        default = cls()
        for key, value in data.items():
            if key not in known:
                continue
            want = type(getattr(default, key))
            if want is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                raise SettingsError(f"{source}: {key} = {value!r} should be a {want.__name__}")
            values[key] = value
        return replace(default, **values)

    def save(self, path: Path | None = None) -> Path:
        path = path or self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".toml.tmp")
        tmp.write_text(dumps_toml(asdict(self)), encoding="utf-8")
        os.replace(tmp, path)
        return path

    # ------------------------------------------------------------------ mapping
    def recordings_path(self) -> Path:
        return (
            Path(self.recordings_dir).expanduser()
            if self.recordings_dir
            else (default_recordings_dir())
        )

    def options(self) -> ConversationOptions:
        """The runtime conversation options these settings describe."""
        return ConversationOptions(
            instructions=self.instructions,
            voice=self.voice,
            mode=Mode(self.mode),
            turn_detection=self.turn_detection,  # type: ignore[arg-type]
            patience=self.patience,  # type: ignore[arg-type]
            vad_threshold=round(0.8 - 0.6 * self.vad_sensitivity, 3),
            provider=provider_options(self),
        )

    def pacer_config(self) -> PacerConfig:
        return PacerConfig(
            policy=self.resolved_frame_policy(), budget_per_minute=self.frames_per_minute
        )

    def resolved_frame_policy(self) -> Policy:
        """``auto`` made concrete for this backend and model (``app.pricing.bills_every_frame``)."""
        if self.frame_policy != "auto":
            return Policy(self.frame_policy)
        billed = bills_every_frame(self.backend, self.model)
        return Policy.CHANGE_OR_REQUEST if billed else Policy.ON_SPEECH


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = (
            value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\t", "\\t")
        )
        return f'"{escaped}"'
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps_toml(data: Mapping[str, object]) -> str:
    """A flat table of str/int/float/bool as TOML (enough for ``Settings``)."""
    lines = ["# VoiceCam settings. API keys are never stored here (environment or keyring)."]
    lines += [f"{key} = {_toml_value(value)}" for key, value in data.items()]
    return "\n".join(lines) + "\n"
