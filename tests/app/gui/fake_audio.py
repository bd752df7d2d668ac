"""The shared fake audio port (tests.app.fakes.FakeAudio) reporting ``app.model.Meters``, as
``AudioPort.meters()`` promises (the shared fake returns a dict; see NOTES-gui.md)."""

from __future__ import annotations

from app.model import Meters
from tests.app.fakes import FakeAudio as _SharedFakeAudio


class FakeAudio(_SharedFakeAudio):
    def meters(self) -> Meters:
        return Meters(mic_dbfs=-30.0)
