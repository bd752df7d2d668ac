"""Damaged, truncated, foreign and crashed files: a clear SessionFileError, never a traceback."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from realtime.openai import OpenAICore
from realtime.recording.errors import SessionFileError
from realtime.recording.reader import SessionFile
from tests.realtime.recording import fuzzing

REPO = Path(__file__).resolve().parents[3]
CANARY = "sk-canary-crash-9a8b7c6d5e4f3a2b1c0d"


def _open_error(path: Path) -> str:
    with pytest.raises(SessionFileError) as info:
        fuzzing.read_all(path)
    msg = str(info.value)
    assert str(path) in msg and "Traceback" not in msg
    return msg


def test_missing_empty_text_directory(tmp_path: Path) -> None:
    assert "no such file" in _open_error(tmp_path / "nope.voicecam")
    (tmp_path / "empty.voicecam").write_bytes(b"")
    assert "empty" in _open_error(tmp_path / "empty.voicecam")
    (tmp_path / "t.voicecam").write_text("hello, I am a text file\n" * 20)
    assert "not a VoiceCam session" in _open_error(tmp_path / "t.voicecam")
    (tmp_path / "d.voicecam").mkdir()
    assert "not a file" in _open_error(tmp_path / "d.voicecam")


def test_other_sqlite_database(tmp_path: Path) -> None:
    p = tmp_path / "other.voicecam"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    assert "not a VoiceCam session" in _open_error(p)


def test_newer_schema_version(tmp_path: Path, session_path: Path) -> None:
    p = tmp_path / "new.voicecam"
    p.write_bytes(session_path.read_bytes())
    con = sqlite3.connect(p)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    assert "newer VoiceCam" in _open_error(p)


@pytest.mark.parametrize("fraction", [0.0005, 0.01, 0.3, 0.5, 0.9, 0.999])
def test_truncated(tmp_path: Path, session_path: Path, fraction: float) -> None:
    data = session_path.read_bytes()
    p = tmp_path / "trunc.voicecam"
    p.write_bytes(data[: int(len(data) * fraction)])
    msg = _open_error(p)
    assert "truncated" in msg or "damaged" in msg


def test_overwritten_pages(tmp_path: Path, session_path: Path) -> None:
    data = bytearray(session_path.read_bytes())
    rng = random.Random(7)
    p = tmp_path / "bad.voicecam"
    bad = 0
    for _ in range(20):
        d = bytearray(data)
        off = rng.randrange(100, len(d) - 4096)
        d[off : off + 4096] = rng.randbytes(4096)
        p.write_bytes(bytes(d))
        try:
            fuzzing.read_all(p)
        except SessionFileError as exc:
            bad += 1
            assert str(p) in str(exc)
    assert bad > 0


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=fuzzing.byte_ops)
def test_fuzz_bytes(tmp_path: Path, fuzz_seed: bytes, ops: list) -> None:
    p = tmp_path / "fuzz.voicecam"
    p.write_bytes(fuzzing.apply_bytes(fuzz_seed, ops))
    fuzzing.run_case(p)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=fuzzing.sql_ops)
def test_fuzz_sql_values(tmp_path: Path, fuzz_seed: bytes, ops: list) -> None:
    p = tmp_path / "fuzz.voicecam"
    fuzzing.apply_sql(p, fuzz_seed, ops)
    fuzzing.run_case(p)


@pytest.fixture(scope="module")
def fuzz_seed(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return fuzzing.make_seed(tmp_path_factory.mktemp("seed") / "seed.voicecam")


# ----------------------------------------------------------------------------- kill -9

WRITER = r"""
import sys, time, json, base64
sys.path.insert(0, sys.argv[2])
from realtime.recording.writer import SessionRecorder
rec = SessionRecorder(sys.argv[1], metadata={"backend": "openai", "model": "gpt-realtime"},
                      commit_interval_s=0.05, secrets=[sys.argv[3]])
print("ready", flush=True)
i = 0
pcm = bytes(range(256)) * 3
while True:
    t = time.monotonic_ns()
    rec.record_mic(pcm[:640], 16000, t)
    rec.on_wire("out", json.dumps({"type": "input_audio_buffer.append",
                                   "audio": base64.b64encode(pcm).decode()}), t)
    rec.on_wire("in", json.dumps({"type": "response.output_audio_transcript.delta",
                                  "response_id": "r", "item_id": "a%d" % (i // 50),
                                  "output_index": 0, "content_index": 0, "delta": "w%d " % i}), t)
    rec.record_playback("a%d" % (i // 50), pcm, 24000, (i % 50) * 16, t)
    if i % 25 == 0:  # a careless error text carrying the key
        rec.on_wire("in", json.dumps({"type": "error", "error": {
            "message": "Incorrect API key provided: " + sys.argv[3]}}), t)
    if i % 10 == 0:
        rec.record_frame(b"\xff\xd8" + pcm * 20, t, i % 20 == 0, "tick")
        rec.record_turn("user", "turn %d" % i, t)
    i += 1
    time.sleep(0.002)
"""


def test_kill_9_at_20_random_moments(tmp_path: Path) -> None:
    rng = random.Random(1234)
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    readable = 0
    for k in range(20):
        path = tmp_path / f"crash{k}.voicecam"
        proc = subprocess.Popen(
            [sys.executable, str(script), str(path), str(REPO), CANARY],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == b"ready", proc.stderr.read() if proc.stderr else b""
        time.sleep(rng.uniform(0.0, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert path.exists()
        with SessionFile(path) as sf:
            assert sf.metadata.end_mono_ns is None  # did not finish cleanly
            assert sf.metadata.model == "gpt-realtime"
            fuzzing.read_all(path)
            events = sf.replay_events(OpenAICore())
            n_in = sum(1 for _ in sf.wire_messages("in"))
            assert sf.duration_ms >= 0
        assert len(events) >= n_in  # every received message replays into an event
        for f in tmp_path.glob(f"crash{k}.voicecam*"):  # the file and its -wal/-shm
            assert CANARY.encode() not in f.read_bytes()
        readable += 1
    assert readable == 20
