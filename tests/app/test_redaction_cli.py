"""Issue 15, item 1 on the command line: ``voicecam --headless --camera screen:1
--exclude-window TITLE`` never sends that window (real Xvfb, a real window, the scripted fake
OpenAI provider over loopback); the privacy flags are validated like every other flag."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from app import cli
from app.compose import open_video
from app.config import Settings, SettingsError
from app.redaction import blur_active, destination, parse_exclude_region, regions_hidden
from tests.app.fakes import FakeThread
from tests.app.test_cli_fake import KEY, Run
from tests.fakes.fake_openai import FakeOpenAI
from tests.video.test_screen import Window, qr, start_xvfb, stop


@pytest.fixture(scope="module")
def x24() -> Iterator[str]:
    proc, display = start_xvfb(24)
    yield display
    stop(proc)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeThread]:
    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", KEY)
    ft = FakeThread(FakeOpenAI(api_key=KEY, chunk_delay_s=0.02))
    yield ft
    ft.close()


def test_an_excluded_window_never_appears_in_sent_screen_frames(
    x24: str, media_dir: Path, tmp_path: Path, fake: FakeThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    from realtime.recording.reader import SessionFile

    monkeypatch.setenv("DISPLAY", x24)
    monkeypatch.setenv("VOICECAM_CONFIG_DIR", str(tmp_path / "config"))
    # a frame every second while connected (not only with a question): the spoken question
    # keeps the session open for several of them
    monkeypatch.setenv("VOICECAM_FRAME_POLICY", "continuous")
    win = Window(x24, media_dir / "video" / "qr.png", "VoiceCam secret notes", 200, 150)
    try:
        # the window is on screen: the same source without the setting shows it
        plain = open_video("screen:1", Settings())
        plain.start()
        frame = plain.wait_frame(0, 10)
        plain.stop()
        assert frame is not None and qr(frame.image)

        run = Run(
            [
                "--headless",
                "--backend",
                fake.url,
                "--camera",
                "screen:1",
                "--exclude-window",
                "secret notes",
                "--audio-in",
                str(media_dir / "speech" / "q01_piper.wav"),
                "--record",
                str(tmp_path / "sessions"),
                "--timeout",
                "30",
            ]
        )
        assert run.wait() == 0
    finally:
        win.close()
    (path,) = (tmp_path / "sessions").glob("*.voicecam")  # (+ the search index)
    with SessionFile(path) as f:
        frames = list(f.frames(sent=True))
    assert frames  # the screen went to the model …
    for fr in frames:  # … without the window
        image = cv2.imdecode(np.frombuffer(fr.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert not qr(image)
        h, w = image.shape[:2]
        x, y = round(220 * w / 1024), round(170 * h / 768)  # inside the window: solid grey
        assert np.abs(image[y, x].astype(int) - (64, 64, 64)).max() < 12


def test_privacy_flags_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--headless", "--blur-faces", "sometimes"])
    assert exc.value.code == 2
    assert "--blur-faces" in capsys.readouterr().err
    with pytest.raises(SettingsError, match="X,Y,W,H"):
        Settings(exclude_region="the left half")
    with pytest.raises(SettingsError, match="width and height > 0"):
        Settings(exclude_region="10,10,0,5")
    with pytest.raises(SystemExit) as exc:
        cli.main(["--exclude-window", "Slack"])  # a window setting, not a window flag
    assert exc.value.code == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.main(["--headless", "--camera", "region:0,0,0,10"])
    assert exc.value.code == 2
    assert "--camera: region needs X,Y,W,H" in capsys.readouterr().err


def test_redaction_rules() -> None:
    assert blur_active("cloud", "openai") and blur_active("cloud", "wss://example.com/v1")
    assert not blur_active("cloud", "local") and not blur_active("cloud", "ws://127.0.0.1:9/v1")
    assert blur_active("always", "local") and not blur_active("off", "gemini")
    assert destination("gemini").label == "Gemini" and destination("local").local
    assert parse_exclude_region(" 0,0,640,480 ") == (0, 0, 640, 480)
    assert parse_exclude_region("") is None
    assert regions_hidden("Password, Slack,", "1,2,3,4") == 3


def test_no_face_detector_is_said_and_nothing_starts(
    media_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Blurring asked for but no detector can load (model and cascades missing): the headless
    CLI says the detector's own actionable message and exits 2, before connecting (it used to
    end in a traceback)."""
    from app import compose
    from video.face_haar import RedactionError

    def broken(blur_faces: str, backend: str) -> None:
        raise RedactionError("Face blurring is unavailable: reinstall opencv-python-headless.")

    monkeypatch.setattr(compose, "build_redactor", broken)
    monkeypatch.setenv("VOICECAM_CONFIG_DIR", str(tmp_path / "config"))
    code = cli.main(
        [
            "--headless",
            "--backend",
            "ws://127.0.0.1:9/v1/realtime",
            "--image",
            str(media_dir / "video" / "desk.png"),
            "--blur-faces",
            "always",
            "--text",
            "hi",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.strip().splitlines()[-1] == (
        "voicecam: Face blurring is unavailable: reinstall opencv-python-headless."
    )
    assert "Traceback" not in err
