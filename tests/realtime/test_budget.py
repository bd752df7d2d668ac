"""The budget meter: next-turn estimate with re-billed context, 80 % warning, 100 % stop."""

from __future__ import annotations

import pytest

from realtime.budget import BudgetLevel, BudgetMeter, Limits, rates_for
from realtime.events import Usage
from realtime.pricing import PriceTable

TABLE = PriceTable.load()


def meter(limits: Limits, model: str = "gpt-realtime", day: float = 0.0) -> BudgetMeter:
    return BudgetMeter(limits, TABLE.lookup(model), rates_for("openai"), day_spent_usd=day)


def turn(audio_in: int, audio_out: int) -> Usage:
    return Usage(
        input_tokens=audio_in,
        input_audio_tokens=audio_in,
        output_tokens=audio_out,
        output_audio_tokens=audio_out,
    )


def test_next_turn_re_bills_the_whole_context_and_grows():
    m = meter(Limits(session_usd=10.0))
    first = m.next_turn_usd()
    assert first is not None and first > 0
    m.response_done(turn(1000, 500))
    second = m.next_turn_usd()
    m.response_done(turn(3000, 500))
    third = m.next_turn_usd()
    assert second is not None and third is not None
    assert third > second  # the context grows, so does every next turn


def test_frames_sent_raise_the_next_turn_by_their_image_price():
    m = meter(Limits(session_usd=10.0))
    before = m.next_turn_usd()
    usd = m.frame_sent()
    after = m.next_turn_usd()
    assert usd is not None and before is not None and after is not None
    price = TABLE.lookup("gpt-realtime")
    assert price is not None
    assert usd == pytest.approx(765 * price.image_input / 1e6)
    assert after - before == pytest.approx(usd)


def test_warning_at_80_percent_then_stop_before_passing_100():
    m = meter(Limits(session_usd=0.5))
    assert m.status().level is BudgetLevel.OK
    levels = []
    for i in range(40):
        m.response_done(turn(200 * (i + 1), 100))  # each turn re-bills the last
        levels.append(m.status().level)
        if levels[-1] is BudgetLevel.STOPPED:
            break
    assert BudgetLevel.WARNING in levels
    assert levels[-1] is BudgetLevel.STOPPED
    assert levels.index(BudgetLevel.WARNING) < levels.index(BudgetLevel.STOPPED)
    st = m.status()
    assert "session budget of $0.50 is reached" in st.message
    assert m.session_usd <= 0.5  # stopped before the turn that would pass it


def test_day_budget_counts_what_was_spent_earlier_today():
    m = meter(Limits(day_usd=1.0), day=0.85)
    st = m.status()
    assert st.level is BudgetLevel.WARNING and st.which == "day"
    m2 = meter(Limits(day_usd=1.0), day=1.0)
    assert m2.status().level is BudgetLevel.STOPPED


def test_stop_is_sticky_until_the_limit_is_raised():
    m = meter(Limits(session_usd=0.01), day=0.0)
    m.response_done(turn(2000, 1000))
    assert m.status().level is BudgetLevel.STOPPED
    m.set_limits(Limits(session_usd=100.0))
    assert m.status().level is BudgetLevel.OK


def test_unknown_price_is_unknown_not_zero():
    m = BudgetMeter(Limits(session_usd=1.0), TABLE.lookup("no-such-model"), rates_for("openai"))
    assert m.next_turn_usd() is None and m.frame_usd() is None
    st = m.status()
    assert st.level is BudgetLevel.UNKNOWN and "unknown" in st.message


def test_no_budget_is_level_none():
    assert meter(Limits()).status().level is BudgetLevel.NONE


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_a_budget_must_be_positive(bad):
    with pytest.raises(ValueError, match="more than"):
        Limits(session_usd=bad)
