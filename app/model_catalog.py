"""The cloud models VoiceCam offers, with their limits and the options each one takes (pure).

One row per model the pickers show, first = the backend's default. Sources (read 2026-12-05):

* OpenAI: the model literals of ``openai`` 3.63 (``RealtimeSessionCreateRequest.model``) and
  developers.openai.com/api/docs/models/<model> (context window; a Realtime session lasts at
  most 60 minutes).
* Gemini: the model names in ``google-genai`` 3.6 and ai.google.dev/gemini-api/docs/models/
  <model>, …/live-api/capabilities (proactive audio and affective dialog: 2.5 native-audio
  models only; 3.1 Flash Live has neither; 3.8 Live always listens proactively and refuses
  both fields) and …/live-api/session-management (without context-window compression a
  session ends after 15 minutes of audio, or 2 minutes with video; one connection lasts
  about 10 minutes, then the server sends ``goAway`` and the app resumes).

Prices are not here: ``assets/pricing.toml`` is the one price table (``realtime.pricing``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MODELS", "ModelInfo", "info", "models_for", "session_cap_s"]


@dataclass(frozen=True)
class ModelInfo:
    """One realtime model. Token counts are the context window; durations in seconds."""

    name: str
    provider: str  # "openai" | "gemini"
    context_tokens: int
    #: Longest session the provider allows (None: no fixed cap once compression is on).
    session_cap_s: float | None
    #: Gemini, compression off: the session ends after this long (audio only / with video).
    audio_only_cap_s: float | None = None
    video_cap_s: float | None = None
    #: Gemini native-audio options the model accepts when asked for.
    proactive_audio: bool = False
    affective_dialog: bool = False
    reasoning: bool = False
    note: str = ""


_OPENAI_CAP_S = 60 * 60.0


def _gemini(name: str, native_audio: bool = False, note: str = "") -> ModelInfo:
    return ModelInfo(
        name,
        "gemini",
        131_072,
        session_cap_s=None,
        audio_only_cap_s=15 * 60.0,
        video_cap_s=2 * 60.0,
        proactive_audio=native_audio,
        affective_dialog=native_audio,
        note=note,
    )


MODELS: tuple[ModelInfo, ...] = (
    ModelInfo("gpt-realtime-2.1", "openai", 128_000, _OPENAI_CAP_S, reasoning=True),
    ModelInfo("gpt-realtime-2", "openai", 128_000, _OPENAI_CAP_S, reasoning=True),
    ModelInfo("gpt-realtime-2.1-mini", "openai", 128_000, _OPENAI_CAP_S, reasoning=True),
    ModelInfo("gpt-realtime-1.5", "openai", 32_000, _OPENAI_CAP_S),
    ModelInfo("gpt-realtime", "openai", 32_000, _OPENAI_CAP_S),
    ModelInfo("gpt-realtime-mini", "openai", 32_000, _OPENAI_CAP_S),
    _gemini("gemini-3.8-live", note="always proactive; affective dialog removed"),
    _gemini("gemini-3.1-flash-live-preview", note="no proactive audio or affective dialog"),
    _gemini("gemini-2.5-flash-native-audio-preview-12-2025", native_audio=True),
    _gemini("gemini-2.5-flash-native-audio-preview-09-2025", native_audio=True),
    _gemini("gemini-live-2.5-flash-native-audio", native_audio=True),  # Vertex AI's GA name
)


def models_for(provider: str) -> tuple[str, ...]:
    """The picker's model names for ``provider``, default first."""
    return tuple(m.name for m in MODELS if m.provider == provider)


def info(model: str) -> ModelInfo | None:
    """The row for ``model`` (``models/`` prefix and a Vertex resource path allowed)."""
    name = model.removeprefix("models/").rsplit("/", 1)[-1]
    return next((m for m in MODELS if m.name == name), None)


def session_cap_s(model: str, *, compression: bool, video: bool) -> float | None:
    """How long a session with ``model`` can last (None: not known, or no fixed cap). Gemini
    without context-window compression: 2 minutes with video, 15 minutes audio only."""
    row = info(model)
    if row is None:
        return None
    if row.provider == "gemini" and not compression:
        return row.video_cap_s if video else row.audio_only_cap_s
    return row.session_cap_s
