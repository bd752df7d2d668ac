"""``dsp.model_files.shared_model_path``: the fetched models' folder, or the file an
environment variable names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dsp.model_files import shared_model_path


def test_the_fetched_file_lives_in_the_environments_share_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("VOICECAM_TEST_MODEL", raising=False)
    expected = Path(sys.prefix) / "share" / "voicecam" / "m.onnx"
    assert shared_model_path("m.onnx", "VOICECAM_TEST_MODEL") == expected


def test_the_environment_variable_names_another_file_and_an_empty_one_is_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VOICECAM_TEST_MODEL", str(tmp_path / "x.onnx"))
    assert shared_model_path("m.onnx", "VOICECAM_TEST_MODEL") == tmp_path / "x.onnx"
    monkeypatch.setenv("VOICECAM_TEST_MODEL", "")
    assert shared_model_path("m.onnx", "VOICECAM_TEST_MODEL").name == "m.onnx"
