"""Issue 17, items 8, 10 and 11: the offline server child's environment and its stop.

- 8: started by the app's supervisor (``app.local_server.LocalServer``) while the app holds
  ``OPENAI_API_KEY``/``GEMINI_API_KEY``/``VOICECAM_BACKEND_TOKEN``, the child's real environment
  (``/proc/PID/environ``) has none of them, only its own token;
- 10: stopped the way the app stops it (``--exit-with-stdin`` + SIGTERM, with a client
  connected), it exits 0 without "Fatal Python error" — through the supervisor and directly,
  also when the app's end of the stdin pipe closes;
- 11: SIGTERM while a 10-minute input is being transcribed: exit 0 at once (the bound below is
  a liveness limit far under the transcription's length, not a speed target: the fault bench
  prints the figure).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from realtime.recording.scrub import held_secrets
from tests.realtime.local.conftest import REPO

pytestmark = pytest.mark.models
APP_SECRETS = {
    "OPENAI_API_KEY": "sk-app-held-openai-" + "a" * 20,
    "GEMINI_API_KEY": "AIzaAppHeldGemini" + "b" * 20,
    "VOICECAM_BACKEND_TOKEN": "app-held-backend-token-" + "c" * 10,
}
#: Exit within this after SIGTERM (liveness: the unfixed server took 14 s for item 11).
EXIT_LIMIT_S = 5.0


@pytest.fixture(scope="module")
def supervised() -> Iterator[Any]:
    from app.local_server import LocalServer

    saved = {k: os.environ.get(k) for k in APP_SECRETS}
    os.environ.update(APP_SECRETS)
    server = LocalServer(ready_timeout_s=300, max_restarts=0)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def child_environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(p.decode().split("=", 1) for p in raw.split(b"\0") if b"=" in p)


def test_the_server_child_gets_no_app_secrets(supervised: Any) -> None:
    env = child_environ(supervised.pid)
    leaked = sorted(k for k in env if k in APP_SECRETS or env[k] in APP_SECRETS.values())
    assert leaked == [], leaked
    assert env["VOICECAM_SERVER_TOKEN"] == supervised.token
    assert supervised.token in held_secrets()  # scrubbed from everything the app prints


def test_the_app_stops_the_server_cleanly_with_a_client_connected(supervised: Any) -> None:
    proc = supervised._proc
    with connect(
        supervised.url, additional_headers={"Authorization": f"Bearer {supervised.token}"}
    ) as ws:
        assert json.loads(ws.recv(timeout=30))["type"] == "session.created"
        t0 = time.monotonic()
        supervised.stop()
        took = time.monotonic() - t0
    crash = [line for line in supervised._stderr if "Fatal Python error" in line]
    assert proc.returncode == 0, (proc.returncode, list(supervised._stderr))
    assert crash == []
    assert took < EXIT_LIMIT_S, took


def start_like_the_app() -> tuple[subprocess.Popen[bytes], str, str]:
    """``voicecam-server`` as the supervisor starts it: stdin a pipe, --exit-with-stdin."""
    token = "stop-test-token-" + "z" * 12
    proc = subprocess.Popen(
        [sys.executable, "-m", "realtime.local.server", "--port", "0", "--exit-with-stdin"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "VOICECAM_SERVER_TOKEN": token, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 300
    for raw in proc.stdout:
        line = raw.decode().strip()
        if line.startswith("VOICECAM-SERVER READY "):
            return proc, line.split()[-1], token
        if time.monotonic() > deadline or line.startswith("VOICECAM-SERVER ERROR"):
            break
    proc.kill()
    raise AssertionError("the server did not get ready")


def wait_exit(proc: subprocess.Popen[bytes]) -> tuple[int, float, str]:
    t0 = time.monotonic()
    try:
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    took = time.monotonic() - t0
    assert proc.stderr is not None
    return proc.returncode, took, proc.stderr.read().decode("utf-8", "replace")


def test_sigterm_during_a_long_transcription_exits_0_at_once(media_dir: Path) -> None:
    from dsp.pcm import read_wav
    from dsp.resample import resample

    pcm16k, rate = read_wav(media_dir / "speech" / "q01_piper.wav")
    assert rate == 16000
    speech = resample(pcm16k, 16000, 24000)
    ten_minutes = (speech * (600 * 48000 // len(speech) + 1))[: 600 * 48000]
    proc, url, token = start_like_the_app()
    try:
        with connect(
            url, additional_headers={"Authorization": f"Bearer {token}"}, max_size=None
        ) as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "session.created"
            ws.send(json.dumps({"type": "session.update", "session": {
                "type": "realtime", "audio": {"input": {"turn_detection": None}}}}))  # fmt: skip
            step = 24000 * 2 * 60  # one minute per append (3.8 MB of base64)
            for i in range(0, len(ten_minutes), step):
                chunk = base64.b64encode(ten_minutes[i : i + step]).decode()
                ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk}))
            ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
            while json.loads(ws.recv(timeout=120))["type"] != "input_audio_buffer.committed":
                pass
            time.sleep(1.0)  # the transcription is under way in a worker thread
            proc.send_signal(signal.SIGTERM)
            code, took, err = wait_exit(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, err[-2000:]
    assert "Fatal Python error" not in err
    assert took < EXIT_LIMIT_S, took


def test_closing_the_stdin_pipe_stops_the_server_cleanly() -> None:
    proc, _, _ = start_like_the_app()
    assert proc.stdin is not None
    proc.stdin.close()  # the app died: its end of the pipe closes
    code, took, err = wait_exit(proc)
    assert code == 0, err[-2000:]
    assert "Fatal Python error" not in err
    assert took < EXIT_LIMIT_S, took
