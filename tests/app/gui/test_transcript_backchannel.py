"""A backchannel shows quietly in the user's lane: greyed, italic, with a tooltip saying why."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.gui.transcript_view import TurnBubble, turn_html
from app.transcript import Transcript


def test_backchannel_bubble_is_greyed_in_the_users_lane(qtbot: QtBot) -> None:
    t = Transcript()
    t.user_backchannel("Mhm.")
    turn = t.turns()[-1]
    assert "color:#8a929e" in turn_html(turn) and "Mhm." in turn_html(turn)
    bubble = TurnBubble(turn)
    qtbot.addWidget(bubble)
    assert bubble.objectName() == "bubble_user" and bubble.who.text() == "You"
    assert "acknowledgement" in bubble.toolTip()
