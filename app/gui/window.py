"""The main window: thin widgets that observe the assistant and call it.

GUI thread only. Nothing here blocks: commands go to the assistant (which returns at once),
discrete changes arrive through :class:`app.gui.bridge.AssistantBridge` signals, meters and the
preview are polled by timers. Settings (selected backend/model/voice, mode, geometry) persist in
the ``QSettings`` passed in.

Talk control, per mode (when not connected, a click/press connects):
  hands-free  click = stop the conversation (disconnect)
  push-to-talk  press/hold (button or Space) = talk, release = end of turn
  toggle  click = start talking, click again = end of turn
  mute  click = unmute (back to the previous mode)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLineEdit,
    QMainWindow,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from app.config import Settings
from app.gui.bridge import AssistantBridge
from app.gui.layout import build_ui, make_actions
from app.gui.meters import level_fraction
from app.gui.model import (
    AssistantModel,
    Loading,
    Mode,
    State,
    StateInfo,
    Turn,
    Usage,
)
from app.gui.tasks import TaskRunner
from app.gui.theme import STATE_COLOURS

CONNECTED_STATES = frozenset(
    {
        State.LOADING,
        State.CONNECTING,
        State.LISTENING,
        State.USER_SPEAKING,
        State.THINKING,
        State.SPEAKING,
        State.RECONNECTING,
    }
)


METER_INTERVAL_MS = 50
PREVIEW_INTERVAL_MS = 66


def _selection_fields(st: Settings) -> dict[str, str]:
    return {"backend": st.backend, "model": st.model, "voice": st.voice, "mode": st.mode}


def state_texts(info: StateInfo, mode: Mode) -> tuple[str, str]:
    """(headline, hint) for a state; errors carry the assistant's actionable message."""
    s = info.state
    if s == State.IDLE:
        return "Not connected", "Press the big button or Ctrl+K to start a conversation."
    if s == State.LOADING:
        return "Loading models…", info.message or "First start: loading the offline models."
    if s == State.CONNECTING:
        return "Connecting…", info.message
    if s == State.LISTENING:
        hint = {
            Mode.HANDS_FREE: "Just talk. Click the button to stop.",
            Mode.PUSH_TO_TALK: "Hold Space or the button while you talk.",
            Mode.TOGGLE: "Click (or press Space) to talk, again when you're done.",
            Mode.MUTE: "Microphone muted — press Ctrl+M to unmute.",
        }[mode]
        head = "Muted" if mode == Mode.MUTE else "Ready — say something"
        return head, hint
    if s == State.USER_SPEAKING:
        return "Listening to you…", ""
    if s == State.THINKING:
        return "Thinking…", ""
    if s == State.SPEAKING:
        return "Speaking", "Talk to interrupt."
    if s == State.RECONNECTING:
        return "Reconnecting…", info.message or "The connection dropped; trying again."
    return "Something went wrong", info.message or "See the log for details."


class MainWindow(QMainWindow):
    """The VoiceCam window.

    ``qsettings``: a QSettings for window geometry (tests pass an INI file); ``settings``: the
    persisted ``app.config.Settings`` (backend/model/voice/mode are kept in step with the
    selectors and written by ``save_settings`` on a worker when the window closes).
    """

    def __init__(
        self,
        assistant: AssistantModel,
        qsettings: Any,
        settings: Settings | None = None,
        *,
        open_settings: Callable[[QWidget], QWidget | None] | None = None,
        open_sessions: Callable[[QWidget], QWidget | None] | None = None,
        save_settings: Callable[[Settings], None] | None = None,
    ) -> None:
        super().__init__()
        self.assistant = assistant
        self.qsettings = qsettings
        self.settings = settings if settings is not None else Settings()
        self._save_settings = save_settings
        self._open_settings = open_settings
        self._open_sessions = open_sessions
        self.settings_dialog: QWidget | None = None
        self.sessions_window: QWidget | None = None
        self.tasks = TaskRunner(self)
        self._backends = {b.name: b for b in assistant.backends()}
        snap = assistant.snapshot()
        self._info = snap.state
        self._mode = snap.mode
        self._mode_before_mute = Mode.HANDS_FREE if snap.mode == Mode.MUTE else snap.mode
        self._talking = False
        self._space_down = False
        self._press_connected = False
        self._loading: Loading | None = None
        self._closed = False

        self.setWindowTitle("VoiceCam")
        self.setAccessibleName("VoiceCam")
        self._build()
        self._make_actions()

        self.bridge = AssistantBridge(assistant, self)
        self.bridge.state_changed.connect(self.on_state)
        self.bridge.turn_updated.connect(self.on_turn)
        self.bridge.usage_changed.connect(self.status.set_usage)
        self.bridge.time_left_changed.connect(self.status.set_time_left)
        self.bridge.loading_changed.connect(self.on_loading)
        self.bridge.frame_sent.connect(self.thumbs.add_jpeg)
        self.bridge.recording_changed.connect(self._on_recording)
        self.bridge.transcript_reset.connect(self.transcript.clear)
        self.bridge.notice.connect(lambda m: self.status.showMessage(m, 8000))
        self.bridge.camera_changed.connect(self._reflect_camera)

        self._restore()
        # initial render from the snapshot, then live updates
        self.transcript.set_turns(snap.turns)
        self.status.set_usage(snap.usage)
        self.status.set_time_left(snap.time_left_s)
        self.status.set_recording(snap.recording)
        self.camera_btn.setChecked(snap.camera_on)
        self.screen_btn.setChecked(snap.screen_on)
        self._set_mode_buttons(self._mode)
        self.on_state(self._info)
        self.bridge.attach()
        self.talk_btn.setFocus()  # Space works at once; Tab reaches everything else

        self.meter_timer = QTimer(self)
        self.meter_timer.setInterval(METER_INTERVAL_MS)
        self.meter_timer.timeout.connect(self.poll_meters)
        self.meter_timer.start()
        self.preview_timer = QTimer(self)
        self.preview_timer.setInterval(PREVIEW_INTERVAL_MS)
        self.preview_timer.timeout.connect(self.poll_preview)
        self.preview_timer.start()
        QApplication.instance().installEventFilter(self)

    # ================================================================ layout
    def _build(self) -> None:
        build_ui(self)

    def _make_actions(self) -> None:
        make_actions(self)

    # ================================================================ persistence
    def _restore(self) -> None:
        """Window geometry from QSettings; backend/model/voice/mode from ``Settings``."""
        s = self.qsettings
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray | bytes) and geo:
            self.restoreGeometry(QByteArray(geo))
        split = s.value("window/splitter")
        if isinstance(split, QByteArray | bytes) and split:
            self.splitter.restoreState(QByteArray(split))
        st = self.settings
        i = self.backend_box.findData(st.backend)
        if i >= 0:
            self.backend_box.setCurrentIndex(i)
        for value, box in ((st.model, self.model_box), (st.voice, self.voice_box)):
            if value:
                i = box.findText(value)
                if i >= 0:
                    box.setCurrentIndex(i)
        if st.mode in {m.value for m in Mode} and Mode(st.mode) != self._mode:
            self.set_mode(Mode(st.mode))

    def current_settings(self) -> Settings:
        """``settings`` with the window's backend/model/voice/mode selection."""
        backend, model, voice = self.selection()
        return replace(
            self.settings,
            backend=backend or self.settings.backend,
            model=model,
            voice=voice,
            mode=self._mode.value,
        )

    def save_state(self) -> None:
        """Geometry to QSettings (GUI thread, Qt-buffered); ``Settings`` to disk on the worker."""
        s = self.qsettings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.splitter.saveState())
        s.sync()
        self.settings = self.current_settings()
        saver = self._save_settings
        if saver is not None:
            settings = self.settings
            self.tasks.submit(lambda: saver(settings), lambda _: None)

    def apply_settings(self, settings: Settings) -> None:
        """New settings from the dialog: keep the selection in step, pass them on."""
        self.settings = replace(settings, **_selection_fields(self.current_settings()))
        if settings.voice:
            i = self.voice_box.findText(settings.voice)
            if i >= 0:
                self.voice_box.setCurrentIndex(i)
            self.settings = replace(self.settings, voice=settings.voice)
        self.status.set_recording(settings.recording)
        self.assistant.apply_settings(self.settings)

    # ================================================================ selectors
    def _on_backend_changed(self, *_: object) -> None:
        b = self._backends.get(self.backend_box.currentData())
        self.model_box.clear()
        self.voice_box.clear()
        if b is None:
            return
        self.model_box.addItems(list(b.models))
        self.voice_box.addItems(list(b.voices))
        self.voice_box.setEnabled(bool(b.voices))

    def selection(self) -> tuple[str, str, str]:
        return (
            str(self.backend_box.currentData() or ""),
            self.model_box.currentText(),
            self.voice_box.currentText(),
        )

    # ================================================================ commands
    def is_connected(self) -> bool:
        return self._info.state in CONNECTED_STATES

    def toggle_connection(self) -> None:
        if self.is_connected():
            self._talking = False
            self.assistant.disconnect()
        else:
            self.assistant.connect(*self.selection())

    def set_mode(self, mode: Mode) -> None:
        if mode != Mode.MUTE:
            self._mode_before_mute = mode
        if self._talking and mode != self._mode:
            self._talking = False
            self.assistant.talk_end()
        self._mode = mode
        self._set_mode_buttons(mode)
        self.assistant.set_mode(mode)
        self._render_state()

    def toggle_mute(self) -> None:
        self.set_mode(self._mode_before_mute if self._mode == Mode.MUTE else Mode.MUTE)

    def _set_mode_buttons(self, mode: Mode) -> None:
        self.mode_buttons[mode].setChecked(True)

    def send_text(self) -> None:
        text = self.text_box.text().strip()
        if not text:
            return
        self.assistant.send_text(text)
        self.text_box.clear()

    def _on_camera(self, on: bool) -> None:
        if on and self.screen_btn.isChecked():  # one video source at a time
            self.screen_btn.blockSignals(True)
            self.screen_btn.setChecked(False)
            self.screen_btn.blockSignals(False)
        self.assistant.set_camera(on)
        if not on and not self.screen_btn.isChecked():
            self.preview.clear()

    def _on_screen(self, on: bool) -> None:
        if on and self.camera_btn.isChecked():
            self.camera_btn.blockSignals(True)
            self.camera_btn.setChecked(False)
            self.camera_btn.blockSignals(False)
        self.assistant.set_screen(on)
        if not on and not self.camera_btn.isChecked():
            self.preview.clear()

    def _reflect_camera(self, on: bool) -> None:
        """The assistant switched the camera itself: show it without calling back."""
        self.camera_btn.blockSignals(True)
        self.camera_btn.setChecked(on)
        self.camera_btn.blockSignals(False)
        if on and self.screen_btn.isChecked():
            self.screen_btn.blockSignals(True)
            self.screen_btn.setChecked(False)
            self.screen_btn.blockSignals(False)
        if not on and not self.screen_btn.isChecked():
            self.preview.clear()

    def _on_recording(self, on: bool, _path: object, error: object) -> None:
        self.status.set_recording(on, str(error) if error else None)
        if error:  # said plainly, not only in the indicator's tooltip (issue 17)
            self.status.showMessage(str(error), 15000)

    # ---- talk control
    def _on_talk_pressed(self) -> None:
        self.talk_press()

    def _on_talk_released(self) -> None:
        self.talk_release()

    def talk_press(self) -> None:
        """Button or Space went down."""
        self._press_connected = self.is_connected()
        if not self._press_connected:
            self.assistant.connect(*self.selection())
            return
        if self._mode == Mode.PUSH_TO_TALK and not self._talking:
            self._talking = True
            self.assistant.talk_start()
            self._render_state()

    def talk_release(self) -> None:
        """Button or Space went up (a click is press + release)."""
        if not (self._press_connected and self.is_connected()):
            return
        if self._mode == Mode.PUSH_TO_TALK:
            if self._talking:
                self._talking = False
                self.assistant.talk_end()
                self._render_state()
        elif self._mode == Mode.TOGGLE:
            self._talking = not self._talking
            if self._talking:
                self.assistant.talk_start()
            else:
                self.assistant.talk_end()
            self._render_state()
        elif self._mode == Mode.MUTE:
            self.set_mode(self._mode_before_mute)
        else:
            self.assistant.disconnect()

    # Space (hold) for the talk control, unless a text field has focus.
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        et = event.type()
        if et in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and self.isActiveWindow():
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() == Qt.Key.Key_Space and key_event.modifiers() in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.KeypadModifier,
            ):
                target = obj if isinstance(obj, QWidget) else QApplication.focusWidget()
                if target is None or target.window() is not self:
                    return False
                if isinstance(target, QLineEdit | QTextEdit | QPlainTextEdit | QComboBox):
                    return False
                if key_event.isAutoRepeat():
                    return True
                if et == QEvent.Type.KeyPress and not self._space_down:
                    self._space_down = True
                    self.talk_press()
                elif et == QEvent.Type.KeyRelease and self._space_down:
                    self._space_down = False
                    self.talk_release()
                return True
        return False

    # ================================================================ observers
    def on_state(self, info: StateInfo) -> None:
        self._info = info
        if info.state not in CONNECTED_STATES:
            self._talking = False
        if info.state in (State.THINKING, State.SPEAKING) and self._mode == Mode.TOGGLE:
            self._talking = False
        self._render_state()

    def _render_state(self) -> None:
        info = self._info
        head, hint = state_texts(info, self._mode)
        if info.state == State.LOADING and self._loading is not None:
            pct = int(self._loading.fraction * 100)
            head = f"Loading models… {pct}%"
            hint = self._loading.label or hint
        if self._talking and info.state in (State.LISTENING, State.USER_SPEAKING):
            head = "Talking — release to send" if self._mode == Mode.PUSH_TO_TALK else "Talking…"
            if self._mode == Mode.TOGGLE:
                hint = "Click again (or Space) when you're done."
        self.state_label.setText(head)
        self.hint_label.setText(hint)
        self.hint_label.setVisible(bool(hint))
        colour = STATE_COLOURS[info.state]
        self.state_label.setStyleSheet(f"color: {colour};")
        self.progress.setStyleSheet(f"QProgressBar::chunk {{ background: {colour}; }}")
        self.progress.setVisible(info.state == State.LOADING)
        connected = self.is_connected()
        self.connect_btn.setText("Disconnect" if connected else "Connect")
        self.connect_btn.setAccessibleName("Disconnect" if connected else "Connect")
        for w in (self.backend_box, self.model_box):
            w.setEnabled(not connected)
        self.voice_box.setEnabled(not connected and self.voice_box.count() > 0)
        self.send_btn.setEnabled(connected)
        self.talk_btn.set_state(info.state)
        running = connected and self._mode == Mode.HANDS_FREE
        self.talk_btn.set_active(running or self._talking)
        self.talk_btn.setAccessibleDescription(head)
        if connected:
            self.talk_btn.setAccessibleName(
                {
                    Mode.HANDS_FREE: "Stop conversation",
                    Mode.PUSH_TO_TALK: "Hold to talk",
                    Mode.TOGGLE: "Stop talking" if self._talking else "Start talking",
                    Mode.MUTE: "Unmute",
                }[self._mode]
            )
        else:
            self.talk_btn.setAccessibleName("Start conversation")
        self.talk_btn.setToolTip(self.talk_btn.accessibleName() + " (Space)")

    def on_turn(self, turn: Turn) -> None:
        self.transcript.update_turn(turn)
        if turn.role == "assistant" and turn.latency is not None:
            self.status.set_latency_ms(turn.latency.total_ms)

    def on_loading(self, loading: Loading) -> None:
        self._loading = None if loading.done else loading
        self.progress.setValue(int(max(0.0, min(1.0, loading.fraction)) * 1000))
        self._render_state()

    def on_usage(self, usage: Usage) -> None:
        self.status.set_usage(usage)

    def poll_meters(self) -> None:
        m = self.assistant.meters()
        self.meters.set_meters(m)
        self.talk_btn.set_level(level_fraction(m.mic_dbfs))

    def poll_preview(self) -> None:
        if not (self.camera_btn.isChecked() or self.screen_btn.isChecked()):
            return
        frame = self.assistant.preview_frame()
        if frame is not None:
            self.preview.set_frame(frame.image, frame.seq)

    # ================================================================ windows
    def show_settings(self) -> None:
        if self._open_settings is None:
            return
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            return
        self.settings_dialog = self._open_settings(self)

    def show_sessions(self) -> None:
        if self._open_sessions is None:
            return
        if self.sessions_window is not None and self.sessions_window.isVisible():
            self.sessions_window.raise_()
            return
        self.sessions_window = self._open_sessions(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closed:
            self._closed = True
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            self.meter_timer.stop()
            self.preview_timer.stop()
            self.bridge.detach()
            self.save_state()
            self.tasks.shutdown(cancel_pending=False)
            for w in (self.settings_dialog, self.sessions_window):
                if w is not None:
                    shutdown = getattr(w, "shutdown", None)
                    if shutdown is not None:
                        shutdown()
                    w.close()
        super().closeEvent(event)
