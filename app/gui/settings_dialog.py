"""Settings dialog: API keys (OS keyring), devices by name, VAD, echo cancellation, camera
frame policy and budget, instructions, voice, recordings folder.

GUI thread only; keyring and device enumeration run on a :class:`app.gui.tasks.TaskRunner`
(both can block: D-Bus Secret Service, PortAudio). Non-secret settings persist in the
``QSettings`` under ``settings/``; keys go ONLY to the keyring (service ``voicecam``, user name =
the environment variable name) and are never shown again in full: a saved key is displayed as
``sk-…1234``. On OK ``settings_saved(dict)`` carries the non-secret values (see ``DEFAULTS``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
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

from app.gui.tasks import TaskRunner

KEYRING_SERVICE = "voicecam"
KEY_NAMES = ("OPENAI_API_KEY", "GEMINI_API_KEY")
DEFAULT_DEVICE = "System default"

#: Non-secret settings and their defaults (names match app.modes.ConversationOptions where
#: they overlap).
DEFAULTS: dict[str, Any] = {
    "input_device": "",
    "output_device": "",
    "vad_sensitivity": 0.5,
    "turn_detection": "client",
    "silence_ms": 500,
    "aec": True,
    "frame_policy": "speech",
    "frame_interval_s": 2.0,
    "frames_per_minute": 20,
    "instructions": "",
    "voice": "",
    "recordings_dir": "",
    "record": True,
}


def mask_key(key: str) -> str:
    """``sk-proj-abcdef1234`` → ``sk-…1234``; short keys show only dots."""
    if len(key) < 12:
        return "•" * 6
    prefix = key[:3] if key[:3].isascii() else ""
    return f"{prefix}…{key[-4:]}"


def load_settings(qsettings: Any) -> dict[str, Any]:
    """Read the persisted non-secret settings (defaults for missing or malformed values)."""
    out: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        raw = qsettings.value(f"settings/{name}", default)
        try:
            if isinstance(default, bool):
                value: Any = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true")
            elif isinstance(default, int):
                value = int(raw)
            elif isinstance(default, float):
                value = float(raw)
            else:
                value = str(raw)
        except (TypeError, ValueError):
            value = default
        out[name] = value
    return out


def save_settings(qsettings: Any, values: dict[str, Any]) -> None:
    for name in DEFAULTS:
        if name in values:
            qsettings.setValue(f"settings/{name}", values[name])
    qsettings.sync()


def vad_threshold(sensitivity: float) -> float:
    """Map the slider's sensitivity (0 = least, 1 = most sensitive) to a VAD threshold."""
    return round(0.9 - 0.8 * max(0.0, min(1.0, sensitivity)), 3)


def _keyring_read() -> dict[str, str | None]:
    import keyring

    return {name: keyring.get_password(KEYRING_SERVICE, name) for name in KEY_NAMES}


def _keyring_write(name: str, key: str | None) -> None:
    import keyring
    from keyring.errors import PasswordDeleteError

    if key:
        keyring.set_password(KEYRING_SERVICE, name, key)
    else:
        with contextlib.suppress(PasswordDeleteError):
            keyring.delete_password(KEYRING_SERVICE, name)


def _list_devices() -> tuple[list[str], list[str]]:
    from audio.devices import input_devices, output_devices

    return [d.name for d in input_devices()], [d.name for d in output_devices()]


class KeyRow(QWidget):
    """One API key: a password field, the masked saved key, Remove."""

    def __init__(self, env_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env_name = env_name
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        row = QHBoxLayout()
        self.edit = QLineEdit()
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setAccessibleName(f"{env_name} new value")
        self.edit.setPlaceholderText("Paste a key to save it")
        self.remove = QPushButton("Remove")
        self.remove.setAccessibleName(f"Remove saved {env_name}")
        row.addWidget(self.edit, 1)
        row.addWidget(self.remove)
        lay.addLayout(row)
        self.status = QLabel("")
        self.status.setObjectName("muted")
        lay.addWidget(self.status)
        self.saved_mask: str | None = None
        self.remove_requested = False
        self.remove.clicked.connect(self._on_remove)
        self.set_saved(None)

    def set_saved(self, key: str | None) -> None:
        self.saved_mask = mask_key(key) if key else None
        env = os.environ.get(self.env_name)
        if self.saved_mask:
            text = f"Saved in the system keyring: {self.saved_mask}"
        elif env:
            text = f"Using {self.env_name} from the environment: {mask_key(env)}"
        else:
            text = f"Not set (or set {self.env_name} in the environment)"
        self.status.setText(text)
        self.remove.setEnabled(bool(self.saved_mask))

    def _on_remove(self) -> None:
        self.remove_requested = True
        self.edit.clear()
        self.status.setText("Will be removed when you press OK")
        self.remove.setEnabled(False)

    def pending_change(self) -> tuple[bool, str | None]:
        """(changed, new key or None to delete)."""
        new = self.edit.text().strip()
        if new:
            return True, new
        if self.remove_requested:
            return True, None
        return False, None


class SettingsDialog(QDialog):
    """Non-modal-safe settings dialog; open with ``open()``. See the module docstring."""

    settings_saved = Signal(dict)
    keys_saved = Signal()
    error = Signal(str)

    def __init__(
        self,
        qsettings: Any,
        parent: QWidget | None = None,
        *,
        voices: Sequence[str] = (),
        device_lister: Callable[[], tuple[list[str], list[str]]] | None = None,
        keyring_read: Callable[[], dict[str, str | None]] | None = None,
        keyring_write: Callable[[str, str | None], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("VoiceCam settings")
        self.setAccessibleName("Settings")
        self.qsettings = qsettings
        self.tasks = TaskRunner(self)
        self._keyring_write = keyring_write or _keyring_write
        self.values = load_settings(qsettings)
        self.devices_loaded = False
        self.keys_loaded = False

        tabs = QTabWidget()
        tabs.addTab(self._keys_tab(), "API keys")
        tabs.addTab(self._audio_tab(), "Audio")
        tabs.addTab(self._camera_tab(), "Camera")
        tabs.addTab(self._conversation_tab(voices), "Conversation")
        tabs.addTab(self._recording_tab(), "Recording")
        self.tabs = tabs
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        self.message = QLabel("")
        self.message.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 16, 16, 12)
        lay.setSpacing(10)
        lay.addWidget(tabs, 1)
        lay.addWidget(self.message)
        lay.addWidget(buttons)
        self.resize(560, 460)

        self.tasks.submit(keyring_read or _keyring_read, self._on_keys, self._on_key_error)
        self.tasks.submit(device_lister or _list_devices, self._on_devices, self._on_device_error)

    # ------------------------------------------------------------------ tabs
    def _form(self) -> tuple[QWidget, QFormLayout]:
        w = QWidget()
        form = QFormLayout(w)
        form.setContentsMargins(12, 12, 12, 12)
        form.setHorizontalSpacing(14)
        form.setVerticalSpacing(10)
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
        self.key_rows = {name: KeyRow(name) for name in KEY_NAMES}
        form.addRow("OpenAI", self.key_rows["OPENAI_API_KEY"])
        form.addRow("Gemini", self.key_rows["GEMINI_API_KEY"])
        return w

    def _audio_tab(self) -> QWidget:
        w, form = self._form()
        self.input_box = QComboBox()
        self.input_box.setAccessibleName("Microphone")
        self.output_box = QComboBox()
        self.output_box.setAccessibleName("Speaker")
        for box, key in ((self.input_box, "input_device"), (self.output_box, "output_device")):
            box.addItem(DEFAULT_DEVICE, "")
            if self.values[key]:
                box.addItem(self.values[key], self.values[key])
                box.setCurrentIndex(1)
        self.vad_slider = QSlider(Qt.Orientation.Horizontal)
        self.vad_slider.setRange(0, 100)
        self.vad_slider.setValue(round(self.values["vad_sensitivity"] * 100))
        self.vad_slider.setAccessibleName("Voice detection sensitivity")
        self.vad_slider.setToolTip("Higher hears quieter speech; lower ignores more noise")
        sens = QHBoxLayout()
        lo, hi = QLabel("Less"), QLabel("More")
        lo.setObjectName("muted")
        hi.setObjectName("muted")
        sens.addWidget(lo)
        sens.addWidget(self.vad_slider, 1)
        sens.addWidget(hi)
        self.detect_box = QComboBox()
        self.detect_box.setAccessibleName("Who detects the end of your turn")
        for label, data in (
            ("This computer (recommended)", "client"),
            ("The provider (server VAD)", "server"),
            ("The provider (semantic)", "semantic"),
        ):
            self.detect_box.addItem(label, data)
        self.detect_box.setCurrentIndex(
            max(0, self.detect_box.findData(self.values["turn_detection"]))
        )
        self.silence_spin = QSpinBox()
        self.silence_spin.setRange(200, 3000)
        self.silence_spin.setSingleStep(100)
        self.silence_spin.setSuffix(" ms")
        self.silence_spin.setValue(int(self.values["silence_ms"]))
        self.silence_spin.setAccessibleName("Silence that ends your turn")
        self.aec_check = QCheckBox("Cancel echo from the speakers")
        self.aec_check.setChecked(bool(self.values["aec"]))
        self.aec_check.setAccessibleName("Echo cancellation")
        form.addRow("Microphone", self.input_box)
        form.addRow("Speaker", self.output_box)
        form.addRow("Voice sensitivity", sens)
        form.addRow("Turn detection", self.detect_box)
        form.addRow("End of turn after", self.silence_spin)
        form.addRow("", self.aec_check)
        return w

    def _camera_tab(self) -> QWidget:
        w, form = self._form()
        self.policy_box = QComboBox()
        self.policy_box.setAccessibleName("When frames are sent")
        for label, data in (
            ("When I start speaking (and while I talk)", "speech"),
            ("At a fixed interval", "interval"),
            ("Only when I press “Look at this”", "manual"),
        ):
            self.policy_box.addItem(label, data)
        self.policy_box.setCurrentIndex(
            max(0, self.policy_box.findData(self.values["frame_policy"]))
        )
        self.interval_spin = QDoubleSpinBox()
        self.interval_spin.setRange(0.5, 60.0)
        self.interval_spin.setSingleStep(0.5)
        self.interval_spin.setSuffix(" s")
        self.interval_spin.setValue(float(self.values["frame_interval_s"]))
        self.interval_spin.setAccessibleName("Frame interval")
        self.budget_spin = QSpinBox()
        self.budget_spin.setRange(0, 120)
        self.budget_spin.setSpecialValueText("No limit")
        self.budget_spin.setSuffix(" per minute")
        self.budget_spin.setValue(int(self.values["frames_per_minute"]))
        self.budget_spin.setAccessibleName("Frame budget per minute")
        note = QLabel("Each frame costs input tokens on paid backends.")
        note.setObjectName("muted")
        form.addRow("Send frames", self.policy_box)
        form.addRow("Interval", self.interval_spin)
        form.addRow("Budget", self.budget_spin)
        form.addRow("", note)
        return w

    def _conversation_tab(self, voices: Sequence[str]) -> QWidget:
        w, form = self._form()
        self.voice_box = QComboBox()
        self.voice_box.setEditable(True)
        self.voice_box.setAccessibleName("Voice")
        self.voice_box.addItem("Backend default", "")
        for v in voices:
            self.voice_box.addItem(v, v)
        if self.values["voice"]:
            i = self.voice_box.findData(self.values["voice"])
            if i < 0:
                self.voice_box.addItem(self.values["voice"], self.values["voice"])
                i = self.voice_box.count() - 1
            self.voice_box.setCurrentIndex(i)
        self.instructions_edit = QPlainTextEdit(self.values["instructions"])
        self.instructions_edit.setPlaceholderText(
            "For example: You are a friendly assistant. Answer in one or two sentences."
        )
        self.instructions_edit.setAccessibleName("Instructions")
        self.instructions_edit.setTabChangesFocus(True)
        form.addRow("Voice", self.voice_box)
        form.addRow("Instructions", self.instructions_edit)
        return w

    def _recording_tab(self) -> QWidget:
        w, form = self._form()
        self.record_check = QCheckBox("Record every session (you can delete them later)")
        self.record_check.setChecked(bool(self.values["record"]))
        self.record_check.setAccessibleName("Record sessions")
        row = QHBoxLayout()
        self.folder_edit = QLineEdit(self.values["recordings_dir"])
        self.folder_edit.setPlaceholderText("Default: your user data folder")
        self.folder_edit.setAccessibleName("Recordings folder")
        browse = QPushButton("Choose…")
        browse.setAccessibleName("Choose recordings folder")
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        form.addRow("", self.record_check)
        form.addRow("Folder", row)
        return w

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Recordings folder", self.folder_edit.text())
        if d:
            self.folder_edit.setText(d)

    # ------------------------------------------------------------------ async loads
    def _on_keys(self, keys: dict[str, str | None]) -> None:
        for name, row in self.key_rows.items():
            row.set_saved(keys.get(name))
        self.keys_loaded = True

    def _on_key_error(self, msg: str) -> None:
        self.message.setText(f"The system keyring is not available: {msg}")
        self.keys_loaded = True

    def _on_devices(self, lists: tuple[list[str], list[str]]) -> None:
        for box, names, key in (
            (self.input_box, lists[0], "input_device"),
            (self.output_box, lists[1], "output_device"),
        ):
            current = box.currentData()
            box.clear()
            box.addItem(DEFAULT_DEVICE, "")
            for n in names:
                box.addItem(n, n)
            if current and box.findData(current) < 0:
                box.addItem(f"{current} (not connected)", current)
            box.setCurrentIndex(max(0, box.findData(current or self.values[key])))
        self.devices_loaded = True

    def _on_device_error(self, msg: str) -> None:
        self.message.setText(f"Could not list audio devices: {msg}")
        self.devices_loaded = True

    # ------------------------------------------------------------------ result
    def collect(self) -> dict[str, Any]:
        """The non-secret values as they are in the form now."""
        voice = self.voice_box.currentData()
        if voice is None or self.voice_box.currentText() != self.voice_box.itemText(
            self.voice_box.currentIndex()
        ):
            voice = self.voice_box.currentText()
        return {
            "input_device": self.input_box.currentData() or "",
            "output_device": self.output_box.currentData() or "",
            "vad_sensitivity": self.vad_slider.value() / 100,
            "vad_threshold": vad_threshold(self.vad_slider.value() / 100),
            "turn_detection": self.detect_box.currentData(),
            "silence_ms": self.silence_spin.value(),
            "aec": self.aec_check.isChecked(),
            "frame_policy": self.policy_box.currentData(),
            "frame_interval_s": self.interval_spin.value(),
            "frames_per_minute": self.budget_spin.value(),
            "instructions": self.instructions_edit.toPlainText().strip(),
            "voice": "" if voice == "Backend default" else str(voice or ""),
            "recordings_dir": self.folder_edit.text().strip(),
            "record": self.record_check.isChecked(),
        }

    def accept(self) -> None:
        values = self.collect()
        save_settings(self.qsettings, values)
        self.values = load_settings(self.qsettings)
        changes = {}
        for name, row in self.key_rows.items():
            changed, key = row.pending_change()
            if changed:
                changes[name] = key
            row.edit.clear()
        if changes:
            write = self._keyring_write

            def store() -> None:
                for name, key in changes.items():
                    write(name, key)

            self.tasks.submit(store, lambda _: self.keys_saved.emit(), self.error.emit)
        self.settings_saved.emit(values)
        super().accept()

    def shutdown(self) -> None:
        """Finish pending keyring writes and stop the worker (call before deleting)."""
        self.tasks.shutdown(cancel_pending=False)
