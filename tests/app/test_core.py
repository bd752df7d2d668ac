"""``ConversationCore`` driven synchronously: recorded event sequences in, effects out.

No threads, no sleeps, no network: the golden server streams (``tests/realtime/golden``) go
through the real pure protocol cores, their events into the conversation core, and the tests
read the effects (what would be sent, played, cleared, recorded, shown).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from app.core import Backend, ConversationCore
from app.effects import (
    ClearPlayback,
    ConnectFailed,
    Connecting,
    Effect,
    Ended,
    EndPlaybackItem,
    Input,
    LoadingProgress,
    MarkSpeech,
    Mute,
    Play,
    PlaybackCleared,
    PlayerReport,
    PollFrame,
    PressTalk,
    RecordLatency,
    RecordMark,
    RecordMic,
    RecordTurn,
    RecordUsage,
    Send,
    SetMode,
    StopRequested,
    Talk,
    Tick,
    TypeText,
)
from app.model import (
    InvalidTransition,
    Loading,
    Mode,
    ModeChanged,
    SpendChanged,
    State,
    StateChanged,
    TurnCompleted,
    TurnUpdated,
)
from app.modes import ConversationOptions
from app.pricing import CostMeter, PriceTable
from app.state import HISTORY, StateMachine
from audio.events import BargeIn, MicAudio, VoiceStarted, VoiceStopped
from realtime.events import (
    ActivityEnd,
    ActivityStart,
    AppendAudio,
    AudioDelta,
    AudioStreamEnd,
    CancelResponse,
    Closed,
    Event,
    InputCommitted,
    InputTranscript,
    ResponseDone,
    ResponseStarted,
    SendText,
    SessionReady,
    SpeechStarted,
    SpeechStopped,
    TranscriptDelta,
    Truncate,
    Usage,
)
from realtime.gemini import GeminiCore
from realtime.openai import OpenAICore

GOLDEN = Path(__file__).resolve().parents[1] / "realtime" / "golden"
MS = 1_000_000


def golden_events(name: str) -> list[Event]:
    """The provider-neutral events of a golden stream, through the real pure protocol core."""
    core = GeminiCore() if name.startswith("gemini") else OpenAICore()
    events: list[Event] = []
    for line in (GOLDEN / name).read_text(encoding="utf-8").splitlines():
        core.receive(line)
        events += core.events()
    return events


class Driver:
    """A synchronous front end: a clock that advances 1 ms per input and a scripted player."""

    def __init__(
        self,
        provider: str = "openai",
        options: ConversationOptions | None = None,
        has_player: bool = True,
    ) -> None:
        backend = Backend("test", provider, "gpt-realtime", 24000, voice="marin")
        cost = CostMeter(PriceTable.load(), "gpt-realtime")
        self.core = ConversationCore(
            backend, options or ConversationOptions(), cost, has_player=has_player
        )
        self.now = 1_000 * MS
        self.effects: list[Effect] = []
        self.playing = False
        self.played: dict[str, int] = {}
        self.audible: dict[str, int] = {}

    def feed(self, *items: Input) -> list[Effect]:
        out: list[Effect] = []
        for item in items:
            self.now += MS
            out += self.core.handle(PlayerReport(self.playing, dict(self.audible)), self.now)
            out += self.answer(self.core.handle(item, self.now))
        self.effects += out
        return out

    def answer(self, effects: list[Effect]) -> list[Effect]:
        """Perform ClearPlayback like a front end: the player stops, its position goes back."""
        out: list[Effect] = []
        for e in effects:
            out.append(e)
            if isinstance(e, ClearPlayback) and not e.done_by_engine:
                self.playing = False
                played = self.played.get(e.item_id, 0) if e.item_id else 0
                out += self.answer(self.core.handle(PlaybackCleared(e.item_id, played), self.now))
        return out

    def connect(self) -> None:
        self.feed(Connecting(), SessionReady("s1", "gpt-realtime"))
        assert self.core.state == State.LISTENING

    def ticks(self, n: int = 3) -> list[Effect]:
        return self.feed(*[Tick() for _ in range(n)])


def sends(effects: Iterable[Effect]) -> list[object]:
    return [e.command for e in effects if isinstance(e, Send)]


def states(effects: Iterable[Effect]) -> list[State]:
    return [e.state for e in effects if isinstance(e, StateChanged)]


def without_audio(cmds: list[object]) -> list[object]:
    return [c for c in cmds if not isinstance(c, AppendAudio)]


# ---------------------------------------------------------------------- golden streams


def test_openai_golden_turn_with_server_vad() -> None:
    d = Driver(options=ConversationOptions(turn_detection="server"))
    d.feed(Connecting())
    out = d.feed(*golden_events("openai_turn.jsonl"))
    assert states(out) == [
        State.LISTENING,
        State.USER_SPEAKING,
        State.THINKING,
        State.ASSISTANT_SPEAKING,
    ]
    plays = [e for e in out if isinstance(e, Play)]
    assert len(plays) == 3 and {p.item_id for p in plays} == {plays[0].item_id}
    # positions are the audio received before each delta, in ms at 24 kHz
    sizes = [len(p.pcm16) / 2 / 24 for p in plays]
    assert [p.position_ms for p in plays] == [0, round(sizes[0]), round(sizes[0] + sizes[1])]
    assert any(isinstance(e, SpendChanged) and e.spend.usage.total_tokens > 0 for e in out)
    # recorded from the one turn model: the user's turn once final, the response's usage
    (user_rec,) = [e for e in out if isinstance(e, RecordTurn)]
    assert user_rec.role == "user" and user_rec.source == "voice" and user_rec.text
    assert user_rec.t_start_ns is not None and user_rec.t_end_ns is not None
    assert user_rec.t_start_ns < user_rec.t_end_ns
    assert [e.usage.total_tokens > 0 for e in out if isinstance(e, RecordUsage)] == [True]
    # the reply finishes once the player has drained it: then listening, one completed turn
    d.playing = False
    d.audible[plays[0].item_id] = d.now
    out = d.ticks()
    assert states(out) == [State.LISTENING]
    assert [e.count for e in out if isinstance(e, TurnCompleted)] == [1]
    user, assistant = d.core.turns()
    # the reply is recorded once played out: from its first audible sample, with the
    # core's latency waterfall (the same figures the transcript shows)
    (reply_rec,) = [e for e in out if isinstance(e, RecordTurn)]
    assert (reply_rec.role, reply_rec.text, reply_rec.status) == (
        "assistant",
        assistant.text,
        "completed",
    )
    assert reply_rec.t_start_ns == d.audible[plays[0].item_id]
    lat = assistant.latency
    assert lat is not None and lat.speech_end_ns is not None and lat.first_byte_ns is not None
    figures = {e.metric: e.value_ms for e in out if isinstance(e, RecordLatency)}
    assert figures["first_audio_ms"] == (lat.first_byte_ns - lat.speech_end_ns) / 1e6
    assert figures["first_played_ms"] == lat.total_ms
    assert not any(isinstance(e, RecordTurn | RecordLatency) for e in d.ticks())  # once only
    assert user.role == "user" and user.text and not user.partial
    assert assistant.role == "assistant" and assistant.text and not assistant.interrupted
    assert (
        assistant.latency is not None
        and assistant.latency.first_audible_ns == d.audible[plays[0].item_id]
    )


def test_openai_golden_interrupt_truncates_to_what_was_heard() -> None:
    d = Driver(options=ConversationOptions(turn_detection="server"))
    d.connect()
    events = golden_events("openai_interrupt.jsonl")
    cut = next(i for i, e in enumerate(events) if isinstance(e, SpeechStarted))
    d.feed(*events[:cut])
    item = next(e.item_id for e in events if isinstance(e, AudioDelta))
    received_ms = sum(len(e.pcm) / 2 / 24 for e in events[:cut] if isinstance(e, AudioDelta))
    d.playing, d.played[item] = True, 180
    out = d.feed(events[cut])
    clear = next(e for e in out if isinstance(e, ClearPlayback))
    assert clear == ClearPlayback(item, done_by_engine=False)
    assert sends(out) == [CancelResponse(), Truncate(item_id=item, played_ms=180)]
    assert out.index(clear) < out.index(Send(CancelResponse()))
    assert d.core.state == State.USER_SPEAKING
    d.playing = False
    rest = d.feed(*events[cut + 1 :])
    assert EndPlaybackItem(item, cut=True) in rest
    assert not any(isinstance(e, Play) for e in rest)
    assert not any(isinstance(c, Truncate) for c in sends(rest))  # at most once per item
    turn = next(t for t in d.core.turns() if t.role == "assistant")
    assert turn.interrupted and turn.played_ms == 180
    assert turn.received_ms == round(received_ms)
    assert turn.heard_text and turn.text.startswith(turn.heard_text)


def test_gemini_golden_interrupted_stops_playing_and_sends_nothing() -> None:
    d = Driver(provider="gemini")
    d.connect()
    events = golden_events("gemini_interrupted.jsonl")
    first_audio = next(i for i, e in enumerate(events) if isinstance(e, AudioDelta))
    d.feed(*events[: first_audio + 1])
    d.playing = True
    out = d.feed(*events[first_audio + 1 :])
    assert any(isinstance(e, ClearPlayback) for e in out)
    assert not any(isinstance(c, CancelResponse | Truncate) for c in sends(out))


def test_gemini_golden_turn_completes() -> None:
    d = Driver(provider="gemini")
    d.feed(Connecting())
    d.feed(*golden_events("gemini_turn.jsonl"))
    out = d.ticks()
    assert [e.count for e in out if isinstance(e, TurnCompleted)] == [1]
    assert [t.role for t in d.core.turns()] == ["user", "assistant"]


def test_replaying_a_recording_gives_the_same_effects() -> None:
    def run() -> list[Effect]:
        d = Driver(options=ConversationOptions(turn_detection="server"))
        d.feed(Connecting())
        d.feed(*golden_events("openai_turn.jsonl"))
        d.ticks()
        return d.effects

    assert run() == run()


# ---------------------------------------------------------------------- barge-in


def reply(d: Driver, item: str = "a1", ms: int = 1000) -> None:
    d.feed(
        ResponseStarted("r1"),
        TranscriptDelta(item, "one two three four five six seven eight nine ten"),
        AudioDelta(item, b"\0\0" * 24 * ms, 24000),
    )
    d.playing = True


def test_local_voice_barge_in_clears_then_cancels_and_truncates() -> None:
    d = Driver()
    d.connect()
    reply(d)
    d.played["a1"] = 400
    out = d.feed(VoiceStarted(d.now))
    kinds = [type(e).__name__ for e in out if isinstance(e, ClearPlayback | Send)]
    assert kinds[:3] == ["ClearPlayback", "Send", "Send"]
    assert sends(out)[:3] == [CancelResponse(), Truncate("a1", 400), ActivityStart()]
    assert any(isinstance(e, RecordMark) and e.kind == "barge_in" for e in out)
    assert d.core.state == State.USER_SPEAKING
    turn = next(t for t in d.core.turns() if t.role == "assistant")
    assert (turn.played_ms, turn.received_ms) == (400, 1000)
    assert turn.heard_text == "one two three four"
    # recorded when its response ends (cancelled): interrupted, the whole generated text
    out = d.feed(ResponseDone("r1", "cancelled"))
    (rec,) = [e for e in out if isinstance(e, RecordTurn)]
    assert (rec.role, rec.item_id, rec.status) == ("assistant", "a1", "interrupted")
    assert rec.text == turn.text


def test_a_reply_cut_after_its_response_ended_and_the_end_flush() -> None:
    d = Driver()
    d.connect()
    reply(d)
    d.feed(ResponseDone("r1", "completed"))
    d.played["a1"] = 300
    out = d.feed(VoiceStarted(d.now))
    (rec,) = [e for e in out if isinstance(e, RecordTurn)]
    assert (rec.item_id, rec.status) == ("a1", "interrupted")
    reply(d, "a2")  # a reply still streaming when the conversation ends
    out = d.feed(StopRequested(), Ended())
    (rec,) = [e for e in out if isinstance(e, RecordTurn)]
    assert (rec.item_id, rec.status) == ("a2", "incomplete")


def test_engine_barge_in_uses_the_engines_position_and_does_not_clear_again() -> None:
    d = Driver()
    d.connect()
    reply(d)
    # the engine reports VoiceStarted then BargeIn in one process() call; the player has not
    # reported a position yet, so only the engine's figure truncates
    out = d.feed(VoiceStarted(d.now), BargeIn(d.now, "a1", 250))
    assert ClearPlayback("a1", done_by_engine=True) in out
    assert [c for c in sends(out) if isinstance(c, Truncate | CancelResponse)] == [
        CancelResponse(),
        Truncate("a1", 250),
    ]


def test_engine_barge_in_alone() -> None:
    d = Driver()
    d.connect()
    reply(d)
    out = d.feed(BargeIn(d.now, "a1", 250))
    assert ClearPlayback("a1", done_by_engine=True) in out
    assert Truncate("a1", 250) in sends(out)


def test_truncate_is_clamped_to_received_and_never_at_zero() -> None:
    d = Driver()
    d.connect()
    reply(d, ms=300)
    out = d.feed(BargeIn(d.now, "a1", 900))  # the player claims more than arrived
    assert Truncate("a1", 300) in sends(out)
    d2 = Driver()
    d2.connect()
    reply(d2)
    out = d2.feed(BargeIn(d2.now, "a1", 0))
    assert CancelResponse() in sends(out)
    assert not any(isinstance(c, Truncate) for c in sends(out))


def test_audio_for_a_cut_item_is_dropped() -> None:
    d = Driver()
    d.connect()
    reply(d)
    d.feed(BargeIn(d.now, "a1", 100))
    out = d.feed(AudioDelta("a1", b"\0\0" * 2400, 24000))
    assert not any(isinstance(e, Play) for e in out)


def test_typed_text_interrupts_the_reply_and_asks() -> None:
    d = Driver()
    d.connect()
    reply(d)
    d.played["a1"] = 200
    out = d.feed(TypeText("  what is that?  "))
    assert sends(out) == [
        CancelResponse(),
        Truncate("a1", 200),
        SendText("what is that?", respond=True),
    ]
    assert d.core.state == State.THINKING
    assert MarkSpeech(True, d.now) in out and PollFrame() in out


# ---------------------------------------------------------------------- modes and the mic


def test_push_to_talk_opens_and_closes_a_turn() -> None:
    d = Driver(options=ConversationOptions(mode=Mode.PUSH_TO_TALK))
    d.connect()
    pcm = b"\1\0" * 480
    d.feed(MicAudio(b"\1\0" * 320, pcm, 24000, d.now))  # before the press: pre-roll only
    out = d.feed(Talk(True), MicAudio(b"\1\0" * 320, pcm, 24000, d.now), Talk(False))
    assert PressTalk(True) in out and PressTalk(False) in out
    assert without_audio(sends(out)) == [ActivityStart(), ActivityEnd()]
    assert sum(isinstance(c, AppendAudio) for c in sends(out)) == 1  # pre-roll is hands-free
    assert states(out) == [State.USER_SPEAKING, State.THINKING]
    assert sum(isinstance(e, RecordMic) for e in d.effects) == 2
    press_ns, release_ns = d.now - 2 * MS, d.now
    out = d.feed(InputTranscript("hello there", True, "u1"))
    assert [e for e in out if isinstance(e, RecordTurn)] == [
        RecordTurn("user", "hello there", "u1", d.now, press_ns, release_ns, "voice", "completed")
    ]


def test_a_late_transcription_keeps_the_times_of_its_turn() -> None:
    """OpenAI may transcribe the user's turn after the reply ended: its recorded times are the
    ones of that turn, not of whatever comes next."""
    d = Driver(options=ConversationOptions(turn_detection="server"))
    d.connect()
    d.feed(SpeechStarted(0, "u1"))
    start_ns = d.now
    d.feed(SpeechStopped(900, "u1"))
    end_ns = d.now
    d.feed(InputCommitted("u1"))
    reply(d)
    d.feed(ResponseDone("r1", "completed"))
    d.feed(SpeechStarted(0, "u2"))  # the user goes on before the transcription arrives
    out = d.feed(InputTranscript("first question", True, "u1"))
    (rec,) = [e for e in out if isinstance(e, RecordTurn)]
    assert (rec.text, rec.t_start_ns, rec.t_end_ns) == ("first question", start_ns, end_ns)


def test_a_local_voice_start_before_the_providers_marks_the_turn_start() -> None:
    d = Driver(options=ConversationOptions(turn_detection="server"))
    d.connect()
    d.feed(VoiceStarted(d.now - 50 * MS))
    local_start = d.now - MS - 50 * MS
    d.feed(SpeechStarted(0, "u1"), SpeechStopped(900, "u1"), InputCommitted("u1"))
    out = d.feed(InputTranscript("a question", True, "u1"))
    (rec,) = [e for e in out if isinstance(e, RecordTurn)]
    assert rec.t_start_ns == local_start


def test_client_vad_turn_sends_preroll_first() -> None:
    d = Driver(options=ConversationOptions(preroll_ms=100))
    d.connect()
    pcm = b"\1\0" * 480  # 20 ms at 24 kHz
    d.feed(*[MicAudio(b"", pcm, 24000, d.now) for _ in range(10)])
    out = d.feed(VoiceStarted(d.now))
    cmds = sends(out)
    assert isinstance(cmds[0], ActivityStart)
    assert isinstance(cmds[1], AppendAudio) and len(cmds[1].pcm) == 5 * len(pcm)
    out = d.feed(VoiceStopped(d.now))
    assert sends(out) == [ActivityEnd()]


def test_toggle_mute_and_back() -> None:
    d = Driver(options=ConversationOptions(mode=Mode.TOGGLE))
    d.connect()
    d.feed(Talk(True))
    out = d.feed(Mute(True))
    assert sends(out) == [ActivityEnd(), AudioStreamEnd()]
    assert ModeChanged(Mode.MUTE) in out
    out = d.feed(MicAudio(b"\1\0", b"\1\0", 24000, d.now))
    assert sends(out) == []
    out = d.feed(Mute(False))
    assert ModeChanged(Mode.TOGGLE) in out and d.core.mode == Mode.TOGGLE


def test_switching_to_server_detection_updates_the_session() -> None:
    d = Driver(options=ConversationOptions(mode=Mode.PUSH_TO_TALK, turn_detection="server"))
    d.connect()
    out = d.feed(SetMode(Mode.HANDS_FREE))
    (update,) = sends(out)
    assert update.config.turn_detection.mode == "server_vad"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- states


def test_illegal_moves_raise_and_history_is_bounded() -> None:
    sm = StateMachine()
    with pytest.raises(InvalidTransition):
        sm.go(State.THINKING)
    for _ in range(HISTORY):
        sm.go(State.CONNECTING)
        sm.go(State.IDLE)
    assert len(sm.history) == HISTORY


def test_turn_moves_wait_for_the_session() -> None:
    d = Driver()
    d.feed(Connecting())
    out = d.feed(TypeText("hello"), Talk(True))
    assert d.core.state == State.CONNECTING and states(out) == []
    assert sends(out) == []  # nothing goes out before the session is ready


def test_loading_connecting_error_and_idle() -> None:
    d = Driver()
    out = d.feed(
        Connecting(),
        LoadingProgress(Loading(1, 3, "speech")),
        LoadingProgress(Loading(3, 3, "ready")),
    )
    assert states(out) == [State.CONNECTING, State.LOADING, State.CONNECTING]
    out = d.feed(ConnectFailed("no server"), Ended())
    assert states(out) == [State.ERROR] and d.core.error == "no server"
    d2 = Driver()
    d2.connect()
    out = d2.feed(Closed(1006, "gone", by_client=False))
    assert states(out) == [State.ERROR] and "closed unexpectedly" in d2.core.error
    d3 = Driver()
    d3.connect()
    out = d3.feed(StopRequested(), Closed(1000, "bye", by_client=False), Ended())
    assert states(out) == [State.IDLE]


def test_usage_and_turn_updates_are_typed_events() -> None:
    d = Driver(has_player=False)
    d.connect()
    reply(d)
    out = d.feed(ResponseDone("r1", "completed", Usage(input_tokens=10, output_tokens=5)))
    spend = next(e.spend for e in out if isinstance(e, SpendChanged))
    assert spend.usage.input_tokens == 10 and spend.line
    assert any(isinstance(e, TurnUpdated) and e.turn.role == "assistant" for e in out)
    assert [e.count for e in out if isinstance(e, TurnCompleted)] == [1]  # no player: no drain
