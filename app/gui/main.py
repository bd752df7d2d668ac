"""Start the VoiceCam window: ``voicecam`` with no arguments calls :func:`main`.

``build_window(assistant, qsettings)`` wires the window to its settings dialog and sessions
browser; tests and benchmarks use it with a fake assistant. ``main()`` builds the real assistant
(``app.gui.adapter.make_assistant``), shows the window and runs the Qt loop.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import fields, replace
from typing import TYPE_CHECKING, TypedDict

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from app.config import Settings, SettingsError, config_dir
from app.config_folder import legacy_config_dir, migrate_legacy_config, window_state_path
from app.devices import DeviceNames
from app.gui.local_model_picker import FindLocalModels
from app.gui.port import AssistantPort
from app.gui.settings_dialog import SettingsDialog
from app.gui.theme import apply_theme
from app.gui.window import MainWindow
from app.local_models import discover_local_models
from app.window_flags import launch_note

if TYPE_CHECKING:
    from app.compose import SettingValue
    from app.gui.sessions_browser import SessionsBrowser

ORG, APP = "VoiceCam", "VoiceCam"


class SettingsDialogOptions(TypedDict, total=False):
    """What tests inject into the settings dialog (see ``SettingsDialog``)."""

    device_lister: Callable[[], DeviceNames]
    keyring_read: Callable[[], dict[str, str | None]]
    keyring_write: Callable[[str, str | None], None]
    saver: Callable[[Settings], None]


class SessionsBrowserOptions(TypedDict, total=False):
    """What tests inject into the sessions browser (see ``SessionsBrowser``)."""

    folder: str | None
    confirm: Callable[[QWidget, str], bool]
    audio: bool
    live: Callable[[], Collection[str]]


def _save_settings(settings: Settings) -> None:
    settings.save()


def load_settings(
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, SettingValue] | None = None,
) -> tuple[Settings, Settings, str]:
    """(the settings file's values, the effective settings, a problem to show or "").

    Effective = the file overridden by ``VOICECAM_<FIELD>`` environment variables, then by
    ``overrides`` (the command line's window flags, ``app.window_flags``), with the precedence
    of ``app.compose.resolve_settings`` (the CLI's too). A bad file or variable is skipped with
    a message a person can act on.
    """
    from app.compose import resolve_settings

    problems: list[str] = []
    try:
        saved = Settings.load()
    except SettingsError as exc:  # start with defaults and say what was wrong
        saved = Settings()
        problems.append(f"Settings file ignored: {exc}")
    try:
        effective = resolve_settings(overrides, env=env, base=saved)
    except SettingsError as exc:
        effective = saved
        problems.append(f"Environment settings ignored: {exc}")
    return saved, effective, "; ".join(problems)


def save_changes_only(saved: Settings, started: Settings) -> Callable[[Settings], None]:
    """A saver that writes the settings changed since start (``started``: the effective
    settings the window opened with) onto the file's values, so a ``VOICECAM_*`` variable in
    effect this session is never written to the file. Worker thread (it writes the file)."""

    def save(new: Settings) -> None:
        changed = {
            f.name: getattr(new, f.name)
            for f in fields(Settings)
            if getattr(new, f.name) != getattr(started, f.name)
        }
        replace(saved, **changed).save()

    return save


def make_qsettings(path: str | None = None) -> QSettings:
    """The window's QSettings: an INI file at ``path`` (tests) or ``window.ini`` in the one
    settings folder (``app.config_folder``; Qt's own ``~/.config/VoiceCam`` is not used)."""
    return QSettings(path or str(window_state_path()), QSettings.Format.IniFormat)


def build_window(
    assistant: AssistantPort,
    qsettings: QSettings,
    settings: Settings | None = None,
    *,
    save_settings: Callable[[Settings], None] | None = _save_settings,
    settings_kwargs: SettingsDialogOptions | None = None,
    sessions_kwargs: SessionsBrowserOptions | None = None,
    find_local_models: FindLocalModels | None = None,
) -> MainWindow:
    """The main window, its Settings dialog (window-modal, non-blocking) and Sessions browser.

    ``settings``: the persisted ``app.config.Settings`` (default: loaded by the caller; a fresh
    ``Settings()`` if None). ``save_settings`` writes them (on a worker thread) when the window
    closes. ``settings_kwargs`` / ``sessions_kwargs`` go to the dialog / browser (tests inject
    keyring and device functions, a sessions folder, ``audio=False``). ``find_local_models``:
    the offline backend's picker lists the models of the local model servers it finds
    (``app.local_models.discover_local_models``; None: only the built-in model).
    """
    settings = settings if settings is not None else Settings()

    def open_settings(win: MainWindow) -> SettingsDialog:
        old = win.settings_dialog
        if old is not None:
            old.shutdown()
            old.deleteLater()
        backend = win.backends.get(win.selection()[0])
        options: SettingsDialogOptions = {"saver": save_settings or (lambda _s: None)}
        options.update(settings_kwargs or {})
        dlg = SettingsDialog(
            win.current_settings(),
            win,
            voices=backend.voices if backend is not None else (),
            **options,
        )
        dlg.settings_saved.connect(win.apply_settings)
        dlg.settings_saved.connect(_apply_theme_setting)
        dlg.error.connect(lambda msg: win.ui.status.showMessage(msg, 15000))
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.open()
        return dlg

    def open_sessions(win: MainWindow) -> SessionsBrowser:
        from app.gui.replay_mic import ReplayMicPause
        from app.gui.sessions_browser import SessionsBrowser

        old = win.sessions_window
        if old is not None:
            old.shutdown()
            old.deleteLater()
        options: SessionsBrowserOptions = {
            "folder": str(win.settings.recordings_path()),
            "live": win.live_recordings,  # the session being recorded is not "unfinished"
        }
        options.update(sessions_kwargs or {})
        browser = SessionsBrowser(win, **options)
        ReplayMicPause(browser.replay, win)  # replay while connected: the live mic pauses
        browser.show()
        return browser

    window = MainWindow(
        assistant,
        qsettings,
        settings,
        open_settings=open_settings,
        open_sessions=open_sessions,
        save_settings=save_settings,
        find_local_models=find_local_models,
    )
    assistant.apply_settings(window.current_settings())
    return window


def _apply_theme_setting(settings: Settings) -> None:
    """The Colours setting changed in the dialog: the window follows at once."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_theme(app, settings.theme)


def _quit_on_signals(app: QApplication) -> None:
    """Ctrl-C / SIGTERM close the window cleanly (settings saved, offline server stopped).

    Python runs signal handlers only between bytecodes, so a no-op timer wakes it regularly.
    """
    import signal

    from PySide6.QtCore import QTimer

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: app.quit())
    waker = QTimer(app)
    waker.timeout.connect(lambda: None)
    waker.start(250)


def no_display_reason(env: dict[str, str] | None = None, platform: str = sys.platform) -> str:
    """Why a window cannot open here ("" if it can): on Linux/BSD Qt needs an X11 or Wayland
    display unless a platform plugin is chosen explicitly (``QT_QPA_PLATFORM``)."""
    env = dict(os.environ) if env is None else env
    if not platform.startswith(("linux", "freebsd", "openbsd")) or env.get("QT_QPA_PLATFORM"):
        return ""
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return ""
    return (
        "VoiceCam's window needs a desktop session, and no display was found (DISPLAY and "
        "WAYLAND_DISPLAY are not set).\n"
        "  - run it from your desktop session, or over ssh with X forwarding (ssh -X);\n"
        "  - without a screen, use the terminal version: voicecam --headless --help;\n"
        "  - or give it a virtual screen: xvfb-run voicecam"
    )


def start_retention(window: MainWindow, settings: Settings) -> None:
    """The saved retention rule, applied on the window's worker at start (``app.retention``);
    what it deleted is said in the status bar."""
    from app.retention import apply_retention_at_start, describe

    def said(text: str) -> None:
        if text:
            window.ui.status.showMessage(text, 15000)

    window.tasks.submit(lambda: describe(apply_retention_at_start(settings)), said)


def main(argv: list[str] | None = None, overrides: Mapping[str, SettingValue] | None = None) -> int:
    """Run the GUI. Returns the process exit code. ``overrides``: settings the command line
    set for this launch (``app.window_flags.window_overrides``); never saved unless changed."""
    argv = list(sys.argv if argv is None else argv)
    reason = no_display_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv)
    app.setOrganizationName(ORG)
    app.setApplicationName(APP)
    app.setApplicationDisplayName("VoiceCam")
    app.setDesktopFileName("voicecam")
    from app.gui.adapter import make_assistant

    moved = migrate_legacy_config(config_dir(), legacy_config_dir())  # once: then it is gone
    qsettings = make_qsettings(os.environ.get("VOICECAM_GUI_SETTINGS"))
    saved, settings, problem = load_settings(overrides=overrides)
    problem = problem or moved.problem
    apply_theme(app, settings.theme)  # the Colours setting (VOICECAM_THEME sets it too)
    assistant = make_assistant(settings)
    window = build_window(
        assistant,
        qsettings,
        settings,
        save_settings=save_changes_only(saved, settings),
        find_local_models=discover_local_models,  # returns at once; probes on its own thread
    )
    _quit_on_signals(app)
    note = launch_note(dict(overrides or {}))
    if problem or note:
        window.ui.status.showMessage(" ".join(m for m in (problem, note) if m), 15000)
    start_retention(window, settings)
    window.show()
    try:
        code = app.exec()
    finally:
        window.close()
        assistant.close()
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main())
