"""Recording failures never reach the caller; secrets never reach the file."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime.recording.errors import RecordingError
from realtime.recording.reader import SessionFile
from realtime.recording.scrub import Scrubber
from realtime.recording.writer import SessionRecorder
from tests.realtime.recording.synth import write_session

REPO = Path(__file__).resolve().parents[3]
CANARY = "sk-canary-7f3a9c2e5b1d4a8f6e0c"


@contextlib.contextmanager
def tiny_tmpfs(where: Path, size: str = "1m", ro: bool = False) -> Iterator[Path]:
    where.mkdir()
    opts = f"size={size}" + (",ro" if ro else "")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _keep_recording(rec: SessionRecorder, seconds_of_audio: int) -> None:
    t = time.monotonic_ns()
    chunk = os.urandom(640)  # incompressible 20 ms
    for i in range(seconds_of_audio * 50):
        rec.record_mic(chunk, 16000, t + i * 20_000_000)  # must never raise
        rec.on_wire("out", '{"type":"input_audio_buffer.append"}', t + i * 20_000_000)
        if i % 100 == 0:
            time.sleep(0.01)


def test_full_disk_stops_recording_visibly(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "disk") as disk:
        errors: list[RecordingError] = []
        rec = SessionRecorder(
            directory=disk / "sessions", on_error=errors.append, commit_interval_s=0.05
        )
        assert rec.status.state == "recording"
        _keep_recording(rec, 60)  # ~2 MB of audio into 1 MB
        deadline = time.monotonic() + 20
        while rec.status.state != "failed" and time.monotonic() < deadline:
            time.sleep(0.05)
        status = rec.status
        assert status.state == "failed", status
        assert "disk is full" in str(status.error) and "conversation continues" in str(status.error)
        assert errors == [status.error]
        rec.record_mic(b"\0\0" * 10, 16000, time.monotonic_ns())  # still no exception
        rec.close()
        assert rec.status.state == "failed" and rec.status.dropped > 0
        # what was committed before the disk filled is readable
        assert status.path is not None
        with SessionFile(status.path) as sf:
            assert sf.table_counts()["mic"] > 0


def test_file_size_limit_in_a_subprocess(tmp_path: Path) -> None:
    """RLIMIT_FSIZE (EFBIG) is the other way a write fails: same visible error, no crash."""
    code = r"""
import os, sys, time, signal, resource
sys.path.insert(0, sys.argv[2])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))
from realtime.recording.writer import SessionRecorder
rec = SessionRecorder(sys.argv[1], commit_interval_s=0.05)
t = time.monotonic_ns()
for i in range(3000):
    rec.record_mic(os.urandom(640), 16000, t + i)
    if i % 100 == 0:
        time.sleep(0.01)
deadline = time.monotonic() + 20
while rec.status.state != "failed" and time.monotonic() < deadline:
    time.sleep(0.05)
rec.close()
print(rec.status.state, "|", rec.status.error)
"""
    r = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "f.voicecam"), str(REPO)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    state, _, message = r.stdout.partition("|")
    assert state.strip() == "failed"
    assert "Recording stopped" in message and "Traceback" not in r.stderr


def test_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    errors: list[RecordingError] = []
    rec = SessionRecorder(directory=blocker / "sessions", on_error=errors.append)
    assert rec.status.state == "failed" and errors
    _keep_recording(rec, 1)
    rec.set_metadata(model="x")
    rec.close()
    # a failure to create the file says so (issue 17): "could not start", and why
    assert "Recording could not start" in str(rec.status.error)
    assert "is a file, not a folder" in str(rec.status.error)


def test_read_only_filesystem(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "ro", ro=True) as ro:
        rec = SessionRecorder(directory=ro)
        _keep_recording(rec, 1)
        rec.close()
        assert rec.status.state == "failed"
        assert "cannot write" in str(rec.status.error) or "Recording stopped" in str(
            rec.status.error
        )


def test_canary_key_never_stored(tmp_path: Path) -> None:
    # registered as the key in use
    r1 = write_session(tmp_path / "a.voicecam", turns=1, secrets=(CANARY,), leak=CANARY)
    # not registered: the key shape alone must be enough
    r2 = write_session(tmp_path / "b.voicecam", turns=1, leak=CANARY)
    for r in (r1, r2):
        for f in tmp_path.iterdir():
            assert CANARY.encode() not in f.read_bytes(), f
        with SessionFile(r.path) as sf:
            assert "[REDACTED]" in "".join(str(w.payload) for w in sf.wire_messages())
            assert any("[REDACTED]" in t.text for t in sf.turns())


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefghijklmnop1234",
        '{"api_key": "whatever-secret-value-1"}',
        '{"headers": {"Authorization": "Bearer xyz123456789"}}',
        "wss://generativelanguage.googleapis.com/ws?key=AIzaSyDXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        '{"client_secret": {"value": "ek_68af2b7c9d0e1f2a3b4c", "expires_at": 1}}',
        "x-goog-api-key: AIzaSyDXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "sk-proj-AbCdEf0123456789",
    ],
)
def test_scrubber_redacts_key_shapes(text: str) -> None:
    out = Scrubber().text(text)
    assert "[REDACTED]" in out
    for secret in (
        "abcdefghijklmnop",
        "whatever-secret",
        "xyz123456789",
        "AIzaSyD",
        "ek_68af",
        "AbCdEf0123",
    ):
        assert secret not in out


def test_scrubber_leaves_audio_and_usage_alone() -> None:
    import base64
    import json

    msg = json.dumps(
        {
            "type": "response.output_audio.delta",
            "delta": base64.b64encode(os.urandom(48000)).decode(),
            "usage": {"input_tokens": 5, "output_token_details": {"text_tokens": 3}},
        }
    )
    assert Scrubber().text(msg) == msg
