"""What the privacy line says is sent (issue 15, item 2), built from the conversation's state."""

from __future__ import annotations

from dataclasses import replace

from app.config import Settings
from app.modes import Mode
from app.privacy_status import VideoKind, privacy_line
from app.sending import frame_interval_s, mic_sending, sending_state
from app.state import ConversationState as S
from video.redact import FaceDetection


def line(settings: Settings, **kw: object) -> str:
    args: dict = {"state": S.LISTENING, "paused": False, "mode": Mode.HANDS_FREE}
    args |= {"video": VideoKind.NONE, "video_on": False, "detection": FaceDetection.MODEL} | kw
    return privacy_line(sending_state(settings, **args)).line


def test_the_microphone_counts_only_when_it_can_be_sent() -> None:
    assert mic_sending(Mode.HANDS_FREE, S.LISTENING)
    assert not mic_sending(Mode.PUSH_TO_TALK, S.LISTENING)  # the key is not held
    assert mic_sending(Mode.PUSH_TO_TALK, S.USER_SPEAKING)
    assert not mic_sending(Mode.MUTE, S.USER_SPEAKING)
    openai = Settings(backend="openai")
    assert line(openai, mode=Mode.PUSH_TO_TALK) == "Connected to OpenAI: nothing is sent"
    assert line(openai, mode=Mode.PUSH_TO_TALK, state=S.USER_SPEAKING) == "Mic → OpenAI"


def test_frames_rate_blurring_and_hidden_areas() -> None:
    s = Settings(
        backend="gemini",
        frame_policy="continuous",
        frames_per_minute=20,
        blur_faces="cloud",
        exclude_windows="Password, Slack",
        exclude_region="0,0,10,10",
    )
    assert frame_interval_s(s) == 3.0  # the budget, not the 1 s pacing, sets the rate
    assert (
        line(s, video=VideoKind.SCREEN, video_on=True)
        == "Mic + screen 1 frame/3 s, faces blurred, 3 areas hidden → Gemini"
    )
    assert line(s, video=VideoKind.CAMERA, video_on=True) == (
        "Mic + camera 1 frame/3 s, faces blurred → Gemini"
    )
    assert line(Settings(backend="local", blur_faces="cloud")) == "Local only"
    assert line(Settings(backend="openai"), state=S.CONNECTING) == "Not connected: nothing is sent"
    assert line(Settings(backend="openai"), paused=True) == "Paused: nothing is sent to OpenAI"


def test_the_line_reports_the_face_search_the_feed_runs() -> None:
    """Issue 15: the redactor fell back to the Haar cascades, or the feed has none although
    blurring is asked for: the chip and the CLI say it; with blurring off, nothing is said."""
    s = Settings(backend="openai", frame_policy="continuous", frames_per_minute=60)
    on = replace(s, blur_faces="cloud")
    camera = {"video": VideoKind.CAMERA, "video_on": True}
    assert line(on, **camera, detection=FaceDetection.FALLBACK) == (
        "Mic + camera 1 fps, faces blurred (fallback detector) → OpenAI"
    )
    assert line(on, **camera, detection=None) == "Mic + camera 1 fps, faces NOT blurred → OpenAI"
    assert line(on, **camera, detection=FaceDetection.OFF) == (
        "Mic + camera 1 fps, faces NOT blurred → OpenAI"
    )
    assert line(on, **camera, detection=FaceDetection.CASCADES) == (
        "Mic + camera 1 fps, faces blurred → OpenAI"
    )
    assert line(s, **camera, detection=None) == "Mic + camera 1 fps → OpenAI"
    assert line(s, **camera, detection=FaceDetection.FALLBACK) == "Mic + camera 1 fps → OpenAI"
