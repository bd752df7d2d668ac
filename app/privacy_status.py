"""What is leaving the machine, and to whom — one line for the privacy chip and the CLI.

Pure: :func:`privacy_line` turns a :class:`SendingState` (filled by the composition root from
the session, the audio engine, the video feed and the settings) into a :class:`PrivacyStatus`:

* ``"Mic + camera 1 fps → OpenAI"``            cloud, both streams flowing
* ``"Mic → Gemini, camera paused"``            cloud, camera turned off during the session
* ``"Mic + screen 1 frame/3 s, faces blurred → OpenAI"``
* ``"Mic + camera 1 fps, faces blurred (fallback detector) → OpenAI"``   face model missing
* ``"Mic + camera 1 fps, faces NOT blurred → OpenAI"``   blurring asked for but unavailable
* ``"Paused: nothing is sent to OpenAI"``      the pause hotkey is on
* ``"Local only"``                             the offline server on this computer
* ``"Not connected: nothing is sent"``

:class:`PrivacyLineTracker` gives the line only when it changes (the headless CLI prints it
then). No Qt, no I/O, no clock; safe on any thread (values are immutable).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "FACE_BLUR_TEXT",
    "Destination",
    "FaceBlur",
    "PrivacyLevel",
    "PrivacyLineTracker",
    "PrivacyStatus",
    "SendingState",
    "VideoKind",
    "format_frame_rate",
    "privacy_line",
]


class VideoKind(enum.StrEnum):
    NONE = "none"  # no video source chosen
    CAMERA = "camera"
    SCREEN = "screen"  # a monitor, a region or a window


class FaceBlur(enum.StrEnum):
    """Face blurring of the frames sent: what the person asked for and what actually runs."""

    #: Not asked for on this backend.
    OFF = "off"
    #: Faces are blurred with the face model (CenterFace).
    ON = "on"
    #: Faces are blurred with the fallback detector (the face model did not load): slower, and
    #: it misses more faces.
    FALLBACK = "fallback"
    #: Asked for, but no face detector runs: faces in the frames are sent as they are.
    UNAVAILABLE = "unavailable"


#: What the line says of each :class:`FaceBlur` (nothing for OFF).
FACE_BLUR_TEXT = {
    FaceBlur.ON: "faces blurred",
    FaceBlur.FALLBACK: "faces blurred (fallback detector)",
    FaceBlur.UNAVAILABLE: "faces NOT blurred",
}


class PrivacyLevel(enum.StrEnum):
    """For the chip's colour: LOCAL/IDLE/PAUSED send nothing off the machine; CLOUD does."""

    LOCAL = "local"
    IDLE = "idle"
    PAUSED = "paused"
    CLOUD = "cloud"


@dataclass(frozen=True)
class Destination:
    """Who receives what is sent: ``label`` as a person knows it ("OpenAI", "Gemini",
    "example.com"); ``local`` when it is this computer (the offline server, a loopback URL)."""

    label: str
    local: bool = False


@dataclass(frozen=True)
class SendingState:
    """What the session is doing now.

    ``connected``: a session is open; ``paused``: the pause hotkey holds all sending;
    ``mic_sending``: microphone audio goes out (not muted, not push-to-talk released);
    ``video``: the chosen source kind; ``video_on``: the source is on (False: camera paused);
    ``frame_interval_s``: seconds between frames actually sent (None: on change/speech only);
    ``faces``: face blurring of the frames (asked for, and which detector runs);
    ``regions_hidden``: excluded windows/rectangles filled in screen frames.
    """

    destination: Destination
    connected: bool = True
    paused: bool = False
    mic_sending: bool = True
    video: VideoKind = VideoKind.NONE
    video_on: bool = True
    frame_interval_s: float | None = None
    faces: FaceBlur = FaceBlur.OFF
    regions_hidden: int = 0


@dataclass(frozen=True)
class PrivacyStatus:
    line: str
    level: PrivacyLevel
    #: True when anything at all can leave the machine now.
    sending: bool


def format_frame_rate(interval_s: float | None) -> str:
    """ "1 fps", "2 fps", "1 frame/3 s", "on change" (None)."""
    if interval_s is None:
        return "on change"
    if interval_s <= 0:
        raise ValueError(f"frame interval must be > 0 s, got {interval_s}")
    if interval_s <= 1.0:
        fps = 1.0 / interval_s
        return f"{fps:.0f} fps" if abs(fps - round(fps)) < 0.05 else f"{fps:.1f} fps"
    return f"1 frame/{interval_s:g} s"


def privacy_line(state: SendingState) -> PrivacyStatus:
    """The chip's line for ``state`` (see module docstring for examples)."""
    dest = state.destination
    if dest.local:
        return PrivacyStatus("Local only", PrivacyLevel.LOCAL, False)
    if not state.connected:
        return PrivacyStatus("Not connected: nothing is sent", PrivacyLevel.IDLE, False)
    if state.paused:
        return PrivacyStatus(f"Paused: nothing is sent to {dest.label}", PrivacyLevel.PAUSED, False)
    streams: list[str] = []
    if state.mic_sending:
        streams.append("Mic")
    video_sending = state.video is not VideoKind.NONE and state.video_on
    if video_sending:
        what = f"{state.video.value} {format_frame_rate(state.frame_interval_s)}"
        hidden = []
        if state.faces is not FaceBlur.OFF:
            hidden.append(FACE_BLUR_TEXT[state.faces])
        if state.regions_hidden:
            n = state.regions_hidden
            hidden.append(f"{n} area{'s' if n != 1 else ''} hidden")
        if hidden:
            what += ", " + ", ".join(hidden)
        streams.append(what)
    notes: list[str] = []
    if state.video is not VideoKind.NONE and not state.video_on:
        notes.append(f"{state.video.value} paused")
    if not streams:
        tail = f" ({', '.join(notes)})" if notes else ""
        return PrivacyStatus(
            f"Connected to {dest.label}: nothing is sent{tail}", PrivacyLevel.IDLE, False
        )
    line = " + ".join(streams) + f" → {dest.label}"
    if notes:
        line += ", " + ", ".join(notes)
    return PrivacyStatus(line, PrivacyLevel.CLOUD, True)


class PrivacyLineTracker:
    """Remembers the last line; :meth:`update` returns the new one only when it changed."""

    def __init__(self) -> None:
        self._last: str | None = None

    def update(self, state: SendingState) -> PrivacyStatus | None:
        status = privacy_line(state)
        if status.line == self._last:
            return None
        self._last = status.line
        return status
