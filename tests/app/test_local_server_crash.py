"""``LocalServer.recent_crash``: a killed child is reported at once, whether or not the
watchdog has restarted it (a stand-in server process: no models)."""

from __future__ import annotations

import os
import signal
import sys
import time

from app.local_server import LocalServer

STAND_IN = """
import sys, time
print("VOICECAM-SERVER READY ws://127.0.0.1:9/v1/realtime", flush=True)
print("stand-in server up", file=sys.stderr, flush=True)
time.sleep(600)
"""


def _wait_dead(pid: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split()[2] == "Z":
                    return
        except FileNotFoundError:
            return
        time.sleep(0.01)
    raise AssertionError(f"the stand-in server {pid} did not die")


def test_a_killed_server_is_reported_even_when_it_is_not_restarted() -> None:
    server = LocalServer(command=[sys.executable, "-c", STAND_IN], max_restarts=0)
    try:
        server.start()
        assert server.recent_crash() == ""
        pid = server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        _wait_dead(pid)
        crash = server.recent_crash()
        assert "exit status -9" in crash, crash
        time.sleep(1.2)  # the watchdog has looked by now and given up restarting
        assert "exit status -9" in server.recent_crash()
    finally:
        server.stop()
    assert server.recent_crash() == "", "a server stopped on purpose is no crash"
