"""The app's own OpenAI core and session talk to the offline server unchanged: a spoken turn,
then barge-in (CancelResponse + Truncate) through the provider-neutral commands."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dsp.pcm import read_wav
from dsp.resample import resample
from realtime import events as ev
from realtime.openai import OpenAICore
from realtime.openai_endpoint import endpoint
from realtime.session import RealtimeSession

pytestmark = pytest.mark.models


def test_app_core_spoken_turn_and_barge_in(local_server: Any, media_dir: Any) -> None:
    pcm16, _ = read_wav(media_dir / "speech" / "q04_piper.wav")
    pcm24 = resample(pcm16, 16000, 24000)

    async def run() -> list[Any]:
        session = RealtimeSession(
            OpenAICore(), endpoint(local_server.token, "voicecam-local", local_server.base_url)
        )
        got: list[Any] = []
        await session.connect(ev.SessionConfig(instructions="Be brief."))
        it = session.events().__aiter__()

        async def until(kind: type) -> Any:
            while True:
                e = await asyncio.wait_for(it.__anext__(), 90)
                got.append(e)
                if isinstance(e, kind):
                    return e

        for i in range(0, len(pcm24), 1920):
            await session.send(ev.AppendAudio(pcm24[i : i + 1920], 24000))
        await until(ev.ResponseDone)
        while not any(isinstance(e, ev.InputTranscript) and e.final for e in got):
            await until(ev.InputTranscript)
        # Barge-in: a long reply, cancel at its first audio, truncate to what was "played".
        await session.send(
            ev.SendText("Tell me a story about a robot who learns to paint, in three sentences.")
        )
        first = await until(ev.AudioDelta)
        await session.send(ev.CancelResponse())
        done = await until(ev.ResponseDone)
        if done.status == "cancelled":
            await session.send(ev.Truncate(first.item_id, 200))
            await until(ev.ItemTruncated)
        await session.close()
        return got

    got = asyncio.run(run())
    bad = [e for e in got if isinstance(e, ev.ServerError | ev.ProtocolViolation)]
    assert not bad, bad
    heard = [e.text for e in got if isinstance(e, ev.InputTranscript) and e.final]
    assert any("12" in t or "twelve" in t.lower() for t in heard), heard
    said = [e.text for e in got if isinstance(e, ev.TranscriptDone)]
    assert "84" in said[0]
    first_done = next(e for e in got if isinstance(e, ev.ResponseDone))
    assert first_done.usage is not None and first_done.usage.output_audio_tokens > 0
    assert any(isinstance(e, ev.AudioDelta) and e.rate_hz == 24000 for e in got)
