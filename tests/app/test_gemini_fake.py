"""The assistant with the real Gemini core against the scripted fake Gemini Live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.assistant import Assistant
from app.backends import Backend
from app.file_audio import FileAudio
from app.frames import FrameFeed
from app.modes import ConversationOptions
from app.state import ConversationState as S
from dsp.pcm import read_wav
from realtime import gemini, gemini_endpoint
from tests.app.fakes import FakeThread
from tests.fakes.fake_gemini import FakeGemini
from video.file import FileSource

KEY = "gemini-test-key-0123456789"


@pytest.fixture
def fake() -> Iterator[FakeThread]:
    ft = FakeThread(FakeGemini(api_key=KEY, chunk_delay_s=0.02))
    yield ft
    ft.close()
    assert not ft.fake.client_errors, ft.fake.client_errors
    assert not ft.fake.fake_errors, ft.fake.fake_errors


def backend(ft: FakeThread) -> Backend:
    return Backend(
        name="gemini",
        provider="gemini",
        model=gemini.DEFAULT_MODEL,
        voice="Puck",
        input_rate_hz=16000,
        free=False,
        session_cap_s=None,
        endpoint=lambda: gemini_endpoint.endpoint(KEY, base_url=ft.fake.base_url),
        reconnect=False,
    )


def test_turn_with_frame_and_cost(fake: FakeThread, media_dir: Path, tmp_path: Path) -> None:
    audio = FileAudio(
        media_dir / "speech" / "q02_piper.wav", tmp_path / "r.wav", send_rate_hz=16000
    )
    frames = FrameFeed(FileSource(media_dir / "video" / "desk.png", loop=True, still_fps=5.0))
    a = Assistant(backend(fake), audio, frames, ConversationOptions())
    try:
        a.start()
        snap = a.wait_for(lambda s: s.completed_turns >= 1 and s.state == S.LISTENING, 30)
        assert snap is not None, a.snapshot()
        types = [fake.fake._type_of(m) for m in fake.fake.current.received]
        assert "realtimeInput.activityStart" in types and "realtimeInput.activityEnd" in types
        assert "realtimeInput.video" in types  # the desk frame at speech start
        assert types.index("realtimeInput.activityStart") < types.index("realtimeInput.audio")
        assistant = [t for t in snap.turns if t.role == "assistant"]
        assert assistant[-1].text == "I can see a desk with a red mug."
        assert snap.usage.total_tokens == 260 and snap.cost_usd and snap.cost_usd > 0
    finally:
        a.close()
    assert audio.played_audio()[1] == 24000


def test_barge_in_stops_playing_without_cancel_or_truncate(
    fake: FakeThread, media_dir: Path, tmp_path: Path
) -> None:
    fake.fake.reply_audio_ms = 5000
    fake.fake.chunk_delay_s = 0.1
    second, rate = read_wav(media_dir / "speech" / "q08_piper.wav")
    audio = FileAudio(media_dir / "speech" / "q02_piper.wav", None, send_rate_hz=16000)
    a = Assistant(backend(fake), audio, None, ConversationOptions())
    try:
        a.start()
        assert a.wait_for(lambda s: s.state == S.ASSISTANT_SPEAKING, 30), a.snapshot()
        audio.feed(second, rate)
        snap = a.wait_for(lambda s: any(t.interrupted for t in s.turns), 30)
        assert snap is not None, a.snapshot()
        fake.call(fake.fake.interrupt)  # the server confirms; nothing is cleared twice
        turn = next(t for t in snap.turns if t.interrupted)
        assert 0 < turn.played_ms < 5000
        assert audio.played_ms(turn.item_id) == turn.played_ms  # nothing played after the cut
        # the user's new turn opens right after the local cut
        fake.call(fake.fake.wait_for, "realtimeInput.activityStart", count=2)
    finally:
        a.close()
