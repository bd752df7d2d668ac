"""What a conversation sends, as an ``app.privacy_status.SendingState`` (pure).

The window's adapter and the headless CLI fill :func:`sending_state` from what they know (the
backend, the conversation state, the pause, the mode, the video source and the settings) and
show ``app.privacy_status.privacy_line`` of it: the privacy chip, and the CLI's line printed
when it changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.config import Settings
from app.modes import Mode
from app.privacy_status import SendingState, VideoKind
from app.redaction import destination, face_blur, regions_hidden
from app.state import ConversationState
from video.pacing import Policy

if TYPE_CHECKING:
    from video.redact import FaceDetection

__all__ = ["frame_interval_s", "is_sending_state", "mic_sending", "sending_state"]


def is_sending_state(state: ConversationState) -> bool:
    """True when a session is open (frames and audio may go out)."""
    return state.connected


def frame_interval_s(settings: Settings) -> float | None:
    """Seconds between frames the pacing sends while it sends (None: only on a change or on
    request)."""
    cfg = settings.pacer_config()
    floor = 60.0 / cfg.budget_per_minute
    if cfg.policy is Policy.CONTINUOUS:
        return max(cfg.continuous_interval_s, floor)
    if cfg.policy is Policy.ON_SPEECH:
        return max(cfg.speech_interval_s, floor)
    return None


def mic_sending(mode: Mode, state: ConversationState) -> bool:
    """Whether microphone audio goes out: always while listening hands-free (the provider or
    the local voice detector decides what is speech), only while the talk key is held or
    toggled on in push-to-talk / toggle mode, never muted."""
    if mode == Mode.HANDS_FREE:
        return True
    if mode in (Mode.PUSH_TO_TALK, Mode.TOGGLE):
        return state == ConversationState.USER_SPEAKING
    return False


def sending_state(
    settings: Settings,
    *,
    state: ConversationState,
    paused: bool,
    mode: Mode,
    video: VideoKind,
    video_on: bool,
    detection: FaceDetection | None,
) -> SendingState:
    """The ``SendingState`` of a conversation on ``settings.backend`` (see module docstring).
    ``video``: the chosen source kind (``NONE`` when there is no camera at all);
    ``detection``: the face search the frame feed's redactor runs (``Redactor.detection``), None
    when the feed has no redactor (or there is no feed)."""
    return SendingState(
        destination=destination(settings.backend),
        connected=is_sending_state(state),
        paused=paused,
        mic_sending=mic_sending(mode, state),
        video=video,
        video_on=video_on,
        frame_interval_s=frame_interval_s(settings),
        faces=face_blur(settings.blur_faces, settings.backend, detection),
        regions_hidden=regions_hidden(settings.exclude_windows, settings.exclude_region)
        if video is VideoKind.SCREEN
        else 0,
    )
