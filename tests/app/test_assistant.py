"""The assistant against a fake audio port and a scripted in-process session (no network)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.assistant import Assistant, AssistantSnapshot
from app.model import StateChanged
from app.modes import ConversationOptions, Mode
from app.state import ConversationState as S
from realtime.events import (
    ActivityEnd,
    ActivityStart,
    AppendAudio,
    AudioDelta,
    CancelResponse,
    Closed,
    InputCommitted,
    InputTranscript,
    Interrupted,
    ResponseDone,
    ResponseStarted,
    SendText,
    ServerError,
    SpeechStarted,
    TranscriptDelta,
    TranscriptDone,
    Truncate,
    Usage,
)
from tests.app.fakes import FakeAudio, FakeSpec

T = 5.0
ONE_SECOND_24K = b"\x00\x01" * 24000


def wait_state(a: Assistant, *states: S) -> AssistantSnapshot:
    snap = a.wait_for(lambda s: s.state in states, T)
    assert snap is not None, f"state {a.snapshot().state} never became {states}"
    return snap


def wait_until(a: Assistant, pred, what: str) -> AssistantSnapshot:  # type: ignore[no-untyped-def]
    snap = a.wait_for(lambda s: pred(s), T)
    assert snap is not None, f"timed out waiting for {what}; snapshot: {a.snapshot()}"
    return snap


def wait_sent(spec: FakeSpec, pred, what: str) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + T
    while time.monotonic() < deadline:
        if pred(spec.sent):
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}; sent: {spec.sent!r}"[:2000])


@pytest.fixture
def rig() -> Iterator[tuple[Assistant, FakeSpec, FakeAudio]]:
    spec = FakeSpec()
    audio = FakeAudio()
    audio.calls = spec.sent  # one log: playback clears and commands interleaved in order
    a = Assistant(spec, audio, options=ConversationOptions(mode=Mode.HANDS_FREE))
    yield a, spec, audio
    a.close()


def start(a: Assistant) -> None:
    a.start()
    wait_state(a, S.LISTENING)


def speak_reply(spec: FakeSpec, a: Assistant, item: str = "a1", text: str = "") -> None:
    s = spec.sessions[-1]
    s.emit(ResponseStarted("r1"), AudioDelta(item, ONE_SECOND_24K, 24000))
    if text:
        s.emit(TranscriptDelta(item, text))
    wait_state(a, S.ASSISTANT_SPEAKING)


def test_barge_in_clears_then_cancels_then_truncates_at_played_position(rig) -> None:  # type: ignore[no-untyped-def]
    a, spec, audio = rig
    start(a)
    speak_reply(spec, a, "a1", "one two three four five six seven eight nine ten")
    audio.advance("a1", 400)
    audio.voice(True)
    wait_sent(spec, lambda s: any(isinstance(c, Truncate) for c in s), "truncate")
    tail = [c for c in spec.sent if not isinstance(c, AppendAudio)]
    i = tail.index(("clear", "a1"))
    assert isinstance(tail[i + 1], CancelResponse)
    assert tail[i + 2] == Truncate(item_id="a1", played_ms=400)
    # audio still arriving for the cut item is not played
    spec.sessions[-1].emit(AudioDelta("a1", ONE_SECOND_24K, 24000))
    snap = wait_until(
        a, lambda s: any(t.interrupted for t in s.turns), "interrupted assistant turn"
    )
    assert [c for c in spec.sent if c == ("play", "a1")] == [("play", "a1")]
    turn = next(t for t in snap.turns if t.role == "assistant")
    assert turn.played_ms == 400 and turn.received_ms == 1000
    assert turn.heard_text == "one two three four"
    assert turn.unheard_text.startswith("five")
    assert snap.state == S.USER_SPEAKING


def test_barge_in_reported_by_engine_is_not_cleared_twice(rig) -> None:  # type: ignore[no-untyped-def]
    a, spec, audio = rig
    start(a)
    speak_reply(spec, a, "a1")
    audio.advance("a1", 250)
    audio.engine_barge_in()
    wait_sent(spec, lambda s: any(isinstance(c, Truncate) for c in s), "truncate")
    assert ("clear", "a1") not in spec.sent  # the engine already cleared
    assert Truncate("a1", 250) in spec.sent
    assert sum(isinstance(c, Truncate) for c in spec.sent) == 1


def test_nothing_played_means_no_truncate_at_zero(rig) -> None:  # type: ignore[no-untyped-def]
    a, spec, audio = rig
    start(a)
    speak_reply(spec, a, "a1")
    audio.voice(True)
    wait_sent(spec, lambda s: any(isinstance(c, CancelResponse) for c in s), "cancel")
    assert not any(isinstance(c, Truncate) for c in spec.sent)


def test_gemini_barge_in_only_stops_playing() -> None:
    spec = FakeSpec(provider="gemini", model="gemini-live-2.5-flash", input_rate_hz=16000)
    audio = FakeAudio()
    audio.calls = spec.sent
    a = Assistant(spec, audio, options=ConversationOptions(turn_detection="server"))
    try:
        start(a)
        speak_reply(spec, a, "g1")
        audio.advance("g1", 300)
        audio.voice(True)
        wait_sent(spec, lambda s: ("clear", "g1") in s, "clear")
        spec.sessions[-1].emit(Interrupted())
        wait_until(a, lambda s: any(t.interrupted for t in s.turns), "interrupted")
        assert not any(isinstance(c, CancelResponse | Truncate) for c in spec.sent)
        assert audio.send_rate == 16000
    finally:
        a.close()


def test_server_speech_started_during_playback_flushes_and_truncates() -> None:
    spec = FakeSpec()
    audio = FakeAudio()
    audio.calls = spec.sent
    a = Assistant(spec, audio, options=ConversationOptions(turn_detection="server"))
    try:
        start(a)
        assert spec.sessions[-1].config.turn_detection.mode == "server_vad"
        speak_reply(spec, a, "a1")
        audio.advance("a1", 700)
        spec.sessions[-1].emit(SpeechStarted(audio_start_ms=100, item_id="u2"))
        wait_sent(spec, lambda s: Truncate("a1", 700) in s, "truncate")
        assert spec.sent.index(("clear", "a1")) < spec.sent.index(Truncate("a1", 700))
    finally:
        a.close()


def test_push_to_talk_sends_audio_only_while_held(rig) -> None:  # type: ignore[no-untyped-def]
    a, spec, audio = rig
    a.set_mode(Mode.PUSH_TO_TALK)
    start(a)
    assert spec.sessions[-1].config.turn_detection.mode == "none"
    audio.mic()
    audio.voice(True)  # VAD onsets do not open the mic in push-to-talk
    audio.mic()
    wait_until(a, lambda s: s.state == S.LISTENING, "listening")
    import time

    time.sleep(0.1)
    assert not any(isinstance(c, AppendAudio | ActivityStart) for c in spec.sent)
    a.push_to_talk(True)
    wait_state(a, S.USER_SPEAKING)
    audio.mic()
    audio.mic()
    wait_sent(spec, lambda s: sum(isinstance(c, AppendAudio) for c in s) >= 2, "audio")
    a.push_to_talk(False)
    wait_state(a, S.THINKING)
    cmds = [c for c in spec.sent if not isinstance(c, tuple)]
    kinds = [type(c).__name__ for c in cmds]
    assert kinds.index("ActivityStart") < kinds.index("AppendAudio") < kinds.index("ActivityEnd")
    assert all(c.rate_hz == 24000 for c in cmds if isinstance(c, AppendAudio))


def test_toggle_and_mute(rig) -> None:  # type: ignore[no-untyped-def]
    a, spec, audio = rig
    a.set_mode(Mode.TOGGLE)
    start(a)
    a.push_to_talk(True)
    a.push_to_talk(False)  # release does nothing in toggle mode
    wait_state(a, S.USER_SPEAKING)
    a.push_to_talk(True)
    wait_state(a, S.THINKING)
    assert sum(isinstance(c, ActivityEnd) for c in spec.sent) == 1
    a.mute(True)
    wait_until(a, lambda s: s.mode == Mode.MUTE, "mute")
    n = sum(isinstance(c, AppendAudio) for c in spec.sent)
    audio.voice(True)
    audio.mic()
    import time

    time.sleep(0.1)
    assert sum(isinstance(c, AppendAudio) for c in spec.sent) == n
    a.mute(False)
    wait_until(a, lambda s: s.mode == Mode.TOGGLE, "unmuted back to toggle")


def test_hands_free_client_vad_turn_with_preroll(rig) -> None:  # type: ignore[no-untyped-def]
    a, spec, audio = rig
    start(a)
    for _ in range(5):
        audio.mic(ms=20)
    audio.voice(True)
    wait_state(a, S.USER_SPEAKING)
    audio.mic()
    audio.voice(False)
    wait_state(a, S.THINKING)
    cmds = [c for c in spec.sent if not isinstance(c, tuple)]
    assert isinstance(cmds[0], ActivityStart)
    assert isinstance(cmds[1], AppendAudio) and len(cmds[1].pcm) == 5 * 960  # 100 ms pre-roll
    assert isinstance(cmds[-1], ActivityEnd)


def test_text_input(rig) -> None:  # type: ignore[no-untyped-def]
    a, spec, _ = rig
    start(a)
    a.send_text("  what is on my desk?  ")
    wait_state(a, S.THINKING)
    assert SendText("what is on my desk?", respond=True) in spec.sent
    snap = a.snapshot()
    assert snap.turns[-1].role == "user" and snap.turns[-1].typed
    assert snap.turns[-1].text == "what is on my desk?"


def test_whole_turn_states_transcript_latency_and_cost(rig) -> None:  # type: ignore[no-untyped-def]
    a, spec, audio = rig
    seen: list[S] = []

    a.subscribe(lambda e: seen.append(e.state) if isinstance(e, StateChanged) else None)
    start(a)
    audio.voice(True)
    audio.mic()
    audio.voice(False)
    wait_state(a, S.THINKING)
    s = spec.sessions[-1]
    s.emit(
        InputCommitted("u1"),
        InputTranscript("What is ", False, "u1"),
        InputTranscript("What is this?", True, "u1"),
    )
    speak_reply(spec, a, "a1", "It is a mug.")
    usage = Usage(
        input_tokens=1000, output_tokens=500, input_audio_tokens=1000, output_audio_tokens=500
    )
    s.emit(TranscriptDone("a1", "It is a mug."), ResponseDone("r1", "completed", usage))
    audio.finish_playback()
    snap = wait_until(a, lambda s: s.completed_turns == 1, "completed turn")
    assert snap.state == S.LISTENING
    assert [t.role for t in snap.turns] == ["user", "assistant"]
    assert snap.turns[0].text == "What is this?" and not snap.turns[0].partial
    assert snap.turns[1].text == "It is a mug." and not snap.turns[1].interrupted
    assert snap.cost_usd == pytest.approx(1000 * 32e-6 + 500 * 64e-6)
    assert snap.turns[1].cost_usd == pytest.approx(0.064)
    lat = snap.latency[-1]
    assert lat.speech_end_ns and lat.commit_ns and lat.first_byte_ns and lat.first_audible_ns
    assert lat.speech_end_ns <= lat.commit_ns <= lat.first_byte_ns
    a.stop()
    assert a.snapshot().state == S.IDLE
    assert seen == [
        S.CONNECTING,
        S.LISTENING,
        S.USER_SPEAKING,
        S.THINKING,
        S.ASSISTANT_SPEAKING,
        S.LISTENING,
        S.IDLE,
    ]
    assert "close" in spec.sent


def test_local_backend_is_free() -> None:
    spec = FakeSpec(name="local", model="smollm2", free=True)
    a = Assistant(spec, FakeAudio())
    try:
        start(a)
        s = spec.sessions[-1]
        speak_reply(spec, a, "a1")
        s.emit(ResponseDone("r1", "completed", Usage(input_tokens=50, output_tokens=20)))
        snap = wait_until(a, lambda s: s.usage.total_tokens == 70, "usage")
        assert snap.cost_usd == 0.0 and snap.free
        assert "free" in snap.cost_line
    finally:
        a.close()


def test_abrupt_close_is_an_error_a_person_can_act_on(rig) -> None:  # type: ignore[no-untyped-def]
    a, spec, _ = rig
    start(a)
    spec.sessions[-1].emit(ServerError("rate limited", code="rate_limit_exceeded"))
    wait_until(a, lambda s: s.server_errors, "server error")
    assert a.snapshot().state == S.LISTENING  # non-fatal errors keep the session
    spec.sessions[-1].emit(Closed(1006, "connection lost"))
    snap = wait_state(a, S.ERROR)
    assert "closed unexpectedly" in snap.error and "1006" in snap.error
    a.stop()
    a.start()  # a new conversation can start from the error state
    wait_state(a, S.LISTENING)


def test_recording_holds_the_reply_as_played_and_ends_where_it_was_cut(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 7: reply audio as actually played — an interrupted reply ends at the played
    position, not at what the server sent."""
    from realtime.recording.reader import SessionFile
    from realtime.recording.writer import SessionRecorder

    spec = FakeSpec()
    audio = FakeAudio()
    audio.calls = spec.sent
    path = tmp_path / "s.voicecam"
    recorder = SessionRecorder(path, metadata={"backend": "openai", "model": "gpt-realtime"})
    a = Assistant(spec, audio, options=ConversationOptions(mode=Mode.HANDS_FREE), recorder=recorder)
    try:
        start(a)
        speak_reply(spec, a, "a1", "one two three")
        audio.advance("a1", 250)
        audio.advance("a1", 150)
        audio.voice(True)
        wait_sent(spec, lambda s: any(isinstance(c, Truncate) for c in s), "truncate")
        spec.sessions[-1].emit(AudioDelta("a1", ONE_SECOND_24K, 24000))  # late: never played
        wait_until(a, lambda s: any(t.interrupted for t in s.turns), "interrupted turn")
    finally:
        a.close()
        recorder.close()
    chunks = [c for c in SessionFile(path).playback_chunks() if c.item_id == "a1"]
    played_bytes = sum(len(c.pcm) for c in chunks)
    assert played_bytes == 400 * 48, f"{played_bytes / 48} ms recorded, 400 ms were played"
    assert [c.position_ms for c in chunks] == sorted(c.position_ms for c in chunks)


def test_a_failing_recorder_does_not_stop_the_conversation() -> None:
    """RecorderPort methods must not raise; one that does anyway is logged, not fatal."""
    import threading

    from tests.app.fakes import NullRecorder

    failed = threading.Semaphore(0)

    class Broken(NullRecorder):
        def record_mic(self, pcm16: bytes, rate_hz: int, t_ns: int) -> None:
            raise OSError("disk full")

        def record_playback(self, *args: object) -> None:  # type: ignore[override]
            failed.release()
            raise OSError("disk full")

    spec, audio = FakeSpec(), FakeAudio()
    audio.calls = spec.sent
    a = Assistant(spec, audio, recorder=Broken())
    try:
        start(a)
        speak_reply(spec, a)
        audio.advance("a1", 300)
        audio.mic()
        assert failed.acquire(timeout=T)  # the audio pump hit the failing recorder...
        audio.advance("a1", 100)
        assert failed.acquire(timeout=T)  # ...and is still running
        audio.voice(True)
        wait_sent(spec, lambda s: Truncate("a1", 400) in s, "truncate after recorder failures")
        assert a.snapshot().state == S.USER_SPEAKING
    finally:
        a.close()
