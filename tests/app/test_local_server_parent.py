"""The offline server never outlives the app: killed with SIGKILL, the app leaves no server behind.

A child Python process plays the app: it starts the real ``voicecam-server`` through
``app.local_server.LocalServer``, prints the server's PID, and is then killed with SIGKILL (no
clean-up code runs). The server sees its standard input close and exits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.models

APP = """
import sys, time
from app.local_server import LocalServer
server = LocalServer()
server.start()
print(server.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent, the killed app, is gone; init reaps it).
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_server_exits_when_the_app_is_killed() -> None:
    app = subprocess.Popen([sys.executable, "-c", APP], stdout=subprocess.PIPE, text=True)
    server_pid = None
    try:
        line = app.stdout.readline() if app.stdout else ""
        assert line.strip().isdigit(), f"the stand-in app did not start the server: {line!r}"
        server_pid = int(line)
        assert _alive(server_pid)
        app.send_signal(signal.SIGKILL)
        app.wait(10)
        deadline = time.monotonic() + 30
        while _alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(server_pid), "the offline server outlived the killed app"
    finally:
        if app.poll() is None:
            app.kill()
        if server_pid is not None and _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)
