"""GUI test fixtures: a fake assistant, a window on a temp INI file, an in-memory keyring, and
an autouse check that fails the test if QThreads, active QTimers, top-level widgets or worker
threads outlive it."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import shiboken6
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QThread, QTimer
from PySide6.QtWidgets import QApplication

from tests.app.gui.fake_assistant import FakeAssistant

pytestmark = pytest.mark.gui


class MemoryKeyring(KeyringBackend):
    """In-memory keyring backend for tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise PasswordDeleteError("not found")
        del self.store[(service, username)]


def _flush_deletes(app: QApplication) -> None:
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()


def qt_leaks(app: QApplication, before_widgets: set[int], before_threads: set[int]) -> list[str]:
    _flush_deletes(app)
    gc.collect()
    leaks: list[str] = []
    for w in app.topLevelWidgets():
        if id(w) not in before_widgets and shiboken6.isValid(w):
            # Qt's own popups (combo boxes, tooltips) are children of widgets we delete; a
            # surviving one is reported like any other widget.
            leaks.append(f"top-level widget {type(w).__name__} {w.objectName()!r}")
    for o in gc.get_objects():
        try:
            if isinstance(o, QTimer) and shiboken6.isValid(o) and o.isActive():
                leaks.append(f"active QTimer (interval {o.interval()} ms)")
            elif isinstance(o, QThread) and shiboken6.isValid(o) and o.isRunning():
                leaks.append(f"running QThread {o.objectName()!r}")
        except RuntimeError:
            continue
    for t in threading.enumerate():
        if (
            t.ident not in before_threads
            and t.is_alive()
            and t.name.startswith(("gui-task", "voicecam-gui", "voicecam-engine"))
        ):
            leaks.append(f"worker thread {t.name}")
    return leaks


@pytest.fixture(autouse=True)
def no_qt_leaks(qapp: QApplication) -> Iterator[None]:
    """Fails the test when Qt objects or worker threads outlive it (runs after qtbot closes
    the widgets it was given)."""
    _flush_deletes(qapp)
    before_widgets = {id(w) for w in qapp.topLevelWidgets()}
    before_threads = {t.ident for t in threading.enumerate()}
    yield
    leaks = qt_leaks(qapp, before_widgets, before_threads)
    if leaks:
        for w in qapp.topLevelWidgets():  # clean up so the next test starts clean
            if id(w) not in before_widgets and shiboken6.isValid(w):
                w.close()
                w.deleteLater()
        _flush_deletes(qapp)
        pytest.fail("Qt leaks after the test: " + "; ".join(leaks))


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def fake() -> FakeAssistant:
    return FakeAssistant()


@pytest.fixture
def ini(tmp_path: Path) -> Path:
    return tmp_path / "voicecam.ini"


@pytest.fixture
def qsettings(ini: Path) -> QSettings:
    return QSettings(str(ini), QSettings.Format.IniFormat)


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch) -> Path:
    """``app.config.Settings`` load/save go to a temp folder."""
    d = tmp_path / "config"
    monkeypatch.setenv("VOICECAM_CONFIG_DIR", str(d))
    return d


@pytest.fixture
def window(
    qtbot, fake: FakeAssistant, qsettings: QSettings, memory_keyring, tmp_path: Path, config_dir
):
    from app.config import Settings
    from app.devices import DeviceNames
    from app.gui.main import build_window

    w = build_window(
        fake,
        qsettings,
        Settings.load(),
        settings_kwargs={
            "device_lister": lambda: DeviceNames(("USB Mic", "Built-in Mic"), ("Speakers",))
        },
        sessions_kwargs={"folder": str(tmp_path / "sessions"), "audio": False},
    )
    qtbot.addWidget(w)
    fake.pump = w.events.flush  # events published on the test's thread show at once
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    return w
