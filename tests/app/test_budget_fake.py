"""The spend limit end to end: the assistant, a real session to the scripted fake OpenAI server
(every client message validated by the SDK's types), a real recorder and a real daily total.

The fake stands in for the paid service: the backend is the loopback URL's, priced as
``gpt-realtime`` (``free=False``), so the limit is computed from the real price table.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app import core_budget
from app.assistant import Assistant, AssistantSnapshot
from app.backends import resolve
from app.compose import build_recorder
from app.config import Settings
from app.day_spend import DaySpend
from app.model import BudgetChanged, BudgetLevel, ModelEvent
from app.modes import ConversationOptions
from app.pricing import CostMeter, PriceTable
from app.state import ConversationState as S
from realtime.budget import Limits
from realtime.events import Usage
from tests.app.fakes import FakeAudio, FakeThread
from tests.fakes.fake_openai import FakeOpenAI

KEY = "sk-test-budget-fake-key-0123456789"
T = 15.0
#: The fake's usage of every reply (``FakeOpenAI._respond``), in the core's terms.
FAKE_USAGE = Usage(
    input_tokens=120,
    output_tokens=45,
    input_text_tokens=20,
    input_audio_tokens=100,
    output_text_tokens=10,
    output_audio_tokens=35,
)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeThread]:
    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", KEY)
    ft = FakeThread(FakeOpenAI(api_key=KEY))
    yield ft
    ft.close()
    assert not ft.fake.client_errors, ft.fake.client_errors  # every client message validated
    assert not ft.fake.fake_errors, ft.fake.fake_errors


def wait(a: Assistant, pred, what: str) -> AssistantSnapshot:  # type: ignore[no-untyped-def]
    snap = a.wait_for(pred, T)
    assert snap is not None, f"timed out waiting for {what}; snapshot: {a.snapshot()}"
    return snap


def sent_types(fake: FakeThread) -> list[str]:
    return [t for c in fake.fake.connections for t in c.types()]


def after_one_reply() -> float:
    """What the real meter projects once one of the fake's replies was spent."""
    probe = core_budget.new_meter(CostMeter(PriceTable.load(), "gpt-realtime"), "openai")
    probe.response_done(FAKE_USAGE)
    nxt = probe.next_turn_usd()
    assert nxt is not None
    return probe.session_usd + nxt


def paid(fake: FakeThread):  # type: ignore[no-untyped-def]
    return replace(resolve(fake.url, reconnect=False), free=False)


def finish(a: Assistant, audio: FakeAudio, turns: int) -> AssistantSnapshot:
    """Play the replies out (as their audio arrives) until ``turns`` have completed."""
    deadline = time.monotonic() + T
    while time.monotonic() < deadline:
        audio.finish_playback()
        snap = a.snapshot()
        if snap.completed_turns >= turns and snap.state == S.LISTENING:
            return snap
        time.sleep(0.05)
    raise AssertionError(f"reply {turns} never completed: {a.snapshot()}")


def talk(audio: FakeAudio, chunks: int, ms: int = 100) -> None:
    audio.voice(True)
    for _ in range(chunks):
        audio.mic(ms=ms)
    audio.voice(False)


def test_budget_reached_mid_session_stops_sending_keeps_recording_and_text(
    fake: FakeThread, tmp_path: Path
) -> None:
    from realtime.recording.reader import SessionFile

    spec = paid(fake)
    audio = FakeAudio()
    recorder = build_recorder(Settings(), spec, directory=tmp_path / "sessions")
    day = DaySpend(tmp_path / "spend.json")
    levels: list[BudgetLevel] = []

    def on_event(e: ModelEvent) -> None:
        if isinstance(e, BudgetChanged):
            levels.append(e.status.level)

    a = Assistant(
        spec,
        audio,
        options=ConversationOptions(),
        recorder=recorder,
        budget=Limits(session_usd=after_one_reply() / 0.9),
        day_spend=day,
    )
    a.subscribe(on_event)
    try:
        a.start()
        wait(a, lambda s: s.state == S.LISTENING, "listening")
        # Turn 1: within the budget; its cost brings the next turn to 90 % of it.
        talk(audio, 5)
        snap = wait(a, lambda s: s.budget is not None and s.budget.level != "ok", "a warning")
        assert snap.budget is not None and snap.budget.level is BudgetLevel.WARNING
        assert "90%" in snap.budget.message
        finish(a, audio, 1)
        appends_1 = sent_types(fake).count("input_audio_buffer.append")
        assert appends_1 >= 5

        # Turn 2: the user keeps talking until the next turn would pass the budget.
        audio.voice(True)
        for _ in range(60):
            audio.mic(ms=1000)
        snap = wait(a, lambda s: s.budget is not None and s.budget.level == "stopped", "stop")
        assert "budget" in snap.notice and "no longer sent" in snap.notice  # said plainly
        assert snap.budget is not None and snap.budget.message == snap.notice
        # Still talking after the stop: recorded, not sent.
        for _ in range(5):
            audio.mic(ms=200)
        audio.voice(False)
        time.sleep(0.3)

        # Text still works (and is answered).
        a.send_text("How much did that cost?")
        snap = finish(a, audio, 2)
        types = sent_types(fake)
        # turn 2 opened with a clear (OpenAI's activity start), the stop ends it with another
        stop = len(types) - 1 - types[::-1].index("input_audio_buffer.clear")
        assert types.count("input_audio_buffer.clear") == 3, types
        assert "input_audio_buffer.append" in types[appends_1:stop]
        after_stop = types[stop:]
        assert "input_audio_buffer.append" not in after_stop  # no audio after the stop
        assert "input_audio_buffer.commit" not in after_stop  # the cut turn was not answered
        assert "conversation.item.create" in after_stop and "response.create" in after_stop
        ok, warn, stop_level = BudgetLevel.OK, BudgetLevel.WARNING, BudgetLevel.STOPPED
        assert levels == [ok, warn, stop_level, stop_level]  # the last: after the text reply
        users = [t.text for t in snap.turns if t.role == "user"]
        assert users == ["What is on my desk?", "How much did that cost?"]  # cut turn dropped
    finally:
        a.close()
        status = recorder.close()

    # The recording is intact: the microphone after the stop, both replies, their usage.
    assert status.path is not None
    with SessionFile(status.path) as f:
        mic = list(f.mic_chunks())
        assert sum(c.duration_ms for c in mic) >= 60_000 + 5 * 200 + 5 * 100 - 50
        assert len(f.usage()) == 2
        roles = [t.role for t in f.turns()]
        assert roles.count("assistant") == 2 and "How much did that cost?" in [
            t.text for t in f.turns()
        ]
    # The day's total holds both replies and survives a restart (a new store, same file).
    price = PriceTable.load().lookup("gpt-realtime")
    assert price is not None
    assert DaySpend(tmp_path / "spend.json").today_usd() == pytest.approx(
        2 * price.cost(FAKE_USAGE)
    )


def test_the_daily_total_survives_a_restart_and_counts_against_the_day(
    fake: FakeThread, tmp_path: Path
) -> None:
    spend_file = tmp_path / "config" / "spend.json"
    one_reply = PriceTable.load().lookup("gpt-realtime")
    assert one_reply is not None
    cost = one_reply.cost(FAKE_USAGE)

    def session(limits: Limits) -> AssistantSnapshot:
        a = Assistant(paid(fake), FakeAudio(), budget=limits, day_spend=DaySpend(spend_file))
        try:
            a.start()
            snap = wait(a, lambda s: s.state == S.LISTENING and s.budget is not None, "ready")
            if snap.budget is not None and snap.budget.level is BudgetLevel.STOPPED:
                return snap
            a.send_text("What is on my desk?")
            return wait(a, lambda s: s.cost_usd not in (None, 0.0), "a spent reply")
        finally:
            a.close()

    first = session(Limits())  # no budget: the spend is still kept
    assert first.cost_usd == pytest.approx(cost)
    assert DaySpend(spend_file).today_usd() == pytest.approx(cost)
    # "Restart": a new assistant and store; a day budget just above what was spent today.
    second = session(Limits(day_usd=cost * 1.05))
    assert second.budget is not None
    assert second.budget.level is BudgetLevel.STOPPED and second.budget.which == "day"
    assert second.budget.day_usd == pytest.approx(cost)
    assert "day budget" in second.notice


def test_gemini_with_the_day_budget_spent_sends_no_voice_or_frames_but_answers_text(
    media_dir: Path, tmp_path: Path
) -> None:
    from app.backends import Backend
    from app.file_audio import FileAudio
    from app.frames import FrameFeed
    from realtime import gemini, gemini_endpoint
    from tests.fakes.fake_gemini import FakeGemini
    from video.file import FileSource

    key = "gemini-test-budget-key-0123456789"
    ft = FakeThread(FakeGemini(api_key=key))
    spec = Backend(
        name="gemini",
        provider="gemini",
        model=gemini.DEFAULT_MODEL,
        voice="Puck",
        input_rate_hz=16000,
        free=False,
        session_cap_s=None,
        endpoint=lambda: gemini_endpoint.endpoint(key, base_url=ft.fake.base_url),
        reconnect=False,
    )
    day = DaySpend(tmp_path / "spend.json")
    assert day.add(2.0) == ""  # spent earlier today
    audio = FileAudio(media_dir / "speech" / "q02_piper.wav", None, send_rate_hz=16000)
    frames = FrameFeed(FileSource(media_dir / "video" / "desk.png", loop=True, still_fps=5.0))
    a = Assistant(
        spec, audio, frames, ConversationOptions(), budget=Limits(day_usd=2.0), day_spend=day
    )
    try:
        a.start()
        snap = wait(a, lambda s: s.budget is not None and s.budget.level == "stopped", "stop")
        assert "day budget of $2.00 is reached" in snap.notice
        deadline = time.monotonic() + T
        while not audio.input_finished and time.monotonic() < deadline:
            time.sleep(0.05)  # the spoken question plays into the microphone
        assert audio.input_finished
        a.send_text("What is on my desk?")
        snap = wait(a, lambda s: s.completed_turns >= 1 and s.state == S.LISTENING, "a reply")
        types = [ft.fake._type_of(m) for m in ft.fake.current.received]
        assert "realtimeInput.text" in types
        assert not {
            "realtimeInput.audio",
            "realtimeInput.video",
            "realtimeInput.activityStart",
        } & set(types)
        assert [t.text for t in snap.turns if t.role == "assistant"][-1]
        assert snap.budget is not None and snap.budget.level is BudgetLevel.STOPPED
    finally:
        a.close()
        ft.close()
    assert not ft.fake.client_errors, ft.fake.client_errors
    assert not ft.fake.fake_errors, ft.fake.fake_errors
    assert DaySpend(tmp_path / "spend.json").today_usd() > 2.0  # the text reply was counted
