"""The leak check itself must be able to fail."""

from __future__ import annotations

import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from tests.app.gui.conftest import qt_leaks


def test_leak_check_detects_widget_timer_and_thread(qapp) -> None:
    before_w = {id(w) for w in qapp.topLevelWidgets()}
    before_t = {t.ident for t in threading.enumerate()}
    w = QWidget()
    timer = QTimer()
    timer.start(1000)
    stop = threading.Event()
    th = threading.Thread(target=stop.wait, name="gui-task-test")
    th.start()
    try:
        leaks = qt_leaks(qapp, before_w, before_t)
        assert any("QWidget" in x for x in leaks)
        assert any("QTimer" in x for x in leaks)
        assert any("gui-task-test" in x for x in leaks)
    finally:
        stop.set()
        th.join()
        timer.stop()
        w.deleteLater()
    assert qt_leaks(qapp, before_w, before_t) == []
