"""The app asks the offline server for semantic_vad when the server detects turns."""

from __future__ import annotations

from app.compose import assemble
from app.config import Settings
from app.modes import ConversationOptions, Mode, for_backend


class _NoAudio:
    def __init__(self, rate: int) -> None:
        self.rate = rate


def test_local_server_detection_becomes_semantic_vad() -> None:
    opts = ConversationOptions(mode=Mode.HANDS_FREE, turn_detection="server")
    local = for_backend(opts, "local")
    assert local.turn_detection == "semantic"
    assert local.session_config("local").turn_detection.mode == "semantic_vad"
    # Cloud providers keep what was chosen; client detection stays client detection.
    assert for_backend(opts, "openai").session_config("m").turn_detection.mode == "server_vad"
    client = ConversationOptions(turn_detection="client")
    assert for_backend(client, "local").session_config("local").turn_detection.mode == "none"


def test_the_assembly_asks_the_local_backend_for_semantic_vad() -> None:
    for backend, expected in (("local", "semantic"), ("openai", "server")):
        settings = Settings(backend=backend, turn_detection="server")
        parts = assemble(settings, reconnect=False, make_audio=lambda rate: _NoAudio(rate))  # type: ignore[arg-type,return-value]
        try:
            assert parts.options.turn_detection == expected, backend
        finally:
            parts.close()
