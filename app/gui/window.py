"""The main window: thin widgets that observe the assistant and call it.

GUI thread only. Nothing here blocks: commands go to the assistant (which returns at once);
the assistant's ``app.model`` events arrive through :class:`app.gui.events.ModelEventQueue`,
coalesced, at most once per frame, and every text in them is scrubbed of the secrets the
process holds before a widget shows it (``app.scrubbed_output.scrub_event``); meters and the
preview are polled by timers (the preview is scaled on a worker). Settings (selected
backend/model/voice, mode, geometry) persist in the ``QSettings`` passed in. The widgets are
built by :class:`app.gui.layout.MainWindowUi` (``window.ui``).

What the talk button, Space and the modes mean: :mod:`app.gui.talk_control`. The state line:
:mod:`app.gui.state_line`. The backend/model/voice boxes: :mod:`app.gui.backend_selector`. The
camera and screen switches and the preview: :mod:`app.gui.video_switches`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
)

from app.config import Settings
from app.gui.backend_selector import BackendSelector
from app.gui.budget_view import BudgetView
from app.gui.camera_file import FileDropTarget
from app.gui.events import ModelEventQueue
from app.gui.layout import MainWindowUi
from app.gui.local_model_picker import FindLocalModels, LocalModelPicker
from app.gui.meters import level_fraction
from app.gui.port import AssistantPort
from app.gui.privacy_chip import install_privacy_chip
from app.gui.shortcuts import make_actions
from app.gui.space_key import SpaceToTalk
from app.gui.state_line import ACTIVE_STATES, StateView, render_state
from app.gui.status_events import show_on_widgets
from app.gui.talk_control import TalkControl
from app.gui.tasks import TaskRunner
from app.gui.video_switches import VideoSwitches
from app.local_models import with_brain
from app.model import (
    BudgetChanged,
    CameraChanged,
    Loading,
    LoadingChanged,
    Mode,
    ModeChanged,
    ModelEvent,
    RecordingChanged,
    State,
    StateChanged,
)
from app.scrubbed_output import scrub_event

if TYPE_CHECKING:
    from app.gui.sessions_browser import SessionsBrowser
    from app.gui.settings_dialog import SettingsDialog

METER_INTERVAL_MS = 50
PREVIEW_INTERVAL_MS = 66


class MainWindow(QMainWindow):
    """The VoiceCam window.

    ``qsettings``: window geometry (tests pass an INI file); ``settings``: the persisted
    ``app.config.Settings`` (backend/model/voice/mode are kept in step with the selectors and
    written by ``save_settings`` on a worker when the window closes).
    """

    def __init__(
        self,
        assistant: AssistantPort,
        qsettings: QSettings,
        settings: Settings | None = None,
        *,
        open_settings: Callable[[MainWindow], SettingsDialog] | None = None,
        open_sessions: Callable[[MainWindow], SessionsBrowser] | None = None,
        save_settings: Callable[[Settings], None] | None = None,
        find_local_models: FindLocalModels | None = None,
    ) -> None:
        """``find_local_models``: starts looking for local model servers, whose models the
        offline backend's model picker then lists (None: only the built-in model)."""
        super().__init__()
        self.assistant = assistant
        self.qsettings = qsettings
        self.settings = settings if settings is not None else Settings()
        self._save_settings = save_settings
        self._open_settings = open_settings
        self._open_sessions = open_sessions
        self.settings_dialog: SettingsDialog | None = None
        self.sessions_window: SessionsBrowser | None = None
        self.tasks = TaskRunner(self)
        self.backends = {b.name: b for b in assistant.backends()}
        self.conversation_state = State.IDLE
        self.state_message = ""
        self._loading: Loading | None = None
        self._closed = False
        #: The session file being recorded now (``RecordingChanged``), if any.
        self.recording_path: str | None = None

        self.setWindowTitle("VoiceCam")
        self.setAccessibleName("VoiceCam")
        self.ui = MainWindowUi(self, tuple(self.backends.values()))
        self.budget = BudgetView(self, self.ui.status)  # the spend limit's banner and figure
        self.local_models = LocalModelPicker(self.ui.model_box, find_local_models, self)
        self.selector = BackendSelector(
            self.ui, self.backends, self.local_models, lambda: self.settings
        )
        self.local_models.found.connect(self.selector.on_local_models_found)
        self.video = VideoSwitches(self.ui, assistant)
        self.talk = TalkControl(
            assistant,
            connected=self.is_connected,
            selection=self.selection,
            on_change=self._render_state,
        )
        self._wire()
        self.actions_by_name = make_actions(self, self.ui, self)
        self.privacy_chip = install_privacy_chip(self, self.ui.status, assistant)
        self.actions_by_name["pause"] = self.privacy_chip.action
        self.selector.on_backend_changed()

        self.events = ModelEventQueue(self)
        self.events.delivered.connect(self.apply_events)
        self._restore()
        assistant.subscribe(self.events.push)
        self.apply_events(list(assistant.current_events()))  # the present state, then changes
        self._render_state()  # even if the assistant reported no state yet (idle)
        self.ui.talk_btn.setFocus()  # Space works at once; Tab reaches everything else

        self.meter_timer = QTimer(self)
        self.meter_timer.setInterval(METER_INTERVAL_MS)
        self.meter_timer.timeout.connect(self.poll_meters)
        self.meter_timer.start()
        self.preview_timer = QTimer(self)
        self.preview_timer.setInterval(PREVIEW_INTERVAL_MS)
        self.preview_timer.timeout.connect(self.video.poll_preview)
        self.preview_timer.start()
        self.file_drop = FileDropTarget(self.ui.preview, self.use_camera_file)
        self.space = SpaceToTalk(
            self,
            self.talk.press,
            self.talk.release,
            message_box=self.ui.text_box,
            space_talks=lambda: self.talk.mode in (Mode.PUSH_TO_TALK, Mode.TOGGLE),
            on_hold=self.talk.hold,
            leave_box=self.ui.talk_btn.setFocus,
            leave_box_buttons=self.ui.mode_buttons.values(),
        )
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.space)

    # ================================================================ wiring
    def _wire(self) -> None:
        ui = self.ui
        ui.backend_box.currentIndexChanged.connect(self.selector.on_backend_changed)
        ui.model_box.activated.connect(self._on_model_chosen)
        ui.connect_btn.clicked.connect(self.toggle_connection)
        ui.sessions_btn.clicked.connect(self.show_sessions)
        ui.settings_btn.clicked.connect(self.show_settings)
        ui.camera_btn.toggled.connect(self.video.on_camera)
        ui.screen_btn.toggled.connect(self.video.on_screen)
        ui.look_btn.clicked.connect(self.assistant.look_at_this)
        ui.look_btn.clicked.connect(ui.preview.flash)  # visible feedback (issue 14)
        ui.text_box.returnPressed.connect(self.send_text)
        ui.send_btn.clicked.connect(self.send_text)
        ui.talk_btn.pressed.connect(self.talk.press)
        ui.talk_btn.released.connect(self.talk.release)
        for mode, button in ui.mode_buttons.items():
            button.clicked.connect(lambda _=False, m=mode: self.set_mode(m))
        ui.status.recording_toggled.connect(self.assistant.set_recording)

    # ================================================================ persistence
    def _restore(self) -> None:
        """Window geometry from QSettings; backend/model/voice/mode from ``Settings``."""
        s, ui = self.qsettings, self.ui
        geo = s.value("window/geometry")
        if isinstance(geo, QByteArray | bytes) and geo:
            self.restoreGeometry(QByteArray(geo))
        split = s.value("window/splitter")
        if isinstance(split, QByteArray | bytes) and split:
            ui.splitter.restoreState(QByteArray(split))
        st = self.settings
        self.selector.restore(st)
        saved = Mode(st.mode) if st.mode in {m.value for m in Mode} else Mode.HANDS_FREE
        ui.mode_buttons[saved].setChecked(True)
        if saved != Mode.HANDS_FREE:
            self.set_mode(saved)

    def current_settings(self) -> Settings:
        """``settings`` with the window's backend/model/voice/mode selection."""
        backend, model, voice = self.selection()
        return replace(
            self.settings,
            backend=backend or self.settings.backend,
            model=model,
            voice=voice,
            mode=self.talk.mode.value,
        )

    def save_state(self) -> None:
        """Geometry to QSettings (GUI thread, Qt-buffered); ``Settings`` to disk on the worker."""
        s = self.qsettings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/splitter", self.ui.splitter.saveState())
        s.sync()
        self.settings = self.current_settings()
        saver = self._save_settings
        if saver is not None:
            settings = self.settings
            self.tasks.submit(lambda: saver(settings), lambda _: None)

    def apply_settings(self, settings: Settings) -> None:
        """New settings from the dialog: keep the selection in step, pass them on."""
        backend, model, voice = self.selection()
        self.settings = replace(
            settings,
            backend=backend or settings.backend,
            model=model,
            voice=voice,
            mode=self.talk.mode.value,
        )
        if settings.voice:
            i = self.ui.voice_box.findText(settings.voice)
            if i >= 0:
                self.ui.voice_box.setCurrentIndex(i)
            self.settings = replace(self.settings, voice=settings.voice)
        self.ui.status.set_recording(settings.recording)
        self.assistant.apply_settings(self.settings)

    def _on_model_chosen(self, _index: int = 0) -> None:
        """The user picked a model: for the offline backend the brain is a setting (saved
        with the others, used from the next conversation on)."""
        if self.ui.backend_box.currentData() == "local":
            self.settings = with_brain(self.settings, self.local_models.chosen())
            self.assistant.apply_settings(self.current_settings())

    def selection(self) -> tuple[str, str, str]:
        """The chosen (backend, model, voice)."""
        return self.selector.selection()

    # ================================================================ commands
    def is_connected(self) -> bool:
        """A conversation is starting or running."""
        return self.conversation_state in ACTIVE_STATES

    def toggle_connection(self) -> None:
        if self.is_connected():
            self.talk.stop_talking()
            self.assistant.disconnect()
        else:
            self.assistant.connect(*self.selection())

    def set_mode(self, mode: Mode) -> None:
        """A mode button, shortcut or the saved settings chose ``mode``."""
        self.talk.set_mode(mode)

    def toggle_mute(self) -> None:
        self.talk.toggle_mute()

    def send_text(self) -> None:
        text = self.ui.text_box.text().strip()
        if not text:
            return
        self.assistant.send_text(text)
        self.ui.text_box.clear()

    def use_camera_file(self, path: str) -> None:
        """A video or image dropped on the preview becomes the camera (saved like a choice in
        Settings → Camera) and is shown at once."""
        self.apply_settings(replace(self.settings, camera=path))
        if self.ui.camera_btn.isChecked():
            self.assistant.set_camera(True)  # the same switch, a new source
        else:
            self.ui.camera_btn.setChecked(True)
        self.ui.status.showMessage(
            f"Showing {Path(path).name} as the camera (change it in Settings → Camera).", 8000
        )

    # ================================================================ model events
    def apply_events(self, events: Sequence[ModelEvent]) -> None:
        """GUI thread: show a coalesced batch of model events; the state line renders once."""
        ui = self.ui
        render = False
        for shown in events:
            # Held secrets never reach a widget, whatever sent them (issue 17, item 6).
            event = scrub_event(shown)
            if show_on_widgets(ui, event):
                continue
            if isinstance(event, StateChanged):
                self._on_state(event.state, event.message)
                render = True
            elif isinstance(event, LoadingChanged):
                loading = event.loading
                self._loading = None if loading.done else loading
                ui.progress.setValue(int(max(0.0, min(1.0, loading.fraction)) * 1000))
                render = True
            elif isinstance(event, BudgetChanged):
                self.budget.show(event.status)
            elif isinstance(event, RecordingChanged):
                self.recording_path = event.path if event.on else None
                ui.status.set_recording(event.on, event.error)
                if event.error:  # said plainly, not only in the indicator's tooltip (issue 17)
                    ui.status.showMessage(event.error, 15000)
            elif isinstance(event, CameraChanged):
                self.video.reflect_camera(event.on)
            elif isinstance(event, ModeChanged):
                pass  # the window sets the mode; the assistant's echo changes nothing
        if render:
            self._render_state()

    def _on_state(self, state: State, message: str) -> None:
        self.conversation_state = state
        self.state_message = message
        self.talk.on_state(state, self.is_connected())

    def _render_state(self) -> None:
        view = StateView(
            self.conversation_state,
            self.state_message,
            self.talk.mode,
            self.talk.talking,
            self._loading,
        )
        render_state(self.ui, view)
        self.ui.mode_buttons[self.talk.mode].setChecked(True)

    # ================================================================ polled
    def poll_meters(self) -> None:
        m = self.assistant.meters()
        if m is None:
            return
        self.ui.meters.set_meters(m)
        self.ui.talk_btn.set_level(level_fraction(m.mic_dbfs))

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

    def live_recordings(self) -> set[str]:
        """Session files being written now (the Sessions browser labels them "recording")."""
        ended = self.conversation_state in (State.IDLE, State.ERROR)
        return {self.recording_path} if self.recording_path and not ended else set()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closed:
            self._closed = True
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self.space)
            self.meter_timer.stop()
            self.preview_timer.stop()
            self.assistant.unsubscribe(self.events.push)
            self.events.close()
            self.ui.thumbs.shutdown()
            self.privacy_chip.timer.stop()
            self.ui.preview.shutdown()
            self.save_state()
            self.tasks.shutdown(cancel_pending=False)
            for w in (self.settings_dialog, self.sessions_window):
                if w is not None:
                    w.shutdown()
                    w.close()
        super().closeEvent(event)
