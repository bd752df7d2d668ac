"""Redaction before encoding: faces are blurred beyond recognition in what the feed sends;
excluded rectangles and windows never appear; the detector's files are checksum-verified."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.fixtures.faces import covered, detail, face_crops, face_frames, paste
from tests.video.test_feed import ManualSource
from video import redact
from video.feed import VideoFeed
from video.pacing import Pacer, PacerConfig, Policy
from video.redact import Box, RedactConfig, RedactionError, Redactor, blur_boxes, fill_boxes
from video.screen import ScreenSource, exclusion_boxes
from video.x11windows import WindowInfo

S = 1_000_000_000


def sensitive_faces(image: np.ndarray, around: Box | None = None) -> list[Box]:
    """A much more eager search than the redactor's (full resolution, two cascades, scale step
    1.05): if this finds a face where one was blurred, the face is still readable. ``around``
    limits the search to that box grown by half its size each way (frame pixels returned)."""
    h, w = image.shape[:2]
    area = around.padded(0.5, 0.5).clipped(w, h) if around is not None else Box(0, 0, w, h)
    assert area is not None
    roi = image[area.y : area.y + area.h, area.x : area.x + area.w]
    gray = cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY)
    found: list[Box] = []
    for name in ("haarcascade_frontalface_default.xml", "haarcascade_frontalface_alt2.xml"):
        rects = redact.load_cascade(name).detectMultiScale(gray, 1.05, 3, minSize=(20, 20))
        found += [Box(int(x) + area.x, int(y) + area.y, int(bw), int(bh)) for x, y, bw, bh in rects]
    return found


def astronaut_frame(size: int = 170) -> tuple[np.ndarray, Box]:
    crops = dict(face_crops())
    background = np.full((432, 768, 3), 120, np.uint8)
    return paste(background, crops["astronaut"], size, 0.0, 300, 100)


def test_a_face_is_blurred_beyond_recognition_and_the_input_is_untouched(
    redact_config: RedactConfig,
):
    image, face = astronaut_frame()
    before = image.copy()
    assert any(b.overlap(face) > 0.5 for b in sensitive_faces(image))  # readable before
    out = Redactor(redact_config).apply(image, 0)
    assert np.array_equal(image, before)
    assert out.detected >= 1 and covered(face, out.faces)
    assert not any(b.overlap(face) > 0.3 for b in sensitive_faces(out.image))
    core = face.padded(-0.2, -0.2)  # eyes, nose, mouth
    assert detail(out.image, core) < 0.05 * detail(image, core)


#: Share of the faces below found by each detector (measured: CenterFace 95/99, Haar 88/99).
FOUND_AT_LEAST = {"CenterFace": 0.93, "Haar cascades": 0.85}


def test_every_face_found_in_the_synthetic_set_is_unreadable_and_most_are_found(
    redact_config: RedactConfig,
):
    """LFW faces + the astronaut at 72-170 px, upright and tilted ±20° (every 10th face)."""
    redactor = Redactor(redact_config)
    assert redactor.fallback is None, redactor.fallback
    found: list[bool] = []
    for f in face_frames(sizes=(72, 110, 170), angles=(-20.0, 0.0, 20.0), step=10):
        out = redactor.apply(f.image, 0)
        if covered(f.face, out.faces):
            leaks = [b for b in sensitive_faces(out.image, f.face) if b.overlap(f.face) > 0.3]
            assert not leaks, f"{f.face_id} {f.size_px}px {f.angle_deg}° still readable"
        found.append(covered(f.face, out.faces))
    # bench/bench_redact.py prints the full table; for Haar, an upright search only, or
    # histogram equalisation, or the default cascade, each drop below this
    assert sum(found) / len(found) >= FOUND_AT_LEAST[redactor.detector], sum(found)


def test_a_face_stays_blurred_for_hold_s_where_it_was_last_seen(redact_config: RedactConfig):
    image, face = astronaut_frame()
    empty = np.full_like(image, 120)
    r = Redactor(replace(redact_config, hold_s=2.0))
    assert covered(face, r.apply(image, 1 * S).faces)
    held = r.apply(empty, 2 * S)  # detector sees nothing now; the old place stays covered
    assert held.detected == 0 and covered(face, held.faces)
    assert r.apply(empty, 4 * S).faces == ()  # 3 s after it was last seen
    assert len(r.apply(image, 5 * S).faces) == len(r.apply(image, 5 * S + 1).faces)  # no pile-up


def test_excluded_rectangles_are_solid_and_blur_is_local():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    out = fill_boxes(image, [Box(10, 20, 50, 40), Box(280, 190, 100, 100)])
    assert (out[20:60, 10:60] == redact.FILL_BGR).all()
    assert (out[190:, 280:] == redact.FILL_BGR).all()
    assert np.array_equal(out[100:180, 100:250], image[100:180, 100:250])
    blurred = blur_boxes(image, [Box(100, 50, 80, 80)])
    assert np.array_equal(blurred[:50], image[:50])
    assert detail(blurred, Box(100, 50, 80, 80)) < 0.02 * detail(image, Box(100, 50, 80, 80))
    r = Redactor(RedactConfig(faces=False, exclude=(Box(0, 0, 30, 30),)))
    done = r.apply(image, 0, exclude=(Box(200, 100, 10, 10),))
    assert (done.image[:30, :30] == redact.FILL_BGR).all()
    assert (done.image[100:110, 200:210] == redact.FILL_BGR).all()


def test_an_altered_cascade_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    name = "haarcascade_frontalface_default.xml"
    shutil.copy(Path(cv2.data.haarcascades) / name, tmp_path / name)
    monkeypatch.setattr(cv2.data, "haarcascades", str(tmp_path) + "/")
    redact.load_cascade(name)  # the genuine file passes
    with open(tmp_path / name, "a") as f:
        f.write("<!-- altered -->")
    with pytest.raises(RedactionError, match="checksum"):
        redact.load_cascade(name)
    (tmp_path / name).unlink()
    with pytest.raises(RedactionError, match="Reinstall"):
        Redactor(RedactConfig(model=None))
    absent = redact.FaceModelConfig(path=tmp_path / "absent.onnx")
    with pytest.raises(RedactionError, match="Reinstall"):  # no model, no fallback either
        Redactor(RedactConfig(model=absent))


def feed_with(redactor: Redactor | None) -> tuple[VideoFeed, ManualSource, Box]:
    src = ManualSource()
    clock = [0]
    feed = VideoFeed(
        src,
        Pacer(PacerConfig(policy=Policy.CONTINUOUS, continuous_interval_s=1.0)),
        clock=lambda: clock[0],
        redactor=redactor,
    )
    image, face = astronaut_frame(170)
    big = cv2.resize(image, (1536, 864), interpolation=cv2.INTER_CUBIC)  # sent at 768 px
    clock[0] = 1 * S
    src.box.put(big, 2 * S)
    return feed, src, face


def test_the_feed_sends_the_redacted_frame_and_previews_get_the_same(
    redact_config: RedactConfig,
):
    feed, _, face = feed_with(Redactor(redact_config))
    sent = feed.poll(3 * S)
    assert sent is not None and sent.redacted and sent.faces_blurred >= 1
    assert (sent.width, sent.height) == (768, 432)
    decoded = cv2.imdecode(np.frombuffer(sent.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert not any(b.overlap(face) > 0.3 for b in sensitive_faces(decoded))

    plain, _, _ = feed_with(None)
    clear = plain.poll(3 * S)
    assert clear is not None and not clear.redacted
    decoded = cv2.imdecode(np.frombuffer(clear.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert any(b.overlap(face) > 0.5 for b in sensitive_faces(decoded))
    frame = feed.source.latest() if feed.source is not None else None
    assert frame is not None
    preview = feed.redact_preview(np.asarray(frame.image), 4 * S)
    assert preview.shape == (432, 768, 3)
    core = face.padded(-0.2, -0.2)
    assert detail(decoded, core) > 20 * detail(preview, core)


def test_exclusion_boxes_follow_the_capture_origin_and_titles():
    capture = {"left": 100, "top": 50, "width": 400, "height": 300}
    windows = [
        WindowInfo("Password manager", 150, 60, 100, 80),
        WindowInfo("Editor", 0, 0, 300, 300),
        WindowInfo("Slack - general", 450, 300, 200, 200),
    ]
    boxes = exclusion_boxes(capture, windows, ("password", "slack"), ((90, 40, 20, 20),))
    assert boxes == [Box(50, 10, 100, 80), Box(350, 250, 50, 50), Box(0, 0, 10, 10)]
    assert exclusion_boxes(capture, windows, (), ()) == []


@pytest.fixture(scope="module")
def x24() -> Iterator[str]:
    from tests.video.test_screen import start_xvfb, stop

    proc, display = start_xvfb(24)
    yield display
    stop(proc)


def test_an_excluded_window_never_appears_in_sent_screen_frames(x24: str, media_dir: Path):
    from tests.video.test_screen import Window, qr

    win = Window(x24, media_dir / "video" / "qr.png", "VoiceCam secret notes", 200, 150)
    try:
        plain = ScreenSource(monitor=1, display=x24, fps=10)
        plain.start()
        frame = plain.wait_frame(0, 10)
        plain.stop()
        assert frame is not None and qr(frame.image)  # visible without exclusion

        src = ScreenSource(monitor=1, display=x24, fps=10, exclude_windows=("secret notes",))
        src.start()
        seq = 0
        for _ in range(10):  # every grab the source publishes is already masked
            grabbed = src.wait_frame(seq, 10)
            assert grabbed is not None, src.errors()
            seq = grabbed.seq
            assert not qr(grabbed.image)
            assert (grabbed.image[160:440, 210:490] == redact.FILL_BGR).all()
        src.stop()
        pacer = Pacer(PacerConfig(policy=Policy.CONTINUOUS, continuous_interval_s=1.0))
        feed = VideoFeed(src, pacer)
        seen = 0
        deadline = time.monotonic() + 15
        while seen < 2 and time.monotonic() < deadline:
            sent = feed.poll()
            if sent is None:
                time.sleep(0.05)
                continue
            seen += 1
            image = cv2.imdecode(np.frombuffer(sent.jpeg, np.uint8), cv2.IMREAD_COLOR)
            assert not qr(image)
            scale = sent.width / 1024
            x, y = round(220 * scale), round(170 * scale)  # inside the window
            assert np.abs(image[y, x].astype(int) - redact.FILL_BGR).max() < 12
        feed.close()
        assert seen == 2, src.errors()
    finally:
        win.close()


def test_a_failed_window_lookup_publishes_nothing(x24: str, monkeypatch: pytest.MonkeyPatch):
    """Fail closed: if the excluded windows cannot be located, the grab is dropped."""
    from video import screen
    from video.errors import CameraError
    from video.source import SourceState

    def broken(_display: str | None = None) -> list[WindowInfo]:
        raise CameraError("Cannot open the X display", source="window")

    monkeypatch.setattr(screen, "list_windows", broken)
    src = ScreenSource(monitor=1, display=x24, fps=10, retry_s=5, exclude_windows=("secret",))
    src.start()
    try:
        deadline = time.monotonic() + 10
        while src.state is not SourceState.LOST and time.monotonic() < deadline:
            time.sleep(0.02)
        assert src.state is SourceState.LOST and src.latest() is None
        assert "Cannot open the X display" in str(src.errors()[0])
    finally:
        src.stop()
