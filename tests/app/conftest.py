"""App test fixtures: ONE real offline server per session, started by the app's own supervisor.

``app.local_server.LocalServer`` launches ``python -m realtime.local.server`` with a per-launch
token, parses the READY line and stops it at the end — so these tests exercise the supervisor the
app uses, then reuse the server for every assistant/CLI test that needs real models.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.local_server import LocalServer


@pytest.fixture(autouse=True)
def _isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI and rerun read the settings file (app.compose): never the user's own."""
    monkeypatch.setenv("VOICECAM_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(scope="session")
def offline_server() -> Iterator[LocalServer]:
    progress: list[tuple[int, int, str]] = []
    server = LocalServer(on_progress=lambda k, n, what: progress.append((k, n, what)))
    server.start()
    assert progress and progress[-1][0] == progress[-1][1], progress  # every model reported
    yield server
    server.stop()
    assert not server.running
