"""``app.gui.tasks.TaskRunner``: work runs off the GUI thread; each task's own result (typed by
its function, not sent through the signal) or its error message comes back on the GUI thread;
a runner that was shut down delivers nothing."""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt
import pytest

from app.gui.tasks import TaskRunner

pytestmark = pytest.mark.gui


def test_results_and_errors_come_back_on_the_gui_thread(qtbot) -> None:
    runner = TaskRunner(max_workers=2)
    gui = threading.get_ident()
    ran_on: list[int] = []
    got: list[tuple[str, object, int]] = []

    def frame() -> npt.NDArray[np.uint8]:
        ran_on.append(threading.get_ident())
        return np.full((2, 3), 7, np.uint8)

    def broken() -> int:
        raise OSError("the disk is full")

    def got_frame(arr: npt.NDArray[np.uint8]) -> None:
        got.append(("frame", arr.shape, threading.get_ident()))

    try:
        assert runner.submit(frame, got_frame) is not None
        runner.submit(
            broken,
            lambda n: got.append(("int", n, 0)),
            lambda m: got.append(("error", m, threading.get_ident())),
        )
        runner.submit(lambda: None, lambda r: got.append(("none", r, threading.get_ident())))
        qtbot.waitUntil(lambda: len(got) == 3 and runner.pending() == 0)
    finally:
        runner.shutdown()
    assert ran_on and ran_on[0] != gui
    assert sorted(got) == [
        ("error", "the disk is full", gui),
        ("frame", (2, 3), gui),
        ("none", None, gui),
    ]


def test_a_shut_down_runner_runs_and_delivers_nothing(qtbot) -> None:
    runner = TaskRunner()
    release = threading.Event()
    got: list[int] = []

    def slow() -> int:
        release.wait(5)
        return 1

    runner.submit(slow, got.append)
    release.set()
    runner.shutdown()  # waits for the running task; its callback is dropped
    assert runner.submit(lambda: 2, got.append) is None
    qtbot.wait(50)
    assert got == [] and runner.pending() == 0
