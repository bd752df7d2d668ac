"""Adapts the real ``app.assistant.Assistant`` to the window's port (:mod:`app.gui.port`).

Qt-free, and imports only ``app``. What it adds around the assistant:

- **Starting a conversation from ``app.config.Settings``** on a short-lived worker thread,
  because building the parts can block (the recorder opens its file; the offline server starts
  in the assistant's own ``prepare`` step). The parts come from injectable builders; the
  defaults are ``app.compose``'s, the app's one composition root (shared with the CLI).
- **One offline server for the app's lifetime** (``app.local_server.LocalServer``), so the models
  load once; replaced (the old one stopped) only when the offline backend's brain changes (a
  model of a local model server chosen in the picker, ``app.local_models``). Its progress
  reaches the window as the core's ``State.LOADING`` and ``LoadingChanged`` events, unchanged.
- **Camera and screen share** on one ``FrameFeed`` whose source is swapped (camera ↔ screen),
  and that keeps previewing while no conversation runs.
- **Recording**: one recorder per conversation (if enabled), closed when it ends; the status-bar
  switch pauses/resumes it; its failure is reported with the recorder's message, and after a
  full disk it resumes into a new file (``app.compose.build_recorder``), which is announced.

The injectable builders and their ``app.compose`` defaults are in ``app.gui.adapter_parts``; the
recorder's reports become model events in ``app.gui.adapter_recording``.

Events: the assistant's ``app.model`` events are forwarded to this adapter's subscribers as they
are. The adapter itself publishes only what it owns: ``StateChanged(CONNECTING)`` the moment a
connect is asked for (building the parts takes a while) and ``StateChanged(ERROR)`` if building
fails, ``CameraChanged`` (camera on at start, per the settings), ``RecordingChanged`` and the
``NoticeChanged`` announcing a resumed recording.

Threads: commands are called on the GUI thread and return at once; subscribers are called on
the assistant's engine thread or on this adapter's worker threads.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import replace

from app.assistant import Assistant
from app.backends import BACKENDS, BackendInfo
from app.camera_presence import NO_CAMERA_NOTICE, camera_is_set_up
from app.config import Settings
from app.day_spend import DaySpend
from app.frames import FrameFeed
from app.gui import adapter_parts as parts
from app.gui.adapter_parts import MakeAudio, MakeRecorder, MakeSource, Resolve, SessionRecording
from app.gui.adapter_recording import RecordingReports, close_recording
from app.local_models import server_args
from app.local_server import LocalServer
from app.model import (
    BudgetChanged,
    CameraChanged,
    Frame,
    Meters,
    Mode,
    ModelEvent,
    ModelListener,
    NoticeChanged,
    RecordingChanged,
    Spend,
    SpendChanged,
    State,
    StateChanged,
    TimeLeftChanged,
    TranscriptReset,
    TurnUpdated,
)
from app.privacy_status import SendingState, VideoKind
from app.recording_notes import RecordingNotices
from app.sending import sending_state
from app.subscribers import Subscribers

log = logging.getLogger(__name__)

SCREEN_SPEC = "screen:1"


class AssistantAdapter:
    """Implements :class:`app.gui.port.AssistantPort` over ``app.assistant.Assistant``.

    ``assistant``, ``resolve``, ``make_audio``, ``make_source``, ``make_recorder`` and
    ``camera_set_up`` are injectable for tests and benchmarks. ``local_server``: one given by
    the caller is used and not stopped by ``close()``; otherwise one is started on the first
    offline connect.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        assistant: Assistant | None = None,
        resolve: Resolve | None = None,
        make_audio: MakeAudio | None = None,
        make_source: MakeSource | None = None,
        make_recorder: MakeRecorder | None = None,
        local_server: LocalServer | None = None,
        camera_set_up: Callable[[str], bool] | None = None,
    ) -> None:
        self.assistant = assistant if assistant is not None else Assistant()
        self.settings = settings or Settings()
        self._resolve: Resolve = resolve or parts.build_backend
        self._make_audio: MakeAudio = make_audio or parts.build_audio
        self._make_source: MakeSource = make_source or (
            lambda spec: parts.open_video(spec, self.settings)  # hides the excluded windows
        )
        self._make_recorder: MakeRecorder = make_recorder or parts.build_recorder
        #: Whether ``Settings.camera`` names a source that exists (``app.camera_presence``).
        self._camera_set_up: Callable[[str], bool] = camera_set_up or camera_is_set_up
        self._subscribers = Subscribers()
        self._lock = threading.Lock()
        self.assistant.subscribe(self._forward)
        self._mode = Mode(self.settings.mode)
        self._camera_on = False
        self._screen_on = False
        self._recording = self.settings.recording
        self._recorder: SessionRecording | None = None
        self._reports = RecordingReports(self._publish)
        self._feed: FrameFeed | None = None
        self._feed_spec: str | None = None
        self._feed_lock = threading.Lock()
        #: Between ``connect()`` and the assistant's own first state (or a failure).
        self._starting = False
        self._server: LocalServer | None = local_server
        self._own_server = local_server is None
        self._workers: list[threading.Thread] = []
        self._closed = False
        self._connecting = threading.Event()
        self._day_spend: DaySpend | None = None  # today's spend, opened at the first connect
        #: The backend of the running (or last) conversation: redaction follows it.
        self._backend: str | None = None

    # ------------------------------------------------------------------ plumbing
    def _publish(self, event: ModelEvent) -> None:
        self._subscribers.publish(event)

    def _forward(self, event: ModelEvent) -> None:
        """The assistant's events (engine thread): pass on; a finished session cleans up."""
        if isinstance(event, StateChanged):
            self._starting = False
        self._publish(event)
        if isinstance(event, StateChanged) and event.state in (State.IDLE, State.ERROR):
            self._session_ended()

    def _spawn(self, fn: Callable[[], object], name: str) -> None:
        """Run blocking work off the caller's thread; its error becomes the error state."""

        def run() -> None:
            try:
                fn()
            except Exception as exc:
                log.warning("%s failed: %s", name, exc)
                self._starting = False
                self._publish(StateChanged(State.ERROR, str(exc) or type(exc).__name__))
                self._session_ended()

        t = threading.Thread(target=run, name=f"voicecam-gui-{name}", daemon=True)
        with self._lock:
            self._workers = [w for w in self._workers if w.is_alive()] + [t]
        t.start()

    def _session_ended(self) -> None:
        rec, self._recorder = self._recorder, None
        if rec is not None:
            self._spawn(lambda: close_recording(rec), "recorder-close")
        feed = self._feed
        if feed is not None and (self._camera_on or self._screen_on):
            self._spawn(feed.start, "preview")  # keep the preview after the conversation

    # ------------------------------------------------------------------ AssistantPort
    def backends(self) -> tuple[BackendInfo, ...]:
        return BACKENDS

    def subscribe(self, listener: ModelListener) -> None:
        self._subscribers.subscribe(listener)

    def unsubscribe(self, listener: ModelListener) -> None:
        self._subscribers.unsubscribe(listener)

    def current_events(self) -> tuple[ModelEvent, ...]:
        snap = self.assistant.snapshot()
        state = State.CONNECTING if self._starting else snap.state
        spend = Spend(snap.usage, snap.cost_usd, snap.free, snap.cost_line)
        budget = () if snap.budget is None else (BudgetChanged(snap.budget),)
        return (
            StateChanged(state, snap.error),
            TranscriptReset(),
            *(TurnUpdated(t) for t in snap.turns),
            SpendChanged(spend),
            TimeLeftChanged(snap.time_left_s),
            CameraChanged(self._camera_on),
            RecordingChanged(self._recording),
            *budget,
        )

    def connect(self, backend: str, model: str, voice: str) -> None:
        if self.assistant.running() or self._closed or self._connecting.is_set():
            return
        self._connecting.set()
        settings = replace(self.settings, backend=backend, model=model, voice=voice)
        self._starting = True
        self._publish(StateChanged(State.CONNECTING))

        def run() -> None:
            try:
                self._start(settings)
            finally:
                self._connecting.clear()

        self._spawn(run, "connect")

    def _start(self, settings: Settings) -> None:
        """Worker thread: build the parts, configure, start (the assistant returns at once)."""
        server = self._offline_server(settings) if settings.backend == "local" else None
        spec = self._resolve(settings, local_server=server)
        audio = self._make_audio(settings, spec.input_rate_hz)
        if settings.camera_on and not (self._camera_on or self._screen_on):
            # "turn the camera on when a conversation starts", if there is one (issue 14, 5)
            if self._camera_set_up(settings.camera):
                self._camera_on = True
                self._publish(CameraChanged(True))
            else:
                self._publish(NoticeChanged(NO_CAMERA_NOTICE))
        feed = self._ensure_feed(settings)
        parts.apply_redaction(feed, settings)  # blur faces iff asked for on this backend
        self._backend = settings.backend
        recorder = None
        if self._recording and settings.recording:
            self._reports.begin()
            recorder = self._make_recorder(settings, spec, self.recording_notices())
            self._recorder = recorder
            self._reports.started(recorder.path)
        options = replace(settings.options(), mode=self._mode)
        if self._day_spend is None:
            self._day_spend = parts.build_day_spend()
        self.assistant.configure(
            spec=spec,
            audio=audio,
            frames=feed,
            options=options,
            recorder=recorder,
            budget=parts.build_budget(settings),
            day_spend=self._day_spend,
        )
        feed.enabled = self._camera_on or self._screen_on
        self.assistant.start()

    def _offline_server(self, settings: Settings) -> LocalServer:
        """Worker thread: the app's offline server for the settings' brain. One we started for
        another brain is stopped and replaced; one given by the caller is always used."""
        old = self._server
        if old is not None and self._own_server and old.extra_args != server_args(settings):
            self._server = None
            old.stop()
        if self._server is None:
            self._server = parts.build_local_server(settings)
        return self._server

    def _ensure_feed(self, settings: Settings) -> FrameFeed:
        """The one feed (worker threads: a camera switch and a connect may race, hence the
        lock); its source follows the camera/screen choice."""
        with self._feed_lock:
            spec = SCREEN_SPEC if self._screen_on else (settings.camera or "0")
            # changed exclusions need a new screen source (it hides them in every grab)
            key = f"{spec}|{settings.exclude_windows}|{settings.exclude_region}"
            if self._feed is None:
                self._feed = parts.build_frames(self._make_source(spec), settings)
                self._feed.enabled = False
                self._feed_spec = key
            elif key != self._feed_spec:
                self._feed.set_source(self._make_source(spec))
                self._feed_spec = key
            return self._feed

    def recording_notices(self) -> RecordingNotices:
        """How the conversation's recorder reports to the window (issue 17, items 1-3): a
        failure as ``RecordingChanged(False, None, why)`` (the window says it in the status
        bar), a resumption after a full disk as ``RecordingChanged(True, path)`` plus a
        notice naming the new file. Called on the recorder's threads."""
        return self._reports.notices()

    def disconnect(self) -> None:
        self._spawn(lambda: self.assistant.stop(wait=True), "disconnect")

    def set_mode(self, mode: Mode) -> None:
        self._mode = Mode(mode)
        self.settings = replace(self.settings, mode=self._mode.value)
        self.assistant.set_mode(self._mode)

    def talk_start(self) -> None:
        self.assistant.push_to_talk(True)

    def talk_end(self) -> None:
        # toggle mode flips on each press; push-to-talk ends on release
        self.assistant.push_to_talk(self._mode == Mode.TOGGLE)

    def set_camera(self, on: bool) -> None:
        self._camera_on = on
        if on:
            self._screen_on = False
        self._video_changed()

    def set_screen(self, on: bool) -> None:
        self._screen_on = on
        if on:
            self._camera_on = False
        self._video_changed()

    def _video_changed(self) -> None:
        settings = self.settings
        want = self._camera_on or self._screen_on

        def apply() -> None:
            feed = self._ensure_feed(settings)
            if self.assistant.running():
                self.assistant.set_camera(want)
            else:
                feed.set_enabled(want)

        self._spawn(apply, "video")

    def look_at_this(self) -> None:
        self.assistant.look_at_this()

    def pause_sending(self, on: bool) -> None:
        self.assistant.pause_sending(on)

    def sending_state(self) -> SendingState:
        if self._screen_on:
            video, video_on = VideoKind.SCREEN, True
        elif self._camera_on:
            video, video_on = VideoKind.CAMERA, True
        else:
            video, video_on = (VideoKind.NONE if self._feed is None else VideoKind.CAMERA), False
        snap = self.assistant.snapshot()
        settings = replace(self.settings, backend=self._backend or self.settings.backend)
        return sending_state(
            settings,
            state=snap.state,
            paused=self.assistant.sending_paused,
            mode=snap.mode,
            video=video,
            video_on=video_on,
            detection=None if self._feed is None else self._feed.face_detection(),
        )

    def send_text(self, text: str) -> None:
        self.assistant.send_text(text)

    def set_recording(self, on: bool) -> None:
        self._recording = on
        rec = self._recorder
        if rec is not None:
            rec.set_enabled(on)

    def apply_settings(self, settings: Settings) -> None:
        self.settings = settings
        self._recording = settings.recording
        self.assistant.set_budget(parts.build_budget(settings))  # a raised limit applies at once
        if Mode(settings.mode) != self._mode:
            self.set_mode(Mode(settings.mode))
        if self._feed is not None:  # new exclusions / face blurring apply at once
            for_backend = replace(settings, backend=self._backend or settings.backend)

            def redo() -> None:
                parts.apply_redaction(self._ensure_feed(for_backend), for_backend)

            self._spawn(redo, "redaction")

    def meters(self) -> Meters | None:
        return self.assistant.meters()

    def preview_frame(self) -> Frame | None:
        feed = self._feed
        return None if feed is None else feed.preview()

    def close(self) -> None:
        """Stop everything (blocking; call after the window closed)."""
        self._closed = True
        with contextlib.suppress(Exception):
            self.assistant.close()
        for w in list(self._workers):
            w.join(10.0)
        if self._recorder is not None:
            with contextlib.suppress(Exception):
                self._recorder.close()
        if self._feed is not None:
            with contextlib.suppress(Exception):
                self._feed.stop()
        if self._server is not None and self._own_server:
            with contextlib.suppress(Exception):
                self._server.stop()


def make_assistant(settings: Settings | None = None) -> AssistantAdapter:
    """The real assistant behind the window's port."""
    return AssistantAdapter(settings)
