"""The parts ``app.gui.adapter.AssistantAdapter`` builds, as injectable builder types and defaults.

Every default comes from the one composition root, ``app.compose`` (shared with the CLI and
rerun), imported when first used so the window opens without loading the audio and video
stacks. Each builder may block (a recorder opens its file, a server starts): the adapter calls
them on its worker threads.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from app.config import Settings
from app.day_spend import DaySpend, Limits
from app.frames import FrameFeed, FrameSource
from app.local_server import LocalServer
from app.ports import AudioPort, ConnectSpec, RecorderPort
from app.recording_notes import RecordingNotices


class SessionRecording(RecorderPort, Protocol):
    """A recorder the window controls (``realtime.recording.writer.SessionRecorder``)."""

    @property
    def path(self) -> Path | None: ...
    def set_enabled(self, on: bool) -> None: ...
    def close(self) -> object:
        """Flush and close the file (blocking; the adapter calls it on a worker)."""
        ...


class Resolve(Protocol):
    """The backend spec for the settings (default ``app.compose.build_backend``); may block."""

    def __call__(self, settings: Settings, *, local_server: LocalServer | None) -> ConnectSpec: ...


MakeAudio = Callable[[Settings, int], AudioPort]
MakeSource = Callable[[str], FrameSource]
#: ``make_recorder(settings, spec, notices)``: the conversation's recording, which reports
#: through ``notices`` (default ``app.compose.build_recorder``).
MakeRecorder = Callable[[Settings, ConnectSpec, RecordingNotices], SessionRecording]


def build_backend(settings: Settings, *, local_server: LocalServer | None) -> ConnectSpec:
    from app.compose import build_backend

    return build_backend(settings, local_server=local_server)


def build_local_server(settings: Settings) -> LocalServer:
    from app.compose import build_local_server

    return build_local_server(settings)


def build_audio(settings: Settings, send_rate_hz: int) -> AudioPort:
    from app.compose import build_audio

    return build_audio(settings, send_rate_hz=send_rate_hz)


def open_video(spec: str, settings: Settings) -> FrameSource:
    from app.compose import open_video

    return open_video(spec, settings)


def apply_redaction(feed: FrameFeed, settings: Settings) -> None:
    from app.compose import apply_redaction

    apply_redaction(feed, settings)


def build_frames(source: FrameSource, settings: Settings) -> FrameFeed:
    from app.compose import build_frames

    return build_frames(source, settings)


def build_budget(settings: Settings) -> Limits:
    from app.compose import build_budget

    return build_budget(settings)


def build_day_spend() -> DaySpend:
    from app.compose import build_day_spend

    return build_day_spend()


def build_recorder(
    settings: Settings, spec: ConnectSpec, notices: RecordingNotices
) -> SessionRecording:
    """Recording that reports its failures and resumes in a new file after a full disk."""
    from app.compose import build_recorder

    return build_recorder(settings, spec, notices=notices)
