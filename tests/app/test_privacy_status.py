"""The privacy chip's line: what leaves the machine and to whom."""

from __future__ import annotations

import pytest

from app.privacy_status import (
    Destination,
    FaceBlur,
    PrivacyLevel,
    PrivacyLineTracker,
    SendingState,
    VideoKind,
    format_frame_rate,
    privacy_line,
)

OPENAI = Destination("OpenAI")
GEMINI = Destination("Gemini")


def line(**kw) -> str:
    return privacy_line(SendingState(**kw)).line


def test_the_issue_examples():
    assert line(destination=OPENAI, video=VideoKind.CAMERA, frame_interval_s=1.0) == (
        "Mic + camera 1 fps → OpenAI"
    )
    assert line(destination=GEMINI, video=VideoKind.CAMERA, video_on=False) == (
        "Mic → Gemini, camera paused"
    )
    local = privacy_line(SendingState(Destination("this computer", local=True)))
    assert local.line == "Local only" and local.level is PrivacyLevel.LOCAL and not local.sending


def test_pause_not_connected_and_nothing_flowing_say_nothing_is_sent():
    paused = privacy_line(SendingState(OPENAI, paused=True, video=VideoKind.SCREEN))
    assert paused.line == "Paused: nothing is sent to OpenAI"
    assert paused.level is PrivacyLevel.PAUSED and not paused.sending
    assert line(destination=OPENAI, connected=False) == "Not connected: nothing is sent"
    idle = privacy_line(
        SendingState(OPENAI, mic_sending=False, video=VideoKind.CAMERA, video_on=False)
    )
    assert idle.line == "Connected to OpenAI: nothing is sent (camera paused)"
    assert not idle.sending


def test_redaction_and_rates_are_shown():
    s = SendingState(
        OPENAI,
        video=VideoKind.SCREEN,
        frame_interval_s=3.0,
        faces=FaceBlur.ON,
        regions_hidden=2,
    )
    status = privacy_line(s)
    assert status.line == "Mic + screen 1 frame/3 s, faces blurred, 2 areas hidden → OpenAI"
    assert status.level is PrivacyLevel.CLOUD and status.sending
    assert line(destination=OPENAI, mic_sending=False, video=VideoKind.CAMERA) == (
        "camera on change → OpenAI"
    )
    assert format_frame_rate(0.5) == "2 fps" and format_frame_rate(0.4) == "2.5 fps"
    with pytest.raises(ValueError):
        format_frame_rate(0)


def test_a_fallback_or_missing_face_detector_is_said_on_the_line():
    """Issue 15: the face model did not load (the Haar cascades blur instead), or no detector
    runs at all: the line says so, not just the log."""
    camera = {"destination": OPENAI, "video": VideoKind.CAMERA, "frame_interval_s": 1.0}
    assert line(**camera, faces=FaceBlur.FALLBACK) == (
        "Mic + camera 1 fps, faces blurred (fallback detector) → OpenAI"
    )
    assert line(**camera, faces=FaceBlur.UNAVAILABLE) == (
        "Mic + camera 1 fps, faces NOT blurred → OpenAI"
    )
    assert line(**camera, faces=FaceBlur.OFF) == "Mic + camera 1 fps → OpenAI"
    # nothing about faces when no frame is sent
    assert line(
        destination=OPENAI, video=VideoKind.CAMERA, video_on=False, faces=FaceBlur.UNAVAILABLE
    ) == ("Mic → OpenAI, camera paused")


def test_the_cli_tracker_reports_only_changes():
    tracker = PrivacyLineTracker()
    first = tracker.update(SendingState(OPENAI))
    assert first is not None and first.line == "Mic → OpenAI"
    assert tracker.update(SendingState(OPENAI)) is None
    changed = tracker.update(SendingState(OPENAI, paused=True))
    assert changed is not None and changed.level is PrivacyLevel.PAUSED
