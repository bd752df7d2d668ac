"""Issue 15, item 1 through the window: with "blur faces for cloud backends" on, a face in the
camera is blurred in what reaches the (fake) provider, in the recording and in the sent-frames
strip; with the offline backend it is left alone. Real AssistantAdapter, real FileSource camera,
real face detector, real recorder; the provider is the in-process scripted session."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.config import Settings
from app.gui.adapter import AssistantAdapter
from app.gui.main import build_window
from realtime.events import AppendImage, SendText
from tests.app.fakes import FakeAudio, FakeSpec
from tests.fixtures.faces import FRAME_H, FRAME_W, _backgrounds, detail, face_crops, paste
from video.redact import Box, FaceDetector

pytestmark = pytest.mark.gui


def _face_photo(path: Path) -> Box:
    """The astronaut's face, 200 px wide, on the coffee photo; returns where the face is."""
    crop = dict(face_crops())["astronaut"]
    image, box = paste(_backgrounds()[0], crop, 200, 0.0, 300, 100)
    cv2.imwrite(str(path), image)
    return box


def _decode(jpeg: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return cv2.resize(img, (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA)


def _readable(image: np.ndarray, face: Box, original: np.ndarray) -> bool:
    """A face is there to read: the detector finds one, or the detail of its middle (eyes,
    nose, mouth) is not wiped out (blurred: ~1 % of the original's)."""
    middle = Box(face.x + face.w // 6, face.y + face.h // 6, face.w * 2 // 3, face.h * 2 // 3)
    found = FaceDetector().detect(image)
    return bool(found) or detail(image, middle) > 0.1 * detail(original, middle)


@pytest.fixture
def rig(qtbot, qsettings, memory_keyring, config_dir, tmp_path: Path):
    photo = tmp_path / "face.png"
    face = _face_photo(photo)

    def run(backend: str, blur: str):
        spec = FakeSpec(name=backend, model="gpt-realtime")
        audio = FakeAudio()

        def source(_spec: str):
            from video.file import FileSource

            return FileSource(str(photo), loop=True, still_fps=5.0)

        settings = Settings(
            recordings_dir=str(tmp_path / f"rec-{backend}"), camera="face", blur_faces=blur
        )
        adapter = AssistantAdapter(
            settings,
            resolve=lambda s, **kw: spec,
            make_audio=lambda s, rate: audio,
            make_source=source,
        )
        w = build_window(adapter, qsettings, settings, save_settings=None)
        qtbot.addWidget(w)
        w.show()
        strip: list[bytes] = []
        add = w.ui.thumbs.add_jpeg
        w.ui.thumbs.add_jpeg = lambda jpeg, *more: (strip.append(jpeg), add(jpeg, *more))  # type: ignore[method-assign]
        w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData(backend))
        qtbot.mouseClick(w.ui.camera_btn, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(w.ui.connect_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.ui.state_label.text() == "Ready — say something", timeout=15000)
        qtbot.keyClicks(w.ui.text_box, "who is this?")
        qtbot.keyClick(w.ui.text_box, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: SendText("who is this?", respond=True) in spec.sent)
        qtbot.waitUntil(lambda: any(isinstance(c, AppendImage) for c in spec.sent), timeout=15000)
        qtbot.waitUntil(lambda: len(strip) >= 1, timeout=10000)
        qtbot.mouseClick(w.ui.connect_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.ui.state_label.text() == "Not connected", timeout=10000)
        qtbot.waitUntil(lambda: not adapter._recorder, timeout=10000)
        w.close()
        adapter.close()
        sent = [c.jpeg for c in spec.sent if isinstance(c, AppendImage)]
        [rec] = (tmp_path / f"rec-{backend}").glob("*.voicecam")
        from realtime.recording.reader import SessionFile

        with SessionFile(rec) as sf:
            recorded = [f.jpeg for f in sf.frames(sent=True)]
        return sent, recorded, strip

    yield run, face, cv2.imread(str(photo))


def test_a_face_is_blurred_in_what_is_sent_recorded_and_shown(rig) -> None:
    run, face, original = rig
    assert _readable(original, face, original)  # the test photo does show a face
    sent, recorded, strip = run("openai", "cloud")
    assert sent and recorded
    assert recorded == sent  # the recording keeps exactly what left the machine
    assert set(strip) <= set(sent)
    for jpeg in (*sent, *recorded, *strip):
        assert not _readable(_decode(jpeg), face, original)


def test_cloud_blurring_leaves_the_offline_backend_alone(rig) -> None:
    run, face, original = rig
    sent, _, _ = run("local", "cloud")
    assert sent
    assert _readable(_decode(sent[0]), face, original)


@pytest.fixture(scope="module")
def x24():  # type: ignore[no-untyped-def]
    from tests.video.test_screen import start_xvfb, stop

    proc, display = start_xvfb(24)
    yield display
    stop(proc)


def test_an_excluded_window_never_appears_in_frames_the_window_sends(
    qtbot, qsettings, memory_keyring, config_dir, tmp_path: Path, media_dir: Path, x24, monkeypatch
) -> None:
    """Screen sharing from the window with a window excluded in the settings: the adapter's
    own screen source (no injected source) hides it in every frame sent."""
    from app.compose import open_video
    from tests.video.test_screen import Window, qr

    monkeypatch.setenv("DISPLAY", x24)  # what is shared: our own X screen, not the window's
    win = Window(x24, media_dir / "video" / "qr.png", "VoiceCam secret notes", 200, 150)
    try:
        plain = open_video("screen:1", Settings())
        plain.start()
        frame = plain.wait_frame(0, 10)
        plain.stop()
        assert frame is not None and qr(frame.image)  # on screen, and readable unhidden

        spec = FakeSpec(name="openai", model="gpt-realtime")
        settings = Settings(
            recording=False,
            exclude_windows="secret notes",
            frame_policy="continuous",
            frames_per_minute=60,
        )
        adapter = AssistantAdapter(
            settings, resolve=lambda s, **kw: spec, make_audio=lambda s, r: FakeAudio()
        )
        w = build_window(adapter, qsettings, settings, save_settings=None)
        qtbot.addWidget(w)
        w.show()
        w.ui.backend_box.setCurrentIndex(w.ui.backend_box.findData("openai"))
        qtbot.mouseClick(w.ui.screen_btn, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(w.ui.connect_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: sum(isinstance(c, AppendImage) for c in spec.sent) >= 2, timeout=20000
        )
        assert "1 area hidden" in w.privacy_chip.text()
        qtbot.mouseClick(w.ui.connect_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.ui.state_label.text() == "Not connected", timeout=10000)
        w.close()
        adapter.close()
    finally:
        win.close()
    for c in spec.sent:
        if isinstance(c, AppendImage):
            image = cv2.imdecode(np.frombuffer(c.jpeg, np.uint8), cv2.IMREAD_COLOR)
            assert not qr(image)
            h, w_px = image.shape[:2]
            x, y = round(220 * w_px / 1024), round(170 * h / 768)  # inside the hidden window
            assert np.abs(image[y, x].astype(int) - (64, 64, 64)).max() < 12
