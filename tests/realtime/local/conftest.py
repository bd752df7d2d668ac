"""Fixtures for the offline server: ONE real ``voicecam-server`` per test session.

The server is started through the real CLI (``python -m realtime.local.server``, the same entry
as ``voicecam-server``) as a subprocess; its READY line is parsed for the URL. Models load once.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    url: str
    token: str
    lines: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.url.split(":")[2].split("/")[0])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_server(*extra: str, timeout_s: float = 180.0) -> ServerProcess:
    """Start the server CLI and wait for its READY line (stdout is drained by a thread)."""
    token = secrets.token_urlsafe(16)
    cmd = [sys.executable, "-m", "realtime.local.server", "--port", "0", f"--token={token}", *extra]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("VOICECAM-SERVER READY "):
                url.append(line.split()[-1])
                ready.set()
        ready.set()

    def drain_err() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append("stderr: " + line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    threading.Thread(target=drain_err, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    while not ready.wait(0.2):
        if time.monotonic() > deadline or proc.poll() is not None:
            break
    if not url:
        proc.kill()
        pytest.fail("voicecam-server did not become ready:\n" + "\n".join(lines))
    return ServerProcess(proc=proc, url=url[0], token=token, lines=lines)


@pytest.fixture(scope="session")
def local_server() -> Iterator[ServerProcess]:
    server = start_server()
    yield server
    code = server.stop()
    assert code == 0, "server did not exit cleanly:\n" + "\n".join(server.lines[-20:])


# A real llama_cpp.server (SmolLM2 over HTTP) for the discovery and chat-endpoint tests.
from tests.realtime.local.llm_server import llama_server  # noqa: E402, F401


@pytest.fixture(scope="session")
def turn_model() -> object:
    """Smart Turn v3.2 (dsp.turn_model), loaded once per test session."""
    from dsp.turn_model import TurnModel

    return TurnModel.load()
