"""Speculative replies: prepared during the silence before the turn closes, sent only if adopted.

In process (a real ``Connection`` with the real models, events collected from its ``send``), so
the test can see whether the reply was adopted. All timing is by samples: the audio is appended
in 20 ms pieces as fast as the loop runs, and where the test pauses inside the silence it waits
for a state of the server (the speculative reply has produced its first sentence), not for time.
Every event sent is validated with the official SDK's types.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dsp.pcm import read_wav
from dsp.resample import resample
from realtime.local.brain import Brain
from realtime.local.connection import Connection
from realtime.local.models import Models, load_all
from tests.realtime.sdk_validators import validate_openai_server

pytestmark = pytest.mark.models

CHUNK = 24 * 2 * 20  # 20 ms of 24 kHz PCM16
HANG_GUARD_S = 120.0  # only against a hang; never a performance threshold


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Models, Brain, concurrent.futures.ThreadPoolExecutor]]:
    models = load_all(lambda _what: None)
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=16)
    yield models, Brain(models), executor
    executor.shutdown(wait=True, cancel_futures=True)


def _speech(media_dir: Path, name: str, utterances: list[dict[str, Any]]) -> tuple[bytes, int]:
    """24 kHz PCM16 of the file up to the end of its speech, and that end in bytes."""
    pcm16, rate = read_wav(media_dir / "speech" / name)
    assert rate == 16000
    pcm = resample(pcm16, 16000, 24000)
    end_ms = next(u["speech_end_ms"] for u in utterances if u["file"] == name)
    end = end_ms * 48 // CHUNK * CHUNK
    return pcm[:end], end


def _silence(ms: int) -> bytes:
    return bytes(48 * ms)


class Harness:
    def __init__(self, stack: tuple[Models, Brain, Any], *, speculate: bool) -> None:
        models, brain, executor = stack
        self.events: list[dict[str, Any]] = []
        self.conn = Connection(
            send_text=self._collect,
            models=models,
            brain=brain,
            executor=executor,
            model_name="voicecam-local",
            speculate_replies=speculate,
        )
        self._n = 0

    async def _collect(self, text: str) -> None:
        event = json.loads(text)
        validate_openai_server(event)
        self.events.append(event)

    async def send(self, event: dict[str, Any]) -> None:
        self._n += 1
        await self.conn.handle(json.dumps({"event_id": f"c{self._n}", **event}))

    async def setup(self) -> None:
        await self.conn.start()
        await self.send(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {
                        "input": {
                            "transcription": {"model": "whisper-1"},
                            "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
                        }
                    },
                },
            }
        )

    async def append(self, pcm: bytes) -> None:
        for i in range(0, len(pcm), CHUNK):
            await self.send(
                {
                    "type": "input_audio_buffer.append",
                    "audio": base64.b64encode(pcm[i : i + CHUNK]).decode(),
                }
            )
            await asyncio.sleep(0)

    async def until(self, check: Any) -> None:
        deadline = asyncio.get_running_loop().time() + HANG_GUARD_S
        while not check():
            assert asyncio.get_running_loop().time() < deadline, "server state never reached"
            await asyncio.sleep(0.01)

    def prefetched(self) -> bool:
        p = self.conn.prefetch.prepared
        return p is not None and p.buffered > 0

    def response_done(self) -> bool:
        return any(e["type"] == "response.done" for e in self.events)


def _normalised(events: list[dict[str, Any]], conn: Connection) -> list[str]:
    """Events as JSON with the connection's random id prefix removed (item/response counters
    kept). piper's noise makes the audio's samples and length differ from run to run, so each
    run of audio chunks becomes one marker, event ids (counted past the chunks) are dropped, and
    the audio-dependent usage figures are checked apart."""
    prefix = conn._ids._prefix
    out: list[str] = []
    for e in events:
        if e["type"] == "response.output_audio.delta":
            if out[-1] != "AUDIO":
                out.append("AUDIO")
            continue
        e = {k: v for k, v in e.items() if k != "event_id"}
        if e["type"] == "response.done":
            usage = dict(e["response"]["usage"])
            details = dict(usage.pop("output_token_details"))
            assert details.pop("audio_tokens") > 0
            assert usage.pop("output_tokens") == usage.pop("total_tokens") - usage["input_tokens"]
            e = {**e, "response": {**e["response"], "usage": {**usage, "text": details}}}
        out.append(re.sub(rf"_{prefix}(\d)", r"_X\1", json.dumps(e, sort_keys=True)))
    return out


async def _turn(stack: Any, speech: bytes, *, speculate: bool) -> Harness:
    h = Harness(stack, speculate=speculate)
    await h.setup()
    await h.append(speech + _silence(300))  # silence shorter than silence_duration_ms
    if speculate:
        await h.until(h.prefetched)  # its first sentence is synthesised, nothing sent
    else:
        await h.until(lambda: h.conn.speculator.pending is not None)
        await asyncio.wrap_future(h.conn.speculator.pending)  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert [e["type"] for e in h.events] == [
        "session.created",
        "session.updated",
        "input_audio_buffer.speech_started",
    ]
    await h.append(_silence(700))  # the turn closes
    await h.until(h.response_done)
    assert h.conn.response is not None
    await h.conn.response.finish()
    for bg in list(h.conn.turns.background):
        await bg
    return h


@pytest.mark.parametrize("name", ["q04_piper.wav", "q03_piper.wav"])
def test_adopted_speculative_reply_sends_exactly_the_normal_events(
    stack: Any, media_dir: Path, utterances: list[dict[str, Any]], name: str
) -> None:
    speech, _ = _speech(media_dir, name, utterances)

    async def main() -> tuple[Harness, Harness]:
        return (
            await _turn(stack, speech, speculate=True),
            await _turn(stack, speech, speculate=False),
        )

    spec, plain = asyncio.run(main())
    assert spec.conn.response is not None and plain.conn.response is not None
    assert spec.conn.response.stats.extra.get("speculative") is True
    assert "speculative" not in plain.conn.response.stats.extra
    types = [e["type"] for e in spec.events]
    assert types.count("response.created") == 1
    assert "response.output_audio.delta" in types
    # Same events, same order, same ids, same transcript and usage.
    assert _normalised(spec.events, spec.conn) == _normalised(plain.events, plain.conn)
    done = next(e for e in spec.events if e["type"] == "response.done")
    assert done["response"]["status"] == "completed"
    assert [i.role for i in spec.conn.conversation.items] == ["user", "assistant"]
    assert spec.conn.conversation.history() == plain.conn.conversation.history()


def test_resumed_speech_cancels_the_speculation_silently(
    stack: Any, media_dir: Path, utterances: list[dict[str, Any]]
) -> None:
    speech, _ = _speech(media_dir, "q04_piper.wav", utterances)
    start_ms = next(u["speech_start_ms"] for u in utterances if u["file"] == "q04_piper.wav")
    voiced = speech[start_ms * 48 // CHUNK * CHUNK :]

    async def main() -> Harness:
        h = Harness(stack, speculate=True)
        await h.setup()
        await h.append(speech + _silence(300))
        await h.until(h.prefetched)
        prefetch = h.conn.prefetch.prepared
        assert prefetch is not None
        await h.append(voiced)  # the user goes on speaking: the same utterance
        assert prefetch.cancel_event.is_set()
        assert h.conn.prefetch.prepared is None
        assert [e["type"] for e in h.events][2:] == ["input_audio_buffer.speech_started"]
        await h.append(_silence(800))
        await h.until(h.response_done)
        assert h.conn.response is not None
        await h.conn.response.finish()
        for bg in list(h.conn.turns.background):
            await bg
        return h

    h = asyncio.run(main())
    types = [e["type"] for e in h.events]
    assert types.count("input_audio_buffer.committed") == 1
    assert types.count("response.created") == 1
    assert types.index("input_audio_buffer.committed") < types.index("response.created")
    assert h.conn.response is not None
    assert "speculative" not in h.conn.response.stats.extra
    user, assistant = h.conn.conversation.items
    transcript = user.text().lower()
    assert transcript.count("twelve") + transcript.count("12") >= 2, transcript
    assert assistant.role == "assistant" and "84" in assistant.text()


def test_push_to_talk_never_speculates(
    stack: Any, media_dir: Path, utterances: list[dict[str, Any]]
) -> None:
    speech, _ = _speech(media_dir, "q04_piper.wav", utterances)

    async def main() -> Harness:
        h = Harness(stack, speculate=True)
        await h.conn.start()
        await h.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
            }
        )
        await h.append(speech + _silence(800))
        await asyncio.sleep(0)
        assert h.conn.prefetch.prepared is None and h.conn.prefetch.task is None
        await h.send({"type": "input_audio_buffer.commit"})
        await h.send({"type": "response.create"})
        await h.until(h.response_done)
        return h

    h = asyncio.run(main())
    assert h.conn.response is not None
    assert "speculative" not in h.conn.response.stats.extra


def test_a_turn_ending_at_the_cap_adopts_the_reply_prepared_after_its_last_check(
    stack: Any, media_dir: Path
) -> None:
    """semantic_vad: paused01_piper's question ends where Smart Turn hears no end at either
    checkpoint (200 and 450 ms of silence), so the turn ends at the 1.3 s cap. Once the last
    check has said "wait", the reply is prepared during the rest of the silence and the
    response at the cap adopts it."""
    entry = next(
        e
        for e in json.loads((media_dir / "turns" / "turns.json").read_text())
        if e["file"] == "paused01_piper.wav"
    )
    pcm16, rate = read_wav(media_dir / "turns" / entry["file"])
    assert rate == 16000
    end = entry["speech_end_ms"] * 48 // CHUNK * CHUNK
    speech = resample(pcm16, 16000, 24000)[:end]

    async def main() -> Harness:
        h = Harness(stack, speculate=True)
        await h.conn.start()
        detection = {"type": "semantic_vad", "eagerness": "auto"}
        await h.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "audio": {"input": {"turn_detection": detection}}},
            }
        )
        await h.append(speech + _silence(800))  # both checks of the last silence are asked
        audio_in = h.conn.audio_in
        await h.until(lambda: audio_in._judging is not None and audio_in._judging.done())
        await h.until(lambda: h.conn.input.asking is None)
        eot = h.conn.input.end_of_turn
        assert eot is not None and not eot.rechecks_left
        assert "input_audio_buffer.committed" not in [e["type"] for e in h.events]
        await h.until(lambda: h.conn.prefetch.prepared is not None)
        await h.append(_silence(1000))  # the cap ends the turn
        await h.until(h.response_done)
        assert h.conn.response is not None
        await h.conn.response.finish()
        return h

    h = asyncio.run(main())
    assert [d.reason.name for d in h.conn.input.decisions] == ["CAP"]
    assert h.conn.response is not None
    assert h.conn.response.stats.extra.get("speculative") is True
