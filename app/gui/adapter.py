"""Adapts the real ``app.assistant.Assistant`` to the window's contract (:mod:`app.gui.model`).

Qt-free. What it adds around the assistant:

- **Building a conversation from ``app.config.Settings``** (backend spec, audio engine, frame feed,
  session recorder) on a short-lived worker thread, because some of it blocks (the recorder opens
  its file; the offline server starts inside the assistant's own ``prepare`` step).
- **One offline server for the app's lifetime** (``app.local_server.LocalServer``), so the models
  load once; its progress is reported as ``State.LOADING`` + :class:`Loading`.
- **Camera and screen share** on one ``FrameFeed`` whose source is swapped (camera ↔ screen).
- **Recording**: one ``SessionRecorder`` per conversation (if enabled), closed when it ends; the
  status-bar switch pauses/resumes it; its failure is reported with the recorder's message.

Threads: commands are called on the GUI thread and return at once; listener callbacks arrive on
the assistant's engine thread or on this adapter's worker threads (the bridge queues them).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.config import Settings
from app.gui.model import (
    AssistantListener,
    Backend,
    Latency,
    Loading,
    Meters,
    Mode,
    PreviewFrame,
    Snapshot,
    State,
    StateInfo,
    Turn,
    Usage,
)

log = logging.getLogger(__name__)

SCREEN_SPEC = "screen:1"

_STATE = {
    "idle": State.IDLE,
    "connecting": State.CONNECTING,
    "listening": State.LISTENING,
    "user_speaking": State.USER_SPEAKING,
    "thinking": State.THINKING,
    "assistant_speaking": State.SPEAKING,
    "reconnecting": State.RECONNECTING,
    "error": State.ERROR,
}


def _ms(a: int | None, b: int | None) -> float | None:
    return None if a is None or b is None else (b - a) / 1e6


def convert_latency(lat: Any) -> Latency | None:
    """``app.latency.TurnLatency`` → :class:`Latency` (all from the end of user speech)."""
    if lat is None:
        return None
    end = lat.speech_end_ns
    return Latency(
        commit_ms=_ms(end, lat.commit_ns),
        first_byte_ms=_ms(end, lat.first_byte_ns),
        first_audible_ms=_ms(end, lat.first_audible_ns),
    )


def convert_turn(t: Any) -> Turn:
    """``app.transcript.Turn`` → :class:`Turn` (interrupted: heard text + unheard rest)."""
    usage = t.usage
    return Turn(
        turn_id=t.turn_id,
        role=t.role,
        text=t.heard_text if t.interrupted else t.text,
        partial=t.partial,
        interrupted=t.interrupted,
        unheard=t.unheard_text if t.interrupted else "",
        latency=convert_latency(t.latency),
        input_tokens=usage.input_tokens if usage is not None else None,
        output_tokens=usage.output_tokens if usage is not None else None,
        cost_usd=t.cost_usd,
    )


def convert_usage(snap: Any) -> Usage:
    u = snap.usage
    return Usage(
        input_tokens=u.input_tokens,
        output_tokens=u.output_tokens,
        cost_usd=0.0 if snap.free else snap.cost_usd,
        free=bool(snap.free),
    )


class _Relay:
    """The listener registered with the real assistant: converts and fans out."""

    def __init__(self, owner: AssistantAdapter) -> None:
        self.owner = owner

    def on_state(self, state: Any, message: str) -> None:
        self.owner._on_state(_STATE.get(str(getattr(state, "value", state)), State.ERROR), message)

    def on_turn(self, turn: Any) -> None:
        self.owner._emit("on_turn", convert_turn(turn))

    def on_usage(self, snap: Any) -> None:
        self.owner._emit("on_usage", convert_usage(snap))

    def on_time_left(self, seconds: float | None) -> None:
        self.owner._emit("on_time_left", seconds)

    def on_frame_sent(self, frame: Any) -> None:
        self.owner._emit("on_frame_sent", frame.jpeg, frame.t_ns)

    def on_notice(self, message: str) -> None:
        self.owner._emit("on_notice", message)

    def on_transcript_reset(self) -> None:
        self.owner._emit("on_transcript_reset")

    def on_loading(self, step: int, total: int, what: str) -> None:
        self.owner._on_loading(step, total, what)


class AssistantAdapter:
    """Implements :class:`app.gui.model.AssistantModel` over ``app.assistant.Assistant``.

    ``assistant``, ``make_audio``, ``make_source``, ``make_recorder`` and ``resolve`` are
    injectable for tests; the defaults build the real components from the settings.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        assistant: Any = None,
        resolve: Callable[..., Any] | None = None,
        make_audio: Callable[[Settings, int], Any] | None = None,
        make_source: Callable[[str], Any] | None = None,
        make_recorder: Callable[[Settings, Any, Callable[[Exception], None]], Any] | None = None,
        local_server: Any = None,
    ) -> None:
        if assistant is None:
            from app.assistant import Assistant

            assistant = Assistant()
        self.assistant = assistant
        self.settings = settings or Settings()
        self._resolve = resolve or _default_resolve
        self._make_audio = make_audio or _default_audio
        self._make_source = make_source or _default_source
        self._make_recorder = make_recorder or functools.partial(
            _default_recorder, on_resumed=self._recording_resumed
        )
        self._listeners: list[AssistantListener] = []
        self._lock = threading.Lock()
        self._relay = _Relay(self)
        assistant.add_listener(self._relay)
        self._mode = Mode(self.settings.mode)
        self._camera_on = False
        self._screen_on = False
        self._recording = self.settings.recording
        self._recorder: Any = None
        self._feed: Any = None
        self._feed_spec: str | None = None
        self._loading = False
        self._state = StateInfo(State.IDLE)
        #: The offline server (``app.local_server.LocalServer``); created on the first local
        #: connect unless given. One given by the caller is not stopped by ``close()``.
        self._server: Any = local_server
        self._own_server = local_server is None
        self._workers: list[threading.Thread] = []
        self._closed = False
        self._connecting = threading.Event()

    # ------------------------------------------------------------------ plumbing
    def _emit(self, method: str, *args: Any) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for lst in listeners:
            fn = getattr(lst, method, None)
            if fn is not None:
                try:
                    fn(*args)
                except Exception:
                    log.exception("GUI listener %s failed", method)

    def _spawn(self, fn: Callable[[], None], name: str) -> None:
        """Run blocking work off the caller's thread; errors become the error state."""

        def run() -> None:
            try:
                fn()
            except Exception as exc:
                log.warning("%s failed: %s", name, exc)
                self._on_state(State.ERROR, str(exc) or type(exc).__name__)

        t = threading.Thread(target=run, name=f"voicecam-gui-{name}", daemon=True)
        with self._lock:
            self._workers = [w for w in self._workers if w.is_alive()] + [t]
        t.start()

    def _on_state(self, state: State, message: str) -> None:
        if state == State.CONNECTING and self._loading:
            state = State.LOADING
        if state not in (State.CONNECTING, State.LOADING):
            self._loading = False
        self._state = StateInfo(state, message)
        self._emit("on_state", self._state)
        if state in (State.IDLE, State.ERROR):
            self._session_ended()

    def _on_loading(self, step: int, total: int, what: str) -> None:
        done = what == "ready"
        self._loading = not done
        frac = 1.0 if done else (step / total if total else 0.0)
        self._emit("on_loading", Loading(frac, "" if done else what, done))
        if not done and self._state.state == State.CONNECTING:
            self._state = StateInfo(State.LOADING, "")
            self._emit("on_state", self._state)
        elif done and self._state.state == State.LOADING:  # models ready: now the session
            self._state = StateInfo(State.CONNECTING, "")
            self._emit("on_state", self._state)

    def _session_ended(self) -> None:
        rec, self._recorder = self._recorder, None
        if rec is not None:
            self._spawn(lambda: rec.close(), "recorder-close")
        feed = self._feed
        if feed is not None and (self._camera_on or self._screen_on):
            self._spawn(feed.start, "preview")  # keep the preview after the conversation

    # ------------------------------------------------------------------ AssistantModel
    def backends(self) -> tuple[Backend, ...]:
        from app.backends import BACKENDS

        return tuple(Backend(b.name, b.label, b.models, b.voices, b.needs_key) for b in BACKENDS)

    def snapshot(self) -> Snapshot:
        snap = self.assistant.snapshot()
        return Snapshot(
            state=self._state,
            mode=self._mode,
            turns=tuple(convert_turn(t) for t in snap.turns),
            usage=convert_usage(snap),
            time_left_s=snap.time_left_s,
            recording=self._recording,
            camera_on=self._camera_on,
            screen_on=self._screen_on,
            connected=snap.connected,
        )

    def add_listener(self, listener: AssistantListener) -> None:
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)

    def remove_listener(self, listener: AssistantListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def connect(self, backend: str, model: str, voice: str) -> None:
        if self.assistant.running() or self._closed or self._connecting.is_set():
            return
        self._connecting.set()
        settings = replace(self.settings, backend=backend, model=model, voice=voice)
        self._state = StateInfo(State.CONNECTING)
        self._emit("on_state", self._state)

        def run() -> None:
            try:
                self._start(settings)
            finally:
                self._connecting.clear()

        self._spawn(run, "connect")

    def _start(self, settings: Settings) -> None:
        """Worker thread: build everything, configure, start (the assistant returns at once)."""
        from app.modes import Mode as AppMode

        kwargs: dict[str, Any] = {}
        if settings.backend == "local":
            if self._server is None:
                from app.local_server import LocalServer

                self._server = LocalServer()
            kwargs["local_server"] = self._server
        spec = self._resolve(settings.backend, settings.model, settings.voice, **kwargs)
        audio = self._make_audio(settings, spec.input_rate_hz)
        if settings.camera_on and not (self._camera_on or self._screen_on):
            self._camera_on = True  # "turn the camera on when a conversation starts"
            self._emit("on_camera", True)
        feed = self._ensure_feed(settings)
        recorder = None
        if self._recording and settings.recording:
            recorder = self._make_recorder(settings, spec, self._recording_failed)
            self._recorder = recorder
            path = getattr(recorder, "path", None)
            self._emit("on_recording", True, str(path) if path else None, None)
        options = replace(settings.options(), mode=AppMode(self._mode.value))
        self.assistant.configure(
            spec=spec, audio=audio, frames=feed, options=options, recorder=recorder
        )
        if feed is not None:
            feed.enabled = self._camera_on or self._screen_on
        self.assistant.start()

    def _ensure_feed(self, settings: Settings) -> Any:
        from app.frames import FrameFeed

        spec = SCREEN_SPEC if self._screen_on else (settings.camera or "0")
        if self._feed is None:
            self._feed = FrameFeed(self._make_source(spec), settings.pacer_config())
            self._feed.enabled = False
            self._feed_spec = spec
        elif spec != self._feed_spec:
            self._swap_source(spec)
        return self._feed

    def _swap_source(self, spec: str) -> None:
        """Replace the feed's source (camera ↔ screen). Worker thread."""
        self._feed.set_source(self._make_source(spec))
        self._feed_spec = spec

    def _recording_failed(self, error: Exception) -> None:
        self._emit("on_recording", False, None, str(error))

    def _recording_resumed(self, path: Path) -> None:
        """The disk had room again: recording goes on in a new file (recorder thread)."""
        self._emit("on_recording", True, str(path), None)
        self._emit("on_notice", f"Recording resumed into {path}.")

    def disconnect(self) -> None:
        self._spawn(lambda: self.assistant.stop(wait=True), "disconnect")

    def set_mode(self, mode: Mode) -> None:
        self._mode = Mode(mode)
        self.settings = replace(self.settings, mode=self._mode.value)
        self.assistant.set_mode(self._mode.value)

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

    def send_text(self, text: str) -> None:
        self.assistant.send_text(text)

    def set_recording(self, on: bool) -> None:
        self._recording = on
        rec = self._recorder
        if rec is not None:
            rec.set_enabled(on)

    def apply_settings(self, settings: Any) -> None:
        if isinstance(settings, Settings):
            self.settings = settings
            self._recording = settings.recording
            if Mode(settings.mode) != self._mode:
                self.set_mode(Mode(settings.mode))

    def meters(self) -> Meters:
        m = self.assistant.meters()
        if m is None:
            return Meters()
        return Meters(
            mic_dbfs=float(getattr(m, "mic_dbfs", -120.0)),
            speaker_dbfs=float(getattr(m, "speaker_dbfs", -120.0)),
            erle_db=getattr(m, "erle_db", None),
            echo_hint=getattr(m, "echo_hint", None),
        )

    def preview_frame(self) -> PreviewFrame | None:
        feed = self._feed
        if feed is None:
            return None
        frame = feed.preview()
        if frame is None:
            return None
        return PreviewFrame(frame.image, int(getattr(frame, "seq", 0)))

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


# ---------------------------------------------------------------------- default builders


def _default_resolve(name: str, model: str, voice: str, **kw: Any) -> Any:
    from app.backends import resolve

    return resolve(name, model, voice, **kw)


def _default_audio(settings: Settings, send_rate_hz: int) -> Any:
    from audio.config import AudioConfig
    from audio.engine import AudioEngine

    return AudioEngine(
        AudioConfig(
            input_device=settings.input_device or None,
            output_device=settings.output_device or None,
            send_rate_hz=send_rate_hz,
            headphones=settings.aec == "headphones",
            echo_cancellation=settings.aec != "off",
            vad_sensitivity=settings.vad_sensitivity,
        )
    )


def _default_source(spec: str) -> Any:
    from video.factory import open_source

    return open_source(spec)


def _default_recorder(
    settings: Settings,
    spec: Any,
    on_error: Callable[[Exception], None],
    on_resumed: Callable[[Path], None] | None = None,
) -> Any:
    """Recording that reports its failures and resumes in a new file after a full disk."""
    from realtime.recording.resilient import ResilientRecorder

    folder = settings.recordings_path()
    return ResilientRecorder(
        folder,
        metadata={"backend": spec.name, "model": spec.model, "voice": spec.voice},
        on_error=on_error,
        on_resumed=on_resumed,
        retry_hint="Choose a writable sessions folder in the settings to record.",
    )


def make_assistant(settings: Settings | None = None) -> AssistantAdapter:
    """The real assistant behind the window's contract."""
    return AssistantAdapter(settings)
