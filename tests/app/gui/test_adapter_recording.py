"""The adapter's recording events (issue 17, items 1-3, in the window's typed events): a
recorder that reports a failure before the connect worker has announced "recording on" is not
shown as recording afterwards; a resumption is announced with the new file."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import Settings
from app.gui.adapter import AssistantAdapter
from app.model import ModelEvent, NoticeChanged, RecordingChanged, State, StateChanged
from app.recording_notes import WINDOW_RETRY_HINT, RecordingNotices
from realtime.recording.errors import RecordingError
from tests.app.fakes import FakeAudio, FakeSpec, NullRecorder
from tests.reliability.helpers import wait_until

pytestmark = pytest.mark.gui

WHY = "Recording could not start: cannot write /ro/x.voicecam (read-only file system)."


class _Recording(NullRecorder):
    def __init__(self) -> None:
        self.closed = False

    @property
    def path(self) -> Path | None:
        return Path("/ro/x.voicecam")

    def set_enabled(self, on: bool) -> None:
        pass

    def close(self) -> object:
        self.closed = True
        return None


def _adapter(tmp_path: Path, media_dir: Path, notices_seen: list[RecordingNotices]):
    recorder = _Recording()

    def make_recorder(settings: Settings, spec: object, notices: RecordingNotices) -> _Recording:
        notices_seen.append(notices)
        # the writer thread failed before the connect worker got the recorder back
        assert notices.on_error is not None
        notices.on_error(RecordingError(WHY, "not_writable"))
        return recorder

    def source(spec_text: str):
        from video.file import FileSource

        return FileSource(str(media_dir / "video" / "desk.png"), loop=True, still_fps=5.0)

    settings = Settings(recordings_dir=str(tmp_path / "rec"), recording=True)
    adapter = AssistantAdapter(
        settings,
        resolve=lambda settings, **kw: FakeSpec(),
        make_audio=lambda s, rate: FakeAudio(),
        make_source=source,
        make_recorder=make_recorder,
    )
    return adapter, recorder


def test_a_recorder_that_fails_at_once_is_not_shown_as_recording(
    tmp_path: Path, media_dir: Path
) -> None:
    notices: list[RecordingNotices] = []
    adapter, recorder = _adapter(tmp_path, media_dir, notices)
    events: list[ModelEvent] = []
    adapter.subscribe(events.append)
    try:
        adapter.connect("openai", "gpt-realtime", "marin")
        wait_until(
            lambda: any(isinstance(e, StateChanged) and e.state == State.LISTENING for e in events),
            15,
            "the conversation to start",
        )
        recording = [e for e in events if isinstance(e, RecordingChanged)]
        assert recording == [RecordingChanged(False, None, WHY)], recording
        assert notices[0].retry_hint == WINDOW_RETRY_HINT

        # space returned: the recorder resumed into a new file
        assert notices[0].on_resumed is not None
        notices[0].on_resumed(Path("/rec/y.voicecam"))
        assert events[-2:] == [
            RecordingChanged(True, "/rec/y.voicecam"),
            NoticeChanged("Recording resumed into /rec/y.voicecam."),
        ]
    finally:
        adapter.close()
    assert recorder.closed
