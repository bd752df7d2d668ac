"""Session fixtures for dsp tests: the Smart Turn model is loaded once per test session."""

from __future__ import annotations

import pytest

from dsp.turn_model import TurnModel


@pytest.fixture(scope="session")
def turn_model() -> TurnModel:
    return TurnModel.load()
