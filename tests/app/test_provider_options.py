"""Provider options (issue 13, item 3): from settings to wire messages the official SDKs accept."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.config import Settings, SettingsError
from app.modes import ConversationOptions
from app.provider_options import media_resolution_label, noise_reduction_for
from realtime.gemini import GeminiCore
from realtime.openai import OpenAICore
from tests.realtime.sdk_validators import validate_gemini_client, validate_openai_client


def _openai_session(settings: Settings, model: str = "gpt-realtime-2.1") -> dict[str, Any]:
    core = OpenAICore()
    core.start(settings.options().session_config(model))
    (msg,) = core.messages()
    validate_openai_client(msg)  # the SDK's own type, Literal values checked
    session: dict[str, Any] = json.loads(msg)["session"]
    return session


def _gemini_setup(settings: Settings, model: str) -> dict[str, Any]:
    core = GeminiCore()
    core.start(settings.options().session_config(model))
    (msg,) = core.messages()
    validate_gemini_client(msg)  # LiveClientMessage rejects any unknown field
    setup: dict[str, Any] = json.loads(msg)["setup"]
    return setup


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        ("Jabra Evolve2 65 Mono", "near_field"),
        ("WH-1000XM5 Headset (Bluetooth Hands-Free)", "near_field"),
        ("AirPods Pro", "near_field"),
        ("bluez_input.AC_80_0A.handsfree_head_unit", "near_field"),
        ("Built-in Audio Analog Stereo", "far_field"),
        ("MacBook Pro Microphone", "far_field"),
        ("HD Pro Webcam C920 Analog Stereo", "far_field"),
        ("", "far_field"),  # the system default, unnamed: assume a laptop or room microphone
    ],
)
def test_noise_reduction_is_chosen_from_the_input_device(device: str, expected: str) -> None:
    assert noise_reduction_for(device) == expected
    session = _openai_session(Settings(input_device=device))
    assert session["audio"]["input"]["noise_reduction"] == {"type": expected}


def test_noise_reduction_override_and_off() -> None:
    laptop = "Built-in Audio Analog Stereo"
    near = _openai_session(Settings(input_device=laptop, noise_reduction="near"))
    assert near["audio"]["input"]["noise_reduction"] == {"type": "near_field"}
    off = _openai_session(Settings(input_device=laptop, noise_reduction="off"))
    assert "noise_reduction" not in off["audio"]["input"]


def test_auto_eagerness_keeps_the_patience_choice() -> None:
    """Two settings reach semantic_vad's eagerness: the provider option wins when set, and its
    "auto" leaves the one the conversation's patience chose (app.modes)."""
    patient = _openai_session(Settings(turn_detection="semantic", patience="high"))
    chosen = patient["audio"]["input"]["turn_detection"]["eagerness"]
    assert chosen == ConversationOptions(patience="high").eagerness
    assert chosen != "auto"
    both = _openai_session(
        Settings(turn_detection="semantic", patience="high", vad_eagerness="low")
    )
    assert both["audio"]["input"]["turn_detection"]["eagerness"] == "low"


def test_semantic_vad_eagerness_and_server_vad_idle_timeout() -> None:
    semantic = _openai_session(Settings(turn_detection="semantic", vad_eagerness="high"))
    td = semantic["audio"]["input"]["turn_detection"]
    assert td["type"] == "semantic_vad" and td["eagerness"] == "high"
    server = _openai_session(Settings(turn_detection="server", idle_timeout_ms=8000))
    td = server["audio"]["input"]["turn_detection"]
    assert td["type"] == "server_vad" and td["idle_timeout_ms"] == 8000
    assert (
        "idle_timeout_ms"
        not in _openai_session(Settings(turn_detection="server"))["audio"]["input"][
            "turn_detection"
        ]
    )


def test_gemini_media_resolution_and_its_token_cost() -> None:
    setup = _gemini_setup(Settings(media_resolution="low"), "gemini-3.8-live")
    assert setup["generationConfig"]["mediaResolution"] == "MEDIA_RESOLUTION_LOW"
    default = _gemini_setup(Settings(), "gemini-3.8-live")
    assert "mediaResolution" not in default["generationConfig"]
    assert media_resolution_label("gemini-3.8-live", "high").endswith("280 tokens per frame")
    assert media_resolution_label("gemini-2.5-flash-native-audio-preview-12-2025", "low") == (
        "Low — about 64 tokens per frame"
    )


def test_gemini_native_audio_options_only_where_the_model_takes_them() -> None:
    asked = Settings(proactive_audio=True, affective_dialog=True)
    native = _gemini_setup(asked, "gemini-2.5-flash-native-audio-preview-12-2025")
    assert native["proactivity"] == {"proactiveAudio": True}
    assert native["generationConfig"]["enableAffectiveDialog"] is True
    # 3.8 Live refuses both fields (always proactive), 3.1 Flash Live has neither, and an
    # unknown model is not sent what might make it refuse the whole setup.
    for model in ("gemini-3.8-live", "gemini-3.1-flash-live-preview", "gemini-9-unknown"):
        setup = _gemini_setup(asked, model)
        assert "proactivity" not in setup, model
        assert "enableAffectiveDialog" not in setup["generationConfig"], model


def test_context_compression_is_on_by_default_and_can_be_turned_off() -> None:
    on = _gemini_setup(Settings(), "gemini-3.1-flash-live-preview")
    assert on["contextWindowCompression"]["triggerTokens"] == int(131_072 * 0.8)
    off = _gemini_setup(Settings(context_compression=False), "gemini-3.1-flash-live-preview")
    assert "contextWindowCompression" not in off


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("noise_reduction", "loud", "noise_reduction"),
        ("vad_eagerness", "eager", "vad_eagerness"),
        ("idle_timeout_ms", -1, "idle_timeout_ms"),
        ("idle_timeout_ms", 500, "use 0 \\(off\\) or 1000"),
        ("media_resolution", "ultra", "media_resolution"),
    ],
)
def test_bad_option_values_are_refused_with_the_allowed_ones(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_dict({field: value})


def test_session_limits_per_model_and_compression() -> None:
    """Without compression a Gemini video session ends after 2 minutes (15 audio only); the
    backend carries the cap so the window counts it down. OpenAI sessions last 60 minutes."""
    from app.compose import build_backend

    def cap(video: bool, **values: object) -> float | None:
        return build_backend(Settings.from_dict(values), video=video).session_cap_s

    assert cap(True, backend="gemini") is None  # compression on: no fixed cap
    assert cap(True, backend="gemini", context_compression=False) == 120.0
    assert cap(False, backend="gemini", context_compression=False) == 900.0
    assert cap(True, backend="openai", model="gpt-realtime-2") == 3600.0
    assert cap(True, backend="local") is None


def test_beta_protocol_session_carries_the_options_too() -> None:
    """Azure's dated preview API speaks the beta protocol: its session.update is checked
    against the SDK's beta type (``openai.types.beta.realtime.SessionUpdateEvent``)."""
    from openai.types.beta.realtime import SessionUpdateEvent

    settings = Settings(
        input_device="Jabra Evolve2", turn_detection="semantic", vad_eagerness="low"
    )
    core = OpenAICore(beta=True)
    core.start(settings.options().session_config("gpt-4o-realtime-preview"))
    (msg,) = core.messages()
    event = SessionUpdateEvent.model_validate_json(msg)
    noise = event.session.input_audio_noise_reduction
    assert noise is not None and noise.type == "near_field"
    td = event.session.turn_detection
    assert td is not None and td.type == "semantic_vad" and td.eagerness == "low"


def test_reasoning_effort_only_for_reasoning_models() -> None:
    settings = Settings(reasoning_effort="minimal")
    session = _openai_session(settings, "gpt-realtime-2")
    assert session["reasoning"] == {"effort": "minimal"}
    for model in ("gpt-realtime-1.5", "gpt-realtime", "local"):  # they take no reasoning
        assert "reasoning" not in _openai_session(settings, model), model
    assert "reasoning" not in _openai_session(Settings(), "gpt-realtime-2")  # model's default
    with pytest.raises(SettingsError, match="reasoning_effort"):
        Settings(reasoning_effort="max")
