"""Redaction set-up shared by the video tests: both face detectors, the model required."""

from __future__ import annotations

import pytest

from video.face_model import FETCH_COMMAND, default_model_path
from video.redact import RedactConfig


def require_face_model() -> None:
    """Fail (not skip) when CenterFace's file is absent: ``make test`` fetches it, and a
    skipped model test would let the redactor's default detector go untested."""
    path = default_model_path()
    if not path.is_file():
        pytest.fail(f"the face model is missing: {path}; fetch it with `{FETCH_COMMAND}`")


@pytest.fixture(params=["model", "haar"])
def redact_config(request: pytest.FixtureRequest) -> RedactConfig:
    """The redactor's settings with each detector (hold 0): CenterFace (the default) and the
    Haar cascades (the fallback)."""
    if request.param == "model":
        require_face_model()
        return RedactConfig(hold_s=0)
    return RedactConfig(hold_s=0, model=None)
