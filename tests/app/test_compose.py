"""The composition root: setting precedence and the builders every front end shares."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from app.compose import (
    assemble,
    audio_config,
    build_recorder,
    recording_metadata,
    resolve_settings,
    settings_from_env,
)
from app.config import Settings, SettingsError
from app.modes import Mode
from realtime.recording.reader import SessionFile


def test_precedence_flags_over_env_over_file() -> None:
    saved = Settings(aec="headphones", vad_sensitivity=0.9, frame_policy="continuous")
    env = {"VOICECAM_AEC": "off", "VOICECAM_FRAMES_PER_MINUTE": "12", "VOICECAM_THEME": "dark"}
    s = resolve_settings({"aec": "on", "mode": None}, env=env, base=saved)
    assert s.aec == "on"  # the flag
    assert s.frames_per_minute == 12  # the environment
    assert s.vad_sensitivity == 0.9 and s.frame_policy == "continuous"  # the file
    assert s.mode == Mode.HANDS_FREE.value  # nobody said: the default


def test_env_values_are_parsed_by_type_and_bad_ones_named() -> None:
    assert settings_from_env({"VOICECAM_CAMERA_ON": "no", "VOICECAM_RECORDING": "1"}) == {
        "camera_on": False,
        "recording": True,
    }
    with pytest.raises(SettingsError, match="VOICECAM_VAD_SENSITIVITY"):
        settings_from_env({"VOICECAM_VAD_SENSITIVITY": "loud"})
    with pytest.raises(SettingsError, match="vad_sensitivity"):
        resolve_settings(env={"VOICECAM_VAD_SENSITIVITY": "3"}, base=Settings())
    with pytest.raises(SettingsError, match="unknown setting"):
        resolve_settings({"colour": "red"}, env={}, base=Settings())


def test_a_model_saved_for_another_backend_is_dropped() -> None:
    saved = Settings(backend="openai", model="gpt-realtime-mini", voice="cedar")
    s = resolve_settings({"backend": "gemini"}, env={}, base=saved)
    assert (s.backend, s.model, s.voice) == ("gemini", "", "")
    s = resolve_settings({"backend": "gemini", "model": "m"}, env={}, base=saved)
    assert (s.model, s.voice) == ("m", "")
    s = resolve_settings({}, env={}, base=saved)
    assert (s.model, s.voice) == ("gpt-realtime-mini", "cedar")


def test_headless_audio_honours_saved_echo_cancellation_and_vad() -> None:
    cfg = audio_config(
        Settings(aec="headphones", vad_sensitivity=0.8, input_device="USB"), send_rate_hz=16000
    )
    assert cfg.headphones and cfg.echo_cancellation and cfg.vad_sensitivity == 0.8
    assert cfg.input_device == "USB" and cfg.output_device is None and cfg.send_rate_hz == 16000
    assert not audio_config(Settings(aec="off"), send_rate_hz=24000).echo_cancellation


def test_assembly_uses_saved_pacing_and_one_recording_metadata(
    tmp_path: Path, media_dir: Path
) -> None:
    from video.file import FileSource

    source = FileSource(media_dir / "video" / "desk.mp4", loop=True)
    settings = Settings(backend="openai", frame_policy="continuous", frames_per_minute=7)
    parts = assemble(
        settings,
        reconnect=False,
        make_audio=lambda rate: _NoAudio(rate),
        frames_source=source,
        record_to=tmp_path / "rec",
    )
    try:
        assert parts.backend.name == "openai" and parts.options.mode == Mode.HANDS_FREE
        assert isinstance(parts.audio, _NoAudio) and parts.audio.rate == 24000
        assert parts.frames is not None
        assert parts.frames.pacer.config.budget_per_minute == 7
        assert parts.frames.pacer.config.policy.value == "continuous"
        assert parts.recorder is not None
        # something said: a session with nothing in it is not kept (app.retention)
        parts.recorder.record_turn("user", "hello", parts.recorder._current.start_mono_ns, "u1")
    finally:
        parts.close()
    path = parts.recorder.status.path
    assert path is not None
    with SessionFile(path) as sf:
        md = sf.metadata.values
    assert {k: md[k] for k in recording_metadata(parts.backend)} == recording_metadata(
        parts.backend
    )


def test_build_recorder_defaults_to_the_settings_folder(tmp_path: Path) -> None:
    from app.backends import resolve

    spec = resolve("openai", reconnect=False)
    rec = build_recorder(Settings(recordings_dir=str(tmp_path / "sessions")), spec, turns="x")
    status = rec.close()
    assert status.path is not None and status.path.parent == tmp_path / "sessions"
    with SessionFile(status.path) as sf:
        assert sf.metadata.values["turns"] == "x" and sf.metadata.values["free"] is False


class _NoAudio:
    """Stands in for a port built by ``make_audio`` (only its send rate is checked)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate


def test_patience_sets_the_client_end_of_turn_and_the_providers_eagerness() -> None:
    from app.cli_args import build_parser
    from app.compose import build_turn_end

    args = build_parser().parse_args(["--headless", "--patience", "low"])
    s = resolve_settings({"patience": args.patience}, env={}, base=Settings())
    turns = build_turn_end(s)
    assert turns is not None and turns.eagerness == "high" and not turns.reads_words
    default = build_turn_end(replace(s, patience="medium"))
    assert default is not None and default.eagerness == "medium" and default.reads_words
    patient = build_turn_end(replace(s, patience="high"))
    assert patient is not None and patient.eagerness == "low" and patient.reads_words
    assert patient.policy.cap_ms > default.policy.cap_ms > turns.policy.cap_ms
    assert build_turn_end(replace(s, turn_detection="server")) is None
    semantic = replace(s, turn_detection="semantic", patience="high").options()
    assert semantic.session_config("m").turn_detection.eagerness == "low"
    with pytest.raises(SettingsError, match="patience"):
        Settings(patience="eager")
