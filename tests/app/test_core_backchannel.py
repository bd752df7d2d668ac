"""A backchannel ("mhm") said over the reply: a quiet user entry, never a turn for the model."""

from __future__ import annotations

from app.effects import ClearPlayback
from app.model import TurnUpdated
from audio.events import Backchannel
from realtime.events import CancelResponse, Truncate
from tests.app.test_core import Driver, reply, sends


def test_backchannel_is_a_quiet_user_entry_and_the_reply_goes_on() -> None:
    d = Driver()
    d.connect()
    reply(d)
    out = d.feed(Backchannel(d.now, "Mhm."))
    assert not sends(out), "nothing goes to the backend: no cancel, no commit, no response"
    assert not any(isinstance(e, ClearPlayback) for e in out)
    updates = [e.turn for e in out if isinstance(e, TurnUpdated)]
    assert len(updates) == 1
    turn = updates[0]
    assert (turn.role, turn.text, turn.backchannel, turn.partial) == ("user", "Mhm.", True, False)
    # not a turn for the model: never carried into a new session's context
    assert ("user", "Mhm.") not in d.core.transcript.history()


def test_a_later_interruption_still_truncates_the_reply() -> None:
    from audio.events import BargeIn

    d = Driver()
    d.connect()
    reply(d)
    d.feed(Backchannel(d.now, "Sure."))
    out = d.feed(BargeIn(d.now, "a1", 400))
    assert [c for c in sends(out) if isinstance(c, Truncate | CancelResponse)] == [
        CancelResponse(),
        Truncate("a1", 400),
    ]
