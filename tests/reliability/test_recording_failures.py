"""Issue 17, items 1-5 and 7: recording and ``--audio-out`` failures are said plainly, the
conversation goes on, partial files stay readable, recording resumes once space returns, and a
failed export leaves nothing.

Real file systems: a small tmpfs mounted per test (full disk, read-only), ``/dev/full``, a
regular file in the way. The CLI runs as a real subprocess against the scripted OpenAI fake
(real WebSocket on 127.0.0.1).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from realtime.recording.errors import RecordingError
from realtime.recording.reader import SessionFile
from realtime.recording.resilient import ResilientRecorder
from tests.fixtures.tmpfs import fill, mounted_tmpfs
from tests.reliability.helpers import FakeThread, wait_until

REPO = Path(__file__).resolve().parents[2]
TOKEN = "sk-test-recording-failures-0123456789"


@pytest.fixture
def fake() -> Any:
    ft = FakeThread(TOKEN, chunk_delay_s=0.05)
    yield ft
    ft.close()


def voicecam(fake: Any, tmp: Path, *args: str, timeout: float = 90) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env.update(VOICECAM_BACKEND_TOKEN=TOKEN, HOME=str(tmp / "home"), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "--headless", "--backend", fake.url, *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def sessions(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.voicecam") if not p.name.startswith("."))


# ---------------------------------------------------------------------- items 1, 2, 7


def test_record_folders_that_cannot_be_written_are_said_and_the_conversation_goes_on(
    fake: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    def prepare(root: Path) -> None:
        (root / "existing").mkdir()

    with mounted_tmpfs(tmp_path / "ro", "256k", readonly=True, prepare=prepare) as ro:
        cases = {
            "1 read-only folder": (ro / "existing", "(read-only file system)"),
            "2 read-only parent": (ro / "new" / "deeper", "(read-only file system)"),
            "2 under a file": (blocker / "sub", f"{blocker} is a file, not a folder"),
        }
        procs = {
            name: voicecam(fake, tmp_path, "--text", "Hello?", "--record", str(folder))
            for name, (folder, _) in cases.items()
        }
        problems = []
        for name, proc in procs.items():
            code, out, err = finish(proc)
            why = cases[name][1]
            if code != 0:
                problems.append(f"{name}: exit {code}: {err[-800:]}")
            if "Traceback" in err:
                problems.append(f"{name}: traceback: {err[-800:]}")
            if "assistant: Hello there" not in out:
                problems.append(f"{name}: the conversation did not happen: {out!r}")
            if "voicecam: Recording could not start: " not in err or why not in err:
                problems.append(f"{name}: no plain message with {why!r}: {err[-600:]!r}")
            if "--record pointing to a writable folder" not in err:
                problems.append(f"{name}: no retry hint: {err[-600:]!r}")
        assert not problems, "\n".join(problems)


def test_the_record_folder_and_its_new_parents_are_private(fake: Any, tmp_path: Path) -> None:
    folder = tmp_path / "made" / "by" / "record"
    old = os.umask(0o022)
    try:
        code, _, err = finish(voicecam(fake, tmp_path, "--text", "Hi", "--record", str(folder)))
    finally:
        os.umask(old)
    assert code == 0, err[-2000:]
    for d in (tmp_path / "made", tmp_path / "made" / "by", folder):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, (d, oct(d.stat().st_mode))
    assert sessions(folder)


# ---------------------------------------------------------------------- item 3


def test_full_disk_while_recording_is_said_the_file_stays_readable(
    fake: Any, tmp_path: Path, media_dir: Path
) -> None:
    question = media_dir / "speech" / "q01_piper.wav"
    with mounted_tmpfs(tmp_path / "small", "192k") as small:
        code, out, err = finish(
            voicecam(
                fake, tmp_path, "--audio-in", str(question), "--record", str(small),
                "--timeout", "60",
            )
        )  # fmt: skip
        assert code == 0, err[-2000:]
        assert "assistant: Hello there" in out
        assert "voicecam: Recording stopped: the disk is full" in err, err[-2000:]
        assert "Recording resumes into a new file once space is freed." in err
        files = sessions(small)
        assert len(files) == 1
        with SessionFile(files[0]) as sf:  # the partial file is readable
            mic_ms = sum(len(c.pcm) for c in sf.mic_chunks()) / 32
        assert mic_ms > 200, mic_ms


def test_zero_bytes_free_is_said_at_start(fake: Any, tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path / "full", "128k") as full:
        fill(full)
        code, out, err = finish(voicecam(fake, tmp_path, "--text", "Hi", "--record", str(full)))
    assert code == 0, err[-2000:]
    assert "voicecam: Recording could not start: the disk is full" in err, err[-2000:]
    assert "assistant: Hello there" in out


def test_recording_resumes_into_a_new_file_when_space_returns(tmp_path: Path) -> None:
    """The real recorder on a real full tmpfs: fails, reports once, resumes after space is
    freed into a new file that names the one it continues; both files are readable."""
    errors: list[RecordingError] = []
    resumed: list[Path] = []
    block = b"\x01\x02" * 1600  # 100 ms of 16 kHz audio
    with mounted_tmpfs(tmp_path / "disk", "512k") as disk:
        filler = fill(disk, leave_bytes=160 * 1024)
        rec = ResilientRecorder(
            disk,
            metadata={"backend": "test"},
            on_error=errors.append,
            on_resumed=resumed.append,
            retry_every_s=0.1,
            min_free_bytes=256 * 1024,
        )
        t = time.monotonic_ns()
        for i in range(400):
            rec.record_mic(block, 16000, t + i * 10**8)
            time.sleep(0.02)
            if errors:
                break
        wait_until(lambda: errors, 10, "the full-disk report")
        assert errors[0].reason == "disk_full"
        assert "Recording resumes into a new file once space is freed." in str(errors[0])
        first = rec.files[0]
        time.sleep(0.5)
        assert not resumed, "resumed while the disk was still full"
        filler.unlink()
        wait_until(lambda: resumed, 10, "the resumption")
        rec.record_mic(block, 16000, t + 1000 * 10**8)
        rec.close()
        assert len(errors) == 1
        second = resumed[0]
        assert second != first and second.exists()
        with SessionFile(first) as sf:
            assert sum(len(c.pcm) for c in sf.mic_chunks()) >= len(block)
        with SessionFile(second) as sf:
            assert sf.metadata.values.get("continues") == first.name
            assert sum(len(c.pcm) for c in sf.mic_chunks()) == len(block)


# ---------------------------------------------------------------------- item 4


def test_audio_out_failures_are_said_and_leave_nothing(fake: Any, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with mounted_tmpfs(tmp_path / "tiny", "64k") as tiny:
        fill(tiny, leave_bytes=8 * 1024)
        runs = {
            "folder": (folder, 2, "is a folder"),
            "/dev/full": (Path("/dev/full"), 1, "the disk is full"),
            "full disk": (tiny / "reply.wav", 1, "the disk is full"),
        }
        procs = {
            name: voicecam(fake, tmp_path, "--text", "Say something long.", "--audio-out", str(p))
            for name, (p, _, _) in runs.items()
        }
        problems = []
        for name, proc in procs.items():
            code, _, err = finish(proc)
            _, want_code, why = runs[name]
            if code != want_code or why not in err or "reply audio:" in err:
                problems.append(f"{name}: exit {code}: {err[-600:]!r}")
        leftovers = sorted(p.name for p in tiny.iterdir() if p.name != ".filler")
    assert not problems, "\n".join(problems)
    assert leftovers == [], leftovers


# ---------------------------------------------------------------------- item 5


def test_a_failed_markdown_export_leaves_nothing(tmp_path: Path) -> None:
    import cv2
    import numpy as np

    from realtime.recording.writer import SessionRecorder

    session = tmp_path / "s.voicecam"
    noise = np.random.default_rng(1).integers(0, 255, (240, 320, 3), dtype=np.uint8)
    jpeg = cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    with SessionRecorder(session, metadata={"backend": "test"}) as rec:
        t = time.monotonic_ns()
        for i in range(8):
            rec.record_frame(jpeg, t + i * 10**9, True)
            rec.record_turn("user", f"question {i}", t + i * 10**9 + 1)
    with mounted_tmpfs(tmp_path / "out", f"{len(jpeg) * 3 // 1024}k") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "app.cli", "export", str(session), "--to", str(out / "x.md")],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        left = sorted(p.name for p in out.iterdir())
    assert proc.returncode == 1, proc.stderr
    assert "export failed" in proc.stderr
    assert left == [], left


def test_the_window_is_told_when_recording_cannot_start_and_when_it_resumes(
    tmp_path: Path,
) -> None:
    """The GUI adapter's recorder (built by ``app.compose``) on a real full disk: the window's
    subscribers get ``RecordingChanged(False, None, why)``, then ``RecordingChanged(True, new
    file)`` and a notice naming it."""
    from app.compose import build_recorder
    from app.config import Settings
    from app.gui.adapter import AssistantAdapter
    from app.model import ModelEvent, NoticeChanged, RecordingChanged

    events: list[ModelEvent] = []
    with mounted_tmpfs(tmp_path / "disk", "256k") as disk:
        filler = fill(disk)
        settings = Settings(recordings_dir=str(disk))
        adapter = AssistantAdapter(settings, assistant=_NoAssistant())  # type: ignore[arg-type]
        adapter.subscribe(events.append)
        rec = build_recorder(settings, _Spec(), notices=adapter.recording_notices())
        try:
            wait_until(lambda: events, 10, "the window's recording notice")
            first = events[0]
            assert isinstance(first, RecordingChanged) and first.on is False, events
            assert first.error and "Recording could not start: the disk is full" in first.error
            filler.unlink()
            rec._retry_every_s = 0.1
            rec._min_free = 64 * 1024
            wait_until(lambda: len(events) >= 3, 15, "the resumption notice")
        finally:
            rec.close()
        resumed = events[1]
        assert isinstance(resumed, RecordingChanged) and resumed.on is True and resumed.path
        assert events[2] == NoticeChanged(f"Recording resumed into {resumed.path}.")


class _NoAssistant:
    """The adapter only subscribes to it in this test."""

    def subscribe(self, listener: Any) -> None:
        pass


class _Spec:
    """The backend fields the recording metadata names (an ``app.ports.ConnectSpec``)."""

    name, model, voice, input_rate_hz, free = "test", "m", "v", 24000, True


def test_the_cli_says_when_recording_resumes(tmp_path: Path) -> None:
    """The CLI's recorder (``app.compose.build_recorder`` with the CLI's notices) on a real
    full tmpfs: one line when it cannot start, one naming the new file when space returns."""
    import io

    from app.compose import build_recorder
    from app.config import Settings
    from app.recording_notes import cli_notices

    err = io.StringIO()
    with mounted_tmpfs(tmp_path / "disk", "256k") as disk:
        filler = fill(disk)
        rec = build_recorder(Settings(), _Spec(), directory=disk, notices=cli_notices(err))
        rec._retry_every_s = 0.1
        rec._min_free = 64 * 1024
        try:
            wait_until(lambda: "could not start" in err.getvalue(), 10, "the failure line")
            filler.unlink()
            wait_until(lambda: "resumed" in err.getvalue(), 10, "the resumption line")
        finally:
            rec.close()
        lines = err.getvalue().splitlines()
        assert lines[0].startswith("voicecam: Recording could not start: the disk is full")
        assert lines[0].endswith("Recording resumes into a new file once space is freed.")
        assert lines[1] == f"voicecam: Recording resumed into {rec.path}."
        assert len(lines) == 2 and rec.path is not None and rec.path.exists()


def test_a_second_full_disk_after_resuming_is_said_and_resumed_again(tmp_path: Path) -> None:
    errors: list[RecordingError] = []
    resumed: list[Path] = []
    block = b"\x01\x02" * 1600
    with mounted_tmpfs(tmp_path / "disk", "512k") as disk:
        rec = ResilientRecorder(disk, on_error=errors.append, on_resumed=resumed.append,
                                retry_every_s=0.1, min_free_bytes=256 * 1024)  # fmt: skip
        t = time.monotonic_ns()
        try:
            for round_ in (1, 2):
                filler = fill(disk, leave_bytes=96 * 1024)
                for i in range(400):
                    rec.record_mic(block, 16000, t + (round_ * 1000 + i) * 10**8)
                    time.sleep(0.01)
                    if len(errors) == round_:
                        break
                wait_until(lambda r=round_: len(errors) == r, 10, f"failure {round_}")
                filler.unlink()
                wait_until(lambda r=round_: len(resumed) == r, 10, f"resumption {round_}")
        finally:
            rec.close()
    assert [e.reason for e in errors] == ["disk_full", "disk_full"]
    assert len(set(resumed)) == 2
