"""Shared test set-up: Qt offscreen by default, paths to the shared media."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# No test reads or writes the real settings or sessions folders (~/.config/voicecam,
# ~/.local/share/voicecam): one run's saved settings must not change another test's defaults.
# Subprocesses inherit these; tests that need their own folder still set VOICECAM_CONFIG_DIR.
_ISOLATED = Path(tempfile.mkdtemp(prefix="voicecam-tests-"))
os.environ["VOICECAM_CONFIG_DIR"] = str(_ISOLATED / "config")
os.environ["XDG_DATA_HOME"] = str(_ISOLATED / "data")

pytest_plugins = [
    "tests.fixtures.mjpeg",
    "tests.fixtures.pulse",
]

REPO = Path(__file__).resolve().parents[1]
MEDIA = (REPO.parent / "shared" / "media").resolve()
SPEECH = MEDIA / "speech"
VIDEO = MEDIA / "video"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    if not MEDIA.is_dir():
        pytest.fail(f"shared media not found at {MEDIA}: expected ../shared/media beside the repo")
    return MEDIA


@pytest.fixture(scope="session")
def utterances(media_dir: Path) -> dict:
    """``utterances.json``: exact text and voiced start/end (ms) of every shared speech file."""
    return json.loads((media_dir / "speech" / "utterances.json").read_text())
