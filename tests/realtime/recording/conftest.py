from __future__ import annotations

from pathlib import Path

import pytest

from tests.realtime.recording.synth import SynthResult, write_session


@pytest.fixture(scope="session")
def synth_session(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    """A 3-turn recorded session (read-only: copy it before changing it)."""
    path = tmp_path_factory.mktemp("synth") / "three_turns.voicecam"
    return write_session(path, turns=3, raw_mic=True)


@pytest.fixture(scope="session")
def session_path(synth_session: SynthResult) -> Path:
    return synth_session.path
