"""The headless CLI says each thing once, in the right units, and nothing misleading
(issue #14, polish): one line per error, ``--timeout 0.5`` is 0.5 s and ends the output, no cost
line for a backend that never connected, SRT cues that never overlap."""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from app.export import export_main, srt_times
from realtime.recording.writer import SessionRecorder

REPO = Path(__file__).resolve().parents[2]
MS = 1_000_000


def voicecam(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_failed_ws_backend_says_it_once_and_no_cost() -> None:
    url = f"ws://127.0.0.1:{closed_port()}/v1/realtime"
    run = voicecam("--headless", "--backend", url, "--text", "hello", "--timeout", "20")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len([ln for ln in lines if "connection was refused" in ln]) == 1, run.stderr
    assert lines[-1].startswith("error: Cannot reach 127.0.0.1"), run.stderr
    assert "WARNING" not in run.stderr
    assert "Cost" not in run.stderr and "free" not in run.stderr


def test_a_handshake_that_never_ends_times_out_in_its_own_units() -> None:
    with socket.socket() as listener:  # accepts the TCP connection, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}/v1/realtime"
        run = voicecam("--headless", "--backend", url, "--text", "hi", "--timeout", "0.5")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == "voicecam: could not connect within 0.5 s"
    assert "Cost" not in run.stderr


@pytest.mark.models  # starts the offline server, which begins loading its models
def test_a_short_timeout_while_models_load_stops_the_output() -> None:
    run = voicecam("--headless", "--text", "hi", "--timeout", "0.5")
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    said = [i for i, ln in enumerate(lines) if "could not connect within" in ln]
    assert len(said) == 1, run.stderr
    assert lines[said[0]].startswith("voicecam: could not connect within 0.5 s")
    assert lines[said[0] + 1 :] == [], run.stderr  # no model-loading lines after the outcome


def test_srt_times_never_overlap() -> None:
    spans = [(100.0, 2000.0), (2500.0, 4000.0), (3500.0, 3600.0), (3500.0, 3700.0)]
    times = srt_times(spans)
    assert times == [(100, 2000), (2500, 3500), (3500, 3501), (3501, 4501)]
    for (_, end), (start, _) in itertools.pairwise(times):
        assert end <= start


def test_srt_export_of_a_barge_in_has_no_overlapping_cues(tmp_path: Path) -> None:
    t0 = 10**12
    now = [t0]
    session = tmp_path / "barge.voicecam"
    rec = SessionRecorder(session, metadata={"backend": "local"}, clock=lambda: now[0])
    said = [  # the user cut the reply off at 3.5 s; a short word then gets its 1 s cue
        ("user", "what is on my desk", 100, 2000),
        ("assistant", "a mug and a lamp", 2500, 4000),
        ("user", "stop", 3500, 3600),
        ("assistant", "stopped", 3900, 4300),
    ]
    for n, (role, text, start, end) in enumerate(said):
        rec.record_turn(
            role,  # type: ignore[arg-type]
            text,
            t0 + end * MS,
            f"i{n}",
            t_start_ns=t0 + start * MS,
            t_end_ns=t0 + end * MS,
        )
    now[0] = t0 + 6000 * MS
    rec.close()
    out = tmp_path / "barge.srt"
    assert export_main([str(session), "--to", str(out)]) == 0
    cues = []
    for block in out.read_text().strip().split("\n\n"):
        _, times, text = block.splitlines()
        a, b = (
            sum(int(x) * f for x, f in zip(re.split("[:,]", t), (3600000, 60000, 1000, 1)))
            for t in times.split(" --> ")
        )
        cues.append((a, b, text))
    assert [c[2] for c in cues] == [
        "You: what is on my desk",
        "Assistant: a mug and a lamp",
        "You: stop",
        "Assistant: stopped",
    ]
    for (_, end, _), (start, _, _) in itertools.pairwise(cues):
        assert end <= start, cues
    assert all(end > start for start, end, _ in cues)


@pytest.mark.pulse
@pytest.mark.parametrize(
    ("flag", "extra", "exists"),
    [
        ("--input-device", ("--duration", "1"), "'Remapped Monitor of Null Output'"),
        ("--output-device", ("--text", "hi"), "'Null Output (speaker)'"),  # was silent
    ],
)
def test_a_bad_device_flag_says_once_what_exists(
    pulse_server, flag: str, extra: tuple[str, ...], exists: str
) -> None:
    url = f"ws://127.0.0.1:{closed_port()}/v1/realtime"
    run = voicecam("--headless", "--backend", url, flag, "Lounge", *extra)
    assert run.returncode == 2
    said = [ln for ln in run.stderr.splitlines() if "Lounge" in ln]
    assert len(said) == 1, run.stderr
    assert f"{flag} 'Lounge': no such" in said[0] and exists in said[0]
    assert "WARNING" not in run.stderr
