"""Settings dialog: API keys (OS keyring), devices by name, VAD, echo cancellation, camera
frame policy and budget, instructions, voice, recordings folder, spend limits.

GUI thread only. Keyring access, device enumeration and writing the settings file run on a
:class:`app.gui.tasks.TaskRunner` (they can block: D-Bus Secret Service, PortAudio, disk).
Non-secret settings are ``app.config.Settings`` (TOML in the platformdirs config folder, shared
with the CLI). Keys go ONLY to the keyring (``app.gui.api_keys``: one ``KeyRow`` per provider)
and are never shown again in full: a saved key is displayed as ``sk-…1234``.
On OK the new ``Settings`` is validated (a bad value keeps the dialog open with the message),
saved in the background, and emitted with ``settings_saved(Settings)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import Settings, SettingsError
from app.devices import DeviceNames, device_names
from app.gui.api_keys import PROVIDERS, KeyRow, read_saved_keys, write_key
from app.gui.budget_settings import BudgetTab
from app.gui.camera_file import CameraField
from app.gui.cloud_settings import CloudTab
from app.gui.privacy_tab import PrivacyTab
from app.gui.tasks import TaskRunner
from app.secrets import (
    keep_for_this_run,
    keyring_unavailable_text,
)

DEFAULT_DEVICE = "System default"
FRAME_POLICY_LABELS = (
    ("Automatic (fewest frames on paid models)", "auto"),
    ("When the picture changes or I ask (saves money)", "change-or-request"),
    ("When I start speaking", "on-speech"),
    ("Continuously (within the budget)", "continuous"),
    ("When the picture changes", "on-change"),
    ("Only when I press “Look at this”", "snapshot"),
)
AEC_LABELS = (
    ("On: cancel echo from the speakers", "on"),
    ("I use headphones", "headphones"),
    ("Off", "off"),
)
TURN_LABELS = (
    ("This computer (recommended)", "client"),
    ("The provider (server VAD)", "server"),
    ("The provider (semantic)", "semantic"),
)
PATIENCE_LABELS = (
    ("Low: answer as soon as I stop", "low"),
    ("Medium", "medium"),
    ("High: wait through my pauses (slower)", "high"),
)


def _save(settings: Settings) -> None:
    settings.save()


THEME_LABELS = (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark"))


def _combo(items: Sequence[tuple[str, str]], current: str, name: str) -> QComboBox:
    box = QComboBox()
    box.setAccessibleName(name)
    for label, data in items:
        box.addItem(label, data)
    box.setCurrentIndex(max(0, box.findData(current)))
    return box


class SettingsDialog(QDialog):
    """Open with ``open()`` (window-modal, non-blocking). See the module docstring."""

    settings_saved = Signal(object)  # Settings
    keys_saved = Signal()
    saved_to_disk = Signal()
    error = Signal(str)

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        voices: Sequence[str] = (),
        device_lister: Callable[[], DeviceNames] | None = None,
        keyring_read: Callable[[], dict[str, str | None]] | None = None,
        keyring_write: Callable[[str, str | None], None] | None = None,
        saver: Callable[[Settings], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("VoiceCam settings")
        self.setAccessibleName("Settings")
        self.settings = settings
        self.tasks = TaskRunner(self)
        self._keyring_write = keyring_write or write_key
        self._saver = saver or _save
        self.devices_loaded = False
        self.keys_loaded = False

        tabs = QTabWidget()
        tabs.addTab(self._keys_tab(), "API keys")
        tabs.addTab(self._audio_tab(), "Audio")
        tabs.addTab(self._camera_tab(), "Camera")
        tabs.addTab(self._conversation_tab(voices), "Conversation")
        tabs.addTab(self._recording_tab(), "Recording")
        self.cloud_tab = CloudTab(settings)
        tabs.addTab(self.cloud_tab, "Cloud")
        self.budget_tab = BudgetTab(settings)
        tabs.addTab(self.budget_tab, "Budget")
        self.privacy_tab = PrivacyTab(settings)
        tabs.addTab(self.privacy_tab, "Privacy")
        self.tabs = tabs
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d6453d;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 16, 16, 12)
        lay.setSpacing(10)
        lay.addWidget(tabs, 1)
        lay.addWidget(self.message)
        lay.addWidget(buttons)
        self.resize(600, 480)

        self.tasks.submit(keyring_read or read_saved_keys, self._on_keys, self._on_key_error)
        self.tasks.submit(device_lister or device_names, self._on_devices, self._on_device_error)

    # ------------------------------------------------------------------ tabs
    def _form(self) -> tuple[QWidget, QFormLayout]:
        w = QWidget()
        form = QFormLayout(w)
        form.setContentsMargins(14, 14, 14, 14)
        form.setHorizontalSpacing(16)
        form.setVerticalSpacing(12)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return w, form

    def _keys_tab(self) -> QWidget:
        w, form = self._form()
        intro = QLabel(
            "Keys are stored in your system keyring, never in files or logs. "
            "The offline backend needs no key."
        )
        intro.setWordWrap(True)
        intro.setObjectName("muted")
        form.addRow(intro)
        # Shown (on this tab only) when there is no keyring: keys then work for this run.
        self.keyring_note = QLabel("")
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setAccessibleName("Keyring")
        self.keyring_note.hide()
        form.addRow(self.keyring_note)
        self.key_rows = {p: KeyRow(p) for p in PROVIDERS}
        form.addRow("OpenAI", self.key_rows["openai"])
        form.addRow("Gemini", self.key_rows["gemini"])
        form.addRow("Azure OpenAI", self.key_rows["azure"])
        return w

    def _audio_tab(self) -> QWidget:
        w, form = self._form()
        st = self.settings
        self.input_box = QComboBox()
        self.input_box.setAccessibleName("Microphone")
        self.output_box = QComboBox()
        self.output_box.setAccessibleName("Speaker")
        for box, name in ((self.input_box, st.input_device), (self.output_box, st.output_device)):
            box.addItem(DEFAULT_DEVICE, "")
            if name:
                box.addItem(name, name)
                box.setCurrentIndex(1)
        self.vad_slider = QSlider(Qt.Orientation.Horizontal)
        self.vad_slider.setRange(0, 100)
        self.vad_slider.setValue(round(st.vad_sensitivity * 100))
        self.vad_slider.setAccessibleName("Voice detection sensitivity")
        self.vad_slider.setToolTip("Higher hears quieter speech; lower ignores more noise")
        sens = QHBoxLayout()
        lo, hi = QLabel("Less"), QLabel("More")
        lo.setObjectName("muted")
        hi.setObjectName("muted")
        sens.addWidget(lo)
        sens.addWidget(self.vad_slider, 1)
        sens.addWidget(hi)
        self.detect_box = _combo(TURN_LABELS, st.turn_detection, "Who detects the end of a turn")
        self.patience_box = _combo(PATIENCE_LABELS, st.patience, "Patience with pauses")
        self.patience_box.setToolTip("How long you may pause mid-sentence before the turn is taken")
        self.aec_box = _combo(AEC_LABELS, st.aec, "Echo cancellation")
        form.addRow("Microphone", self.input_box)
        form.addRow("Speaker", self.output_box)
        form.addRow("Voice sensitivity", sens)
        form.addRow("Turn detection", self.detect_box)
        form.addRow("Patience", self.patience_box)
        form.addRow("Echo cancellation", self.aec_box)
        return w

    def _camera_tab(self) -> QWidget:
        w, form = self._form()
        st = self.settings
        self.camera_field = CameraField(st.camera)  # the field + Browse… (issue 14, item 6)
        self.camera_edit = self.camera_field.edit
        self.camera_on_check = QCheckBox("Turn the camera on when a conversation starts")
        self.camera_on_check.setChecked(st.camera_on)
        self.policy_box = _combo(FRAME_POLICY_LABELS, st.frame_policy, "When frames are sent")
        self.budget_spin = QSpinBox()
        self.budget_spin.setRange(1, 120)
        self.budget_spin.setSuffix(" frames per minute")
        self.budget_spin.setValue(st.frames_per_minute)
        self.budget_spin.setAccessibleName("Frame budget per minute")
        note = QLabel("Each frame costs input tokens on paid backends.")
        note.setObjectName("muted")
        form.addRow("Camera", self.camera_field)
        form.addRow("", self.camera_on_check)
        form.addRow("Send frames", self.policy_box)
        form.addRow("At most", self.budget_spin)
        form.addRow("", note)
        return w

    def _conversation_tab(self, voices: Sequence[str]) -> QWidget:
        w, form = self._form()
        st = self.settings
        self.voice_box = QComboBox()
        self.voice_box.setEditable(True)
        self.voice_box.setAccessibleName("Voice")
        self.voice_box.addItem("Backend default", "")
        for v in voices:
            self.voice_box.addItem(v, v)
        if st.voice:
            i = self.voice_box.findData(st.voice)
            if i < 0:
                self.voice_box.addItem(st.voice, st.voice)
                i = self.voice_box.count() - 1
            self.voice_box.setCurrentIndex(i)
        self.instructions_edit = QPlainTextEdit(st.instructions)
        self.instructions_edit.setPlaceholderText(
            "For example: You are a friendly assistant. Answer in one or two sentences."
        )
        self.instructions_edit.setAccessibleName("Instructions")
        self.instructions_edit.setTabChangesFocus(True)
        self.theme_box = _combo(THEME_LABELS, st.theme, "Colours")  # issue 14
        form.addRow("Voice", self.voice_box)
        form.addRow("Instructions", self.instructions_edit)
        form.addRow("Colours", self.theme_box)
        return w

    def _recording_tab(self) -> QWidget:
        w, form = self._form()
        st = self.settings
        self.record_check = QCheckBox("Record every session (you can delete them later)")
        self.record_check.setChecked(st.recording)
        self.record_check.setAccessibleName("Record sessions")
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(st.recordings_dir)
        self.folder_edit.setPlaceholderText(str(st.recordings_path()))
        self.folder_edit.setAccessibleName("Recordings folder")
        browse = QPushButton("Choose…")
        browse.setAccessibleName("Choose the recordings folder")
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form.addRow("", self.record_check)
        form.addRow("Folder", row)
        return w

    def _browse(self) -> None:
        dlg = QFileDialog(self, "Recordings folder", self.folder_edit.text())
        dlg.setFileMode(QFileDialog.FileMode.Directory)
        dlg.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dlg.fileSelected.connect(self.folder_edit.setText)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()

    # ------------------------------------------------------------------ async loads
    def _on_keys(self, keys: dict[str, str | None]) -> None:
        for provider, row in self.key_rows.items():
            row.set_saved(keys.get(provider))
        self.keys_loaded = True

    def _on_key_error(self, _msg: str) -> None:
        """No usable keyring: one plain sentence on the keys tab (never the exception)."""
        self.keyring_note.setText(keyring_unavailable_text())
        self.keyring_note.show()
        self.keys_loaded = True

    def _on_devices(self, names_found: DeviceNames) -> None:
        for box, names in (
            (self.input_box, names_found.inputs),
            (self.output_box, names_found.outputs),
        ):
            current = box.currentData()
            box.clear()
            box.addItem(DEFAULT_DEVICE, "")
            for n in names:
                box.addItem(names_found.label(n), n)
            if current and box.findData(current) < 0:
                box.addItem(f"{current} (not connected)", current)
            box.setCurrentIndex(max(0, box.findData(current)))
        self.devices_loaded = True

    def _on_device_error(self, msg: str) -> None:
        self.message.setText(f"Could not list audio devices: {msg}")
        self.devices_loaded = True

    # ------------------------------------------------------------------ result
    def collect(self) -> Settings:
        """The settings as they are in the form now (raises ``SettingsError`` if invalid)."""
        voice = self.voice_box.currentText().strip()
        if voice == "Backend default":
            voice = ""
        form = replace(
            self.settings,
            input_device=self.input_box.currentData() or "",
            output_device=self.output_box.currentData() or "",
            vad_sensitivity=self.vad_slider.value() / 100,
            turn_detection=self.detect_box.currentData(),
            patience=self.patience_box.currentData(),
            aec=self.aec_box.currentData(),
            camera=self.camera_edit.text().strip(),
            camera_on=self.camera_on_check.isChecked(),
            frame_policy=self.policy_box.currentData(),
            frames_per_minute=self.budget_spin.value(),
            instructions=self.instructions_edit.toPlainText().strip(),
            voice=voice,
            recordings_dir=self.folder_edit.text().strip(),
            recording=self.record_check.isChecked(),
            theme=self.theme_box.currentData(),
            **self.cloud_tab.values(),  # type: ignore[arg-type]
        )
        return self.budget_tab.apply(form)

    def accept(self) -> None:
        try:
            new = self.privacy_tab.apply(self.collect())
        except SettingsError as exc:
            self.message.setText(str(exc))
            return
        changes: dict[str, str | None] = {}
        for provider, row in self.key_rows.items():
            changed, key = row.pending_change()
            if changed:
                changes[provider] = key
                if key:  # used from now on, whether or not the keyring can keep it
                    keep_for_this_run(provider, key)
            row.edit.clear()
        if changes:
            write = self._keyring_write

            def store() -> None:
                for provider, key in changes.items():
                    write(provider, key)

            self.tasks.submit(store, lambda _: self.keys_saved.emit(), self.error.emit)
        saver = self._saver
        self.tasks.submit(lambda: saver(new), lambda _: self.saved_to_disk.emit(), self.error.emit)
        self.settings = new
        self.settings_saved.emit(new)
        super().accept()

    def shutdown(self) -> None:
        """Finish pending keyring/file writes and stop the worker (call before deleting)."""
        self.tasks.shutdown(cancel_pending=False)
        self.privacy_tab.shutdown()
