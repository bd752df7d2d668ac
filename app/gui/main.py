"""Start the VoiceCam window: ``voicecam`` with no arguments calls :func:`main`.

``build_window(assistant, qsettings)`` wires the window to its settings dialog and sessions
browser; tests and benchmarks use it with a fake assistant. ``main()`` builds the real assistant
(``app.gui.adapter.make_assistant``), shows the window and runs the Qt loop.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from app.gui.model import AssistantModel
from app.gui.settings_dialog import SettingsDialog, load_settings
from app.gui.theme import apply_theme
from app.gui.window import MainWindow

ORG, APP = "VoiceCam", "VoiceCam"


def make_qsettings(path: str | None = None) -> QSettings:
    """The app's QSettings: an INI file at ``path`` (tests) or the platform's user location."""
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


def build_window(
    assistant: AssistantModel,
    qsettings: Any,
    *,
    settings_kwargs: dict[str, Any] | None = None,
    sessions_kwargs: dict[str, Any] | None = None,
) -> MainWindow:
    """The main window, its Settings dialog (non-modal, window-modal) and Sessions browser.

    ``settings_kwargs`` / ``sessions_kwargs`` are passed to the dialog / browser (tests inject
    keyring and device functions, a sessions folder).
    """

    def open_settings(parent: QWidget) -> QWidget:
        win: MainWindow = parent  # type: ignore[assignment]
        old = win.settings_dialog
        if old is not None:
            old.shutdown()  # type: ignore[attr-defined]
            old.deleteLater()
        backend = win._backends.get(win.selection()[0])
        dlg = SettingsDialog(
            qsettings,
            parent,
            voices=backend.voices if backend is not None else (),
            **(settings_kwargs or {}),
        )
        dlg.settings_saved.connect(assistant.apply_settings)
        dlg.settings_saved.connect(lambda v: win.status.set_recording(bool(v.get("record"))))
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.open()
        return dlg

    def open_sessions(parent: QWidget) -> QWidget:
        from app.gui.sessions_browser import SessionsBrowser

        win: MainWindow = parent  # type: ignore[assignment]
        old = win.sessions_window
        if old is not None:
            old.shutdown()  # type: ignore[attr-defined]
            old.deleteLater()
        folder = load_settings(qsettings).get("recordings_dir") or None
        kwargs = {"folder": folder, **(sessions_kwargs or {})}
        browser = SessionsBrowser(parent, **kwargs)
        browser.show()
        return browser

    window = MainWindow(
        assistant, qsettings, open_settings=open_settings, open_sessions=open_sessions
    )
    # the assistant starts with the persisted settings
    assistant.apply_settings(load_settings(qsettings))
    return window


def main(argv: list[str] | None = None) -> int:
    """Run the GUI. Returns the process exit code."""
    argv = list(sys.argv if argv is None else argv)
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    app.setApplicationDisplayName("VoiceCam")
    app.setDesktopFileName("voicecam")
    apply_theme(app)  # type: ignore[arg-type]
    from app.gui.adapter import make_assistant

    qsettings = make_qsettings(os.environ.get("VOICECAM_GUI_SETTINGS"))
    assistant = make_assistant()
    window = build_window(assistant, qsettings)
    window.show()
    try:
        code = app.exec()
    finally:
        window.close()
        assistant.close()
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
