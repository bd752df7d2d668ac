"""Every file argument of the CLI is validated: a missing file or a wrong format gets a clear
error naming the argument, exit status 2 and no traceback (real ``voicecam`` subprocesses, run
concurrently)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _cases(tmp: Path, media: Path) -> list[tuple[str, list[str], str]]:
    text = tmp / "notes.txt"
    text.write_text("not audio, not an image")
    fake_wav = tmp / "fake.wav"
    fake_wav.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    fake_png = tmp / "fake.png"
    fake_png.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    fake_mp4 = tmp / "fake.mp4"
    fake_mp4.write_text("not a video")
    fake_session = tmp / "session.voicecam"
    fake_session.write_text("not a session file")
    a_file = tmp / "a-file"
    a_file.write_text("x")
    wav = str(media / "speech" / "q01_piper.wav")
    png = str(media / "video" / "desk.png")
    h = ["--headless", "--backend", "ws://127.0.0.1:9/v1/realtime"]
    return [
        ("audio-in missing", [*h, "--audio-in", str(tmp / "nope.wav")], "--audio-in"),
        ("audio-in text file", [*h, "--audio-in", str(text)], "--audio-in"),
        ("audio-in broken wav", [*h, "--audio-in", str(fake_wav)], "--audio-in"),
        ("audio-in a png", [*h, "--audio-in", png], "--audio-in"),
        ("audio-in a folder", [*h, "--audio-in", str(tmp)], "--audio-in"),
        ("image missing", [*h, "--text", "hi", "--image", str(tmp / "nope.png")], "--image"),
        ("image a wav", [*h, "--text", "hi", "--image", wav], "--image"),
        ("image broken png", [*h, "--text", "hi", "--image", str(fake_png)], "--image"),
        ("video missing", [*h, "--text", "hi", "--video", str(tmp / "nope.mp4")], "--video"),
        ("video not a video", [*h, "--text", "hi", "--video", str(fake_mp4)], "--video"),
        ("video a wav", [*h, "--text", "hi", "--video", wav], "--video"),
        (
            "audio-out folder missing",
            [*h, "--text", "hi", "--audio-out", str(tmp / "no" / "r.wav")],
            "--audio-out",
        ),
        ("record is a file", [*h, "--text", "hi", "--record", str(a_file)], "--record"),
        ("export missing", ["export", str(tmp / "nope.voicecam"), "--to", "x.md"], str(tmp)),
        ("export not a session", ["export", str(fake_session), "--to", str(tmp / "o.md")], ""),
        ("export unknown format", ["export", str(fake_session), "--to", str(tmp / "o.xyz")], ""),
        ("replay missing", ["replay", str(tmp / "nope.voicecam")], str(tmp)),
        ("replay not a session", ["replay", str(fake_session)], ""),
    ]


def test_every_file_argument_is_validated(tmp_path: Path, media_dir: Path) -> None:
    _check(tmp_path, _cases(tmp_path, media_dir))


def _check(tmp_path: Path, cases: list[tuple[str, list[str], str]]) -> None:
    env = {**os.environ, "VOICECAM_CONFIG_DIR": str(tmp_path / "cfg"), "PYTHONUNBUFFERED": "1"}
    procs = [
        (
            name,
            must_name,
            subprocess.Popen(
                [sys.executable, "-m", "app.cli", *argv],
                cwd=tmp_path,
                env={**env, "PYTHONPATH": str(REPO)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for name, argv, must_name in cases
    ]
    problems = []
    for name, must_name, proc in procs:
        try:
            out, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            problems.append(f"{name}: did not exit (it went on with a bad file)")
            continue
        if proc.returncode != 2:
            problems.append(f"{name}: exit {proc.returncode}, want 2: {err.strip()[-300:]}")
        if "Traceback" in err + out:
            problems.append(f"{name}: traceback:\n{err[-800:]}")
        if "error" not in err.lower() or (must_name and must_name not in err):
            problems.append(f"{name}: unclear message: {err.strip()[-300:]!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "--help"],
        ["replay", "--help"],
        ["--help"],
    ],
)
def test_help_exits_0(argv: list[str], tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "usage" in r.stdout.lower()
