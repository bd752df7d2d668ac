"""The offline server's serving rules, against a real ``voicecam-server`` process.

One server per module (models load once), started through a wrapper that installs a
``sys.addaudithook`` hook before importing the server: every Python-level ``open``/``os.listdir``/
``os.scandir`` of a path inside a "secret zone" folder is appended to a log. The zone also holds a
FIFO: a C-level open for reading (cv2.imread, ffmpeg, …) would block on it, which the test detects
by opening the FIFO's write end non-blocking (it succeeds only if a reader is waiting).
"""

from __future__ import annotations

import base64
import errno
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.realtime.sdk_validators import validate_openai_server

pytestmark = pytest.mark.models
REPO = Path(__file__).resolve().parents[2]
TOKEN = "local-token-" + "k" * 20

WRAPPER = r"""
import sys
zone, log = sys.argv[1], sys.argv[2]

def hook(event, args):
    if event in ("open", "os.listdir", "os.scandir", "os.stat") and args:
        path = args[0]
        if isinstance(path, bytes):
            path = path.decode("utf-8", "replace")
        if isinstance(path, str) and zone in path:
            with open(log, "a") as f:  # re-enters the hook with the log path (not in zone)
                f.write(f"{event} {path}\n")

sys.addaudithook(hook)
from realtime.local.server import main
sys.exit(main(sys.argv[3:]))
"""


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    zone: Path
    audit_log: Path
    lines: list[str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("srv")
    zone = tmp / "secret-zone"
    zone.mkdir()
    import cv2
    import numpy as np

    cv2.imwrite(str(zone / "pic.png"), np.full((32, 32, 3), 200, np.uint8))
    os.mkfifo(zone / "cam.fifo")
    audit = tmp / "audit.log"
    audit.touch()
    proc = subprocess.Popen(
        [
            sys.executable, "-c", WRAPPER, str(zone), str(audit),
            "--port", "0", "--token", TOKEN, "--max-message-mb", "0.25",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("VOICECAM-SERVER READY "):
                ready.set()
        ready.set()

    threading.Thread(target=pump, daemon=True).start()
    ready.wait(240)
    url = next((ln.split()[-1] for ln in lines if ln.startswith("VOICECAM-SERVER READY ")), None)
    if url is None:
        proc.kill()
        pytest.fail("server did not start:\n" + "\n".join(lines[-30:]))
    yield Server(proc, url, zone, audit, lines)
    proc.terminate()
    assert proc.wait(30) == 0, "\n".join(lines[-30:])


def _open(server: Server, **headers: str) -> Any:
    hdrs = {"Authorization": f"Bearer {TOKEN}", **headers}
    ws = connect(server.url, additional_headers=hdrs, max_size=None, open_timeout=20)
    first = json.loads(ws.recv(20))
    assert first["type"] == "session.created"
    return ws


def _recv(ws: Any, timeout: float = 20) -> dict[str, Any]:
    event = json.loads(ws.recv(timeout))
    validate_openai_server(event)
    return event


def test_binds_loopback_by_default(server: Server) -> None:
    assert server.url.startswith("ws://127.0.0.1:"), server.url


def test_non_loopback_host_needs_the_explicit_flag() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "realtime.local.server", "--host", "0.0.0.0", "--token", "t"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert "--allow-remote" in r.stderr and "Traceback" not in r.stderr
    assert "READY" not in r.stdout


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token"}, 401),
        ({"Authorization": f"Basic {TOKEN}"}, 401),
        ({"Authorization": f"Bearer {TOKEN}x"}, 401),
        ({"Authorization": f"Bearer {TOKEN}", "Origin": "https://evil.example"}, 403),
        ({"Authorization": f"Bearer {TOKEN}", "Origin": "http://127.0.0.1.evil.example"}, 403),
        ({"Authorization": f"Bearer {TOKEN}", "Origin": "null"}, 403),
    ],
)
def test_wrong_token_or_foreign_origin_is_refused(
    server: Server, headers: dict[str, str], status: int
) -> None:
    with pytest.raises(InvalidStatus) as info:
        connect(server.url, additional_headers=headers, open_timeout=20)
    assert info.value.response.status_code == status
    assert TOKEN.encode() not in (info.value.response.body or b"")


def test_loopback_origin_is_accepted(server: Server) -> None:
    _open(server, Origin="http://127.0.0.1:5173").close()


def test_oversized_messages_are_refused_then_the_connection_closed(server: Server) -> None:
    ws = _open(server)
    big = json.dumps(
        {"type": "input_audio_buffer.append", "event_id": "big1", "audio": "A" * 300_000}
    )
    ws.send(big)
    err = _recv(ws)
    assert err["type"] == "error" and err["error"]["code"] == "message_too_large"
    assert err["error"]["event_id"] == "big1"
    ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
    assert _recv(ws)["type"] == "input_audio_buffer.cleared"  # the session goes on
    with pytest.raises(ConnectionClosed) as info:
        ws.send("x" * 600_000)  # beyond twice the cap: closed with 1009
        _recv(ws)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


def _image_item(url: str, n: int) -> str:
    return json.dumps(
        {
            "type": "conversation.item.create",
            "event_id": f"img{n}",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_image", "image_url": url}],
            },
        }
    )


def _reader_waiting(fifo: Path) -> bool:
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        assert exc.errno == errno.ENXIO
        return False
    os.close(fd)
    return True


def test_client_supplied_paths_are_never_opened(server: Server) -> None:
    zone = server.zone
    png = zone / "pic.png"
    fifo = zone / "cam.fifo"
    urls = [
        f"file://{png}",
        str(png),
        f"file://{fifo}",
        str(fifo),
        f"file://localhost{png}",
        "file:///etc/passwd",
        "/etc/passwd",
        f"../../../../../..{png}",
        f"data:image/png;base64,{base64.b64encode(str(png).encode()).decode()}",
        f"{png}?data:image/png;base64,AAAA",
        f"http://127.0.0.1:9/{png.name}",
    ]
    ws = _open(server)
    try:
        for n, url in enumerate(urls):
            ws.send(_image_item(url, n))
            err = _recv(ws)
            assert err["type"] == "error", (url, err)
            assert err["error"]["event_id"] == f"img{n}"
            assert err["error"]["param"] == "item.content.image_url"
        time.sleep(1.0)  # any worker that would open a path has had time to try
        assert not _reader_waiting(fifo), "something opened the FIFO for reading"
        assert server.audit_log.read_text() == "", server.audit_log.read_text()
        # the real data URL of the same picture is accepted (the test can tell them apart)
        ok = f"data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}"
        ws.send(_image_item(ok, 99))
        assert _recv(ws)["type"] == "conversation.item.added"
    finally:
        ws.close()
    assert server.proc.poll() is None


def test_audit_hook_sees_opens_in_the_zone(tmp_path: Path) -> None:
    """The wrapper's hook really records an open of a zone path (so the test above can fail)."""
    zone = tmp_path / "secret-zone"
    zone.mkdir()
    (zone / "f").write_text("x")
    log = tmp_path / "audit.log"
    code = WRAPPER.replace(
        "from realtime.local.server import main\nsys.exit(main(sys.argv[3:]))",
        "open(sys.argv[3]).read()",
    )
    subprocess.run([sys.executable, "-c", code, str(zone), str(log), str(zone / "f")], check=True)
    assert str(zone / "f") in log.read_text()
