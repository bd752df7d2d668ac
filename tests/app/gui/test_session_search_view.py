"""The Sessions browser's search box (issue 15, item 3): typing finds words from a session
recorded by the app's recorder; opening a hit replays from the moment they were said."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.gui.session_search import hit_html
from app.gui.sessions_browser import SessionsBrowser
from tests.app.test_session_search import record

pytestmark = pytest.mark.gui


def test_search_finds_words_and_opens_replay_at_the_hit(qtbot, tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    record(folder, "What is on my desk?", "A red mug and a <blue> stapler.")
    other = record(folder, "Is it raining?", "No, it is sunny.").files[0]
    browser = SessionsBrowser(folder=str(folder), audio=False, confirm=lambda *_: True)
    qtbot.addWidget(browser)
    browser.show()
    qtbot.waitUntil(lambda: browser.table.rowCount() == 2)
    assert not browser.search.results.isVisible()

    with qtbot.waitSignal(browser.search.searched) as got:
        qtbot.keyClicks(browser.search.box, "stapl")  # the last word matches as a prefix
    assert got.args == [1]
    assert browser.search.results.isVisible()
    [hit] = browser.search.hits
    assert hit.speaker == "Assistant" and hit.t_ms == pytest.approx(1500, abs=1)
    text = hit_html(hit)
    assert "<b>stapler</b>" in text and "&lt;blue&gt;" in text and "at 0:01" in text

    browser.search.results.setFocus()
    qtbot.keyClick(browser.search.results, Qt.Key.Key_Return)
    replay = browser.replay
    qtbot.waitUntil(lambda: replay.data is not None)
    assert browser.stack.currentIndex() == 1
    assert replay.data.path == hit.path
    assert replay.position_ms() == pytest.approx(1500, abs=1)
    assert replay.current_turn() == 1  # the assistant's turn is the current one
    browser.show_list()

    browser.search.box.clear()
    with qtbot.waitSignal(browser.search.searched):
        qtbot.keyClicks(browser.search.box, "sunny")
    assert [h.path for h in browser.search.hits] == [other]
    browser.table.selectRow(next(r for r, s in enumerate(browser.summaries) if s.path == other))
    with qtbot.waitSignal(browser.deleted):
        browser.delete_selected()
    with qtbot.waitSignal(browser.search.searched) as got:
        browser.search.search_now()
    assert got.args == [0]
    assert "No session mentions “sunny”." in browser.search.summary.text()
    browser.shutdown()
