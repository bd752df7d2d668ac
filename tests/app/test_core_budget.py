"""The spend limit inside ``ConversationCore`` (``app.core_budget``), driven synchronously.

Limits are set relative to what the real meter (``realtime.budget``) estimates with the real
price table (``assets/pricing.toml``) for the same usage, so the tests check the levels and
what is and is not sent, not price figures.
"""

from __future__ import annotations

from app import core_budget
from app.core import Backend, ConversationCore
from app.effects import (
    AddDaySpend,
    Connecting,
    Effect,
    FrameReady,
    Input,
    PollFrame,
    RecordFrame,
    RecordMic,
    Send,
    SetBudget,
    TypeText,
)
from app.model import BudgetChanged, BudgetLevel, FrameSent, NoticeChanged, State
from app.modes import ConversationOptions
from app.pricing import CostMeter, PriceTable
from audio.events import MicAudio, VoiceStarted, VoiceStopped
from realtime.budget import Limits
from realtime.events import (
    ActivityEnd,
    ActivityStart,
    AppendAudio,
    AppendImage,
    ClearInput,
    ResponseDone,
    SendText,
    SessionReady,
    Usage,
)
from video.feed import SentFrame
from video.pacing import Reason

MS = 1_000_000
TABLE = PriceTable.load()
MODEL = "gpt-realtime"
#: One response: 1000 audio tokens in (100 s of speech and context), 500 out.
USAGE = Usage(
    input_tokens=1000, input_audio_tokens=1000, output_tokens=500, output_audio_tokens=500
)


class Rig:
    """A synchronous front end without a player (a reply is over when its response is)."""

    def __init__(
        self,
        limits: Limits,
        model: str = MODEL,
        *,
        day_spent_usd: float = 0.0,
        free: bool = False,
        provider: str = "openai",
    ) -> None:
        self.model = model
        cost = CostMeter(TABLE, model, free=free)
        meter = core_budget.new_meter(cost, provider, limits, day_spent_usd)
        backend = Backend("test", provider, model, 24000, voice="marin")
        self.core = ConversationCore(
            backend, ConversationOptions(), cost, has_player=False, budget=meter
        )
        self.now = 1_000 * MS
        self.seq = 0

    def feed(self, *items: Input) -> list[Effect]:
        out: list[Effect] = []
        for item in items:
            self.now += MS
            out += self.core.handle(item, self.now)
        return out

    def connect(self) -> list[Effect]:
        out = self.feed(Connecting(), SessionReady("s1", self.model))
        assert self.core.state == State.LISTENING
        return out

    def mic(self, seconds: float = 1.0) -> MicAudio:
        n = round(24000 * seconds)
        return MicAudio(b"\x01\x00" * round(16000 * seconds), b"\x01\x00" * n, 24000, self.now)

    def frame(self) -> FrameReady:
        self.seq += 1
        return FrameReady(
            SentFrame(b"\xff\xd8jpeg", self.now, Reason.CHANGED, 640, 360, False, seq=self.seq)
        )

    def turn(self, seconds: int = 2) -> list[Effect]:
        """A spoken turn (client voice detection) and its answer."""
        out = self.feed(VoiceStarted(self.now))
        out += self.feed(*(self.mic() for _ in range(seconds)))
        out += self.feed(VoiceStopped(self.now), ResponseDone("r", "completed", USAGE))
        return out


def sent(effects: list[Effect]) -> list[object]:
    return [e.command for e in effects if isinstance(e, Send)]


def budget_events(effects: list[Effect]) -> list[BudgetChanged]:
    return [e for e in effects if isinstance(e, BudgetChanged)]


def projected_after_one_turn() -> float:
    """Spent plus the next turn's estimate once ``USAGE`` was answered."""
    probe = core_budget.new_meter(CostMeter(TABLE, MODEL), "openai")
    probe.response_done(USAGE)
    nxt = probe.next_turn_usd()
    assert nxt is not None
    return probe.session_usd + nxt


def test_each_answer_is_spent_and_added_to_the_day() -> None:
    rig = Rig(Limits())
    rig.connect()
    out = rig.turn()
    price = TABLE.lookup(MODEL)
    assert price is not None
    assert [e.usd for e in out if isinstance(e, AddDaySpend)] == [price.cost(USAGE)]
    assert not budget_events(out)  # no budget set: nothing to say
    assert rig.core.budget_status.level is BudgetLevel.NONE


def test_warning_at_80_percent_keeps_sending() -> None:
    rig = Rig(Limits(session_usd=projected_after_one_turn() / 0.85))
    (ready,) = budget_events(rig.connect())  # where the budget stands, shown at once
    assert ready.status.level is BudgetLevel.OK  # the first turn is well within
    out = rig.turn()
    (warning,) = budget_events(out)
    assert warning.status.level is BudgetLevel.WARNING
    assert warning.status.which == "session"
    assert "85%" in warning.status.message and "session budget" in warning.status.message
    more = rig.feed(VoiceStarted(rig.now), rig.mic())
    assert ActivityStart() in sent(more)
    assert any(isinstance(c, AppendAudio) for c in sent(more))


def test_budget_reached_mid_turn_stops_audio_and_frames_but_not_text() -> None:
    limit = projected_after_one_turn() / 0.9
    rig = Rig(Limits(session_usd=limit))
    rig.connect()
    rig.turn()
    assert rig.core.budget_status.level is BudgetLevel.WARNING
    # The next turn: the user talks (and shows frames) until the estimate passes the limit.
    out = rig.feed(VoiceStarted(rig.now))
    assert ActivityStart() in sent(out)
    for _ in range(200):
        out += rig.feed(rig.mic(), rig.frame())
        if rig.core.budget_status.level is BudgetLevel.STOPPED:
            break
    assert rig.core.budget_status.level is BudgetLevel.STOPPED
    cmds = sent(out)
    assert sum(isinstance(c, AppendAudio) for c in cmds) > 3  # sent until the limit
    assert cmds[-1] == ClearInput()  # the unanswered turn's audio is dropped
    assert ActivityEnd() not in cmds  # and no answer is asked for
    (stop,) = [e for e in budget_events(out) if e.status.level is BudgetLevel.STOPPED]
    notices = [e.message for e in out if isinstance(e, NoticeChanged)]
    assert notices[-1] == stop.status.message == rig.core.notice
    assert "budget" in rig.core.notice and "no longer sent" in rig.core.notice
    assert rig.core.state == State.LISTENING

    # Afterwards: the microphone is still recorded, nothing goes out, no turn opens.
    after = rig.feed(rig.mic(), VoiceStopped(rig.now), VoiceStarted(rig.now), rig.mic())
    after += rig.feed(rig.frame())
    assert sum(isinstance(e, RecordMic) for e in after) == 2
    assert sent(after) == []
    (frame_rec,) = [e for e in after if isinstance(e, RecordFrame)]
    assert not frame_rec.sent and frame_rec.reason == "spend-limit"
    assert not any(isinstance(e, FrameSent | PollFrame) for e in after)

    # Typed text still goes (without a frame), and its answer is still counted.
    typed = rig.feed(TypeText("what did it cost?"))
    assert sent(typed) == [SendText("what did it cost?", respond=True)]
    assert not any(isinstance(e, PollFrame) for e in typed)
    done = rig.feed(ResponseDone("r3", "completed", USAGE))
    assert any(isinstance(e, AddDaySpend) for e in done)
    assert rig.core.budget_status.level is BudgetLevel.STOPPED  # stays stopped

    # Raising the budget in Settings lets audio go again.
    raised = rig.feed(SetBudget(Limits(session_usd=limit * 20)))
    (level,) = budget_events(raised)
    assert level.status.level is BudgetLevel.OK
    assert NoticeChanged("") in raised
    again = rig.feed(VoiceStopped(rig.now), VoiceStarted(rig.now), rig.mic())
    assert ActivityStart() in sent(again)
    assert any(isinstance(c, AppendAudio) for c in sent(again))


def test_frames_carry_their_cost() -> None:
    rig = Rig(Limits())
    rig.connect()
    (shown,) = [e for e in rig.feed(rig.frame()) if isinstance(e, FrameSent)]
    price = TABLE.lookup(MODEL)
    assert price is not None and shown.cost_usd is not None and not shown.free
    assert shown.cost_usd == rig.core.budget.frame_usd() > 0
    assert core_budget.frame_cost_text(shown.cost_usd, shown.free).startswith("$0.00")
    assert AppendImage(b"\xff\xd8jpeg", "auto") in sent(rig.feed(rig.frame()))


def test_unknown_price_says_the_budget_cannot_be_checked_never_zero() -> None:
    rig = Rig(Limits(session_usd=0.01), model="some-future-realtime-model")
    (unknown,) = budget_events(rig.connect())
    assert unknown.status.level is BudgetLevel.UNKNOWN
    assert "cannot be checked" in unknown.status.message
    assert unknown.status.next_turn_usd is None and unknown.status.session_usd is None
    (shown,) = [e for e in rig.feed(rig.frame()) if isinstance(e, FrameSent)]
    assert shown.cost_usd is None
    assert "unknown" in core_budget.frame_cost_text(shown.cost_usd, shown.free)
    out = rig.turn(seconds=3)
    assert sum(isinstance(c, AppendAudio) for c in sent(out)) == 3  # not blocked
    assert ActivityEnd() in sent(out)
    assert not any(isinstance(e, AddDaySpend) for e in out)  # nothing to add, not $0
    assert rig.core.spend().cost_usd is None
    assert [e.status.level for e in budget_events(out)] == [BudgetLevel.UNKNOWN]


def test_a_day_budget_spent_earlier_stops_from_the_start() -> None:
    rig = Rig(Limits(day_usd=1.00), day_spent_usd=0.999)
    (stop,) = budget_events(rig.connect())
    assert stop.status.level is BudgetLevel.STOPPED and stop.status.which == "day"
    assert "day budget of $1.00 is reached" in rig.core.notice
    out = rig.feed(VoiceStarted(rig.now), rig.mic(), rig.frame())
    assert sent(out) == []
    assert any(isinstance(e, RecordMic) for e in out)


def test_a_free_backend_never_reaches_a_budget() -> None:
    rig = Rig(Limits(session_usd=0.0001), model="local", free=True)
    rig.connect()
    out = rig.feed(rig.frame()) + rig.turn(seconds=3)
    (shown,) = [e for e in out if isinstance(e, FrameSent)]
    assert shown.free and shown.cost_usd == 0.0
    assert "free" in core_budget.frame_cost_text(shown.cost_usd, shown.free)
    assert not any(isinstance(e, AddDaySpend) for e in out)
    assert rig.core.budget_status.level is BudgetLevel.OK


def test_with_the_providers_detector_only_speech_is_counted_not_silence() -> None:
    cost = CostMeter(TABLE, MODEL)
    backend = Backend("test", "openai", MODEL, 24000, voice="marin")
    core = ConversationCore(
        backend,
        ConversationOptions(turn_detection="server"),
        cost,
        has_player=False,
        budget=core_budget.new_meter(cost, "openai", Limits(session_usd=1.0)),
    )
    now = 1_000 * MS
    core.handle(Connecting(), now)
    core.handle(SessionReady("s1", MODEL), now)
    before = core.budget.next_turn_usd()
    second = MicAudio(b"\x01\x00" * 16000, b"\x01\x00" * 24000, 24000, now)
    out: list[Effect] = []
    for _ in range(30):  # half a minute of silence, streamed to the provider's detector
        out += core.handle(second, now)
    assert sum(isinstance(c, AppendAudio) for c in sent(out)) == 30
    assert core.budget.next_turn_usd() == before
    core.handle(VoiceStarted(now), now)
    core.handle(second, now)
    after = core.budget.next_turn_usd()
    assert before is not None and after is not None and after > before  # speech is


def test_gemini_closes_the_turn_it_cannot_drop_and_text_still_goes() -> None:
    rig = Rig(Limits(session_usd=0.05), model="gemini-live-2.5-flash", provider="gemini")
    rig.connect()
    out = rig.feed(VoiceStarted(rig.now))
    for _ in range(2000):
        out += rig.feed(rig.mic(), rig.frame())
        if rig.core.budget_status.level is BudgetLevel.STOPPED:
            break
    assert rig.core.budget_status.level is BudgetLevel.STOPPED
    cmds = sent(out)
    assert cmds.count(ActivityEnd()) == 1 and ClearInput() not in cmds
    assert not any(isinstance(c, AppendAudio) for c in cmds[cmds.index(ActivityEnd()) :])
    assert rig.core.state == State.THINKING and "no longer sent" in rig.core.notice
    after = rig.feed(rig.mic(), rig.frame(), TypeText("and the price?"))
    assert sent(after) == [SendText("and the price?", respond=True)]
