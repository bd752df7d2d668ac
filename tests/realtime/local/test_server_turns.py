"""Whole spoken turns against the real offline server, driven by the official openai SDK.

Every server event received is validated against the SDK's RealtimeServerEvent types (Peer.recv).
The models load once per test session (``local_server`` fixture).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.realtime.local.peer import Peer, answer_text, audio_bytes, connect, word_errors

pytestmark = pytest.mark.models

TRANSCRIBE = {"transcription": {"model": "whisper-1", "language": "en"}}


async def vad_turn(peer: Peer, wav: Any, *, realtime: bool = False) -> list[dict[str, Any]]:
    """Stream one utterance; receive until every committed item is transcribed and the last
    response is done. Returns the events of this turn."""
    start = len(peer.events)
    await peer.send_wav(wav, realtime=realtime)
    committed: set[str] = set()
    transcribed: set[str] = set()
    open_responses: set[str] = set()
    responded = False
    while True:
        ev = await peer.recv(timeout=90)
        t = ev["type"]
        if t == "input_audio_buffer.committed":
            committed.add(ev["item_id"])
            responded = False
        elif t == "conversation.item.input_audio_transcription.completed":
            transcribed.add(ev["item_id"])
        elif t == "response.created":
            open_responses.add(ev["response"]["id"])
        elif t == "response.done":
            open_responses.discard(ev["response"]["id"])
            responded = True
        if committed and committed <= transcribed and responded and not open_responses:
            return peer.events[start:]


def transcript_of(events: list[dict[str, Any]]) -> str:
    return " ".join(
        e["transcript"]
        for e in events
        if e["type"] == "conversation.item.input_audio_transcription.completed"
    )


def test_piper_set_whole_turns(
    local_server: Any, utterances: list[dict[str, Any]], media_dir: Any
) -> None:
    """All clean piper questions in one session with the desk still: WER ≤ 10 %, and the
    answers that must be exact are (sign → EXIT, QR → VOICECAM-TEST-42, 12×7 → 84)."""
    piper = [u for u in utterances if u.get("voice") == "piper" and "noise" not in u]

    async def run() -> list[tuple[str, str, str]]:
        out = []
        async with connect(local_server) as peer:
            await peer.update(audio={"input": TRANSCRIBE})
            await peer.send_image(media_dir / "video" / "desk.png")
            for u in piper:
                events = await vad_turn(peer, media_dir / "speech" / u["file"])
                kinds = [e["type"] for e in events]
                assert "input_audio_buffer.speech_started" in kinds
                assert "input_audio_buffer.speech_stopped" in kinds
                assert kinds.index("response.created") < kinds.index("response.done")
                done = [e for e in events if e["type"] == "response.done"][-1]
                assert done["response"]["status"] == "completed"
                assert done["response"]["usage"]["output_token_details"]["audio_tokens"] > 0
                assert audio_bytes(events), u["file"]
                out.append((u["file"], transcript_of(events), answer_text(events)))
        return out

    results = asyncio.run(run())
    errors = total = 0
    by_file = {}
    for (name, hyp, answer), u in zip(results, piper):
        e, n = word_errors(u["text"], hyp)
        errors, total = errors + e, total + n
        by_file[name] = answer
        print(f"{name}: WER {e}/{n}  heard={hyp!r}  answer={answer!r}")
    wer = errors / total
    print(f"WER over the piper set: {wer:.1%} ({errors}/{total} words)")
    assert wer <= 0.10
    assert "EXIT" in by_file["q03_piper.wav"]
    assert "VOICECAM-TEST-42" in by_file["q07_piper.wav"]
    assert "84" in by_file["q04_piper.wav"]


def test_realtime_paced_turn_reads_the_qr_code(local_server: Any, media_dir: Any) -> None:
    """A turn streamed at real-time pace (40 ms chunks), asking about the QR code in qr.png."""

    async def run() -> list[dict[str, Any]]:
        async with connect(local_server) as peer:
            await peer.update(audio={"input": TRANSCRIBE})
            await peer.send_image(media_dir / "video" / "qr.png")
            return await vad_turn(peer, media_dir / "speech" / "q07_espeak.wav", realtime=True)

    events = asyncio.run(run())
    assert "qr code" in transcript_of(events).lower()
    assert "VOICECAM-TEST-42" in answer_text(events)
    # Audio deltas are ≤ 100 ms of 24 kHz PCM16 and belong to the announced item.
    deltas = [e for e in events if e["type"] == "response.output_audio.delta"]
    item = next(e for e in events if e["type"] == "response.output_item.added")["item"]["id"]
    assert all(e["item_id"] == item for e in deltas)
    assert max(len(audio_bytes([e])) for e in deltas) <= 4800


def test_push_to_talk(local_server: Any, media_dir: Any) -> None:
    """turn_detection null: no VAD events; commit + response.create answers the question."""

    async def run() -> list[dict[str, Any]]:
        async with connect(local_server) as peer:
            upd = await peer.update(audio={"input": {**TRANSCRIBE, "turn_detection": None}})
            assert upd["session"]["audio"]["input"]["turn_detection"] is None
            await peer.send_wav(media_dir / "speech" / "q04_espeak.wav")
            await peer.conn.input_audio_buffer.commit()
            got = await peer.until("input_audio_buffer.committed")
            await peer.conn.response.create()
            got += await peer.until("response.done")
            while not any(e["type"].endswith("transcription.completed") for e in got):
                got.append(await peer.recv())
            return got

    events = asyncio.run(run())
    kinds = [e["type"] for e in events]
    assert "input_audio_buffer.speech_started" not in kinds
    assert "84" in answer_text(events)
    assert "seven" in transcript_of(events).lower() or "7" in transcript_of(events)


def test_text_only_modality_uses_the_language_model(local_server: Any) -> None:
    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with connect(local_server) as peer:
            await peer.update(output_modalities=["text"])
            await peer.say_text("What is six times seven?")
            await peer.conn.response.create()
            skill = await peer.until("response.done")
            await peer.say_text("Say hello to my friend Sam.")
            await peer.conn.response.create()
            llm = await peer.until("response.done")
            return skill, llm

    skill, llm = asyncio.run(run())
    assert "42" in answer_text(skill)
    for events in (skill, llm):
        assert not audio_bytes(events)
        assert any(e["type"] == "response.output_text.delta" for e in events)
        done = events[-1]["response"]
        assert done["status"] == "completed" and done["output_modalities"] == ["text"]
    assert answer_text(llm).strip()
    assert llm[-1]["response"]["usage"]["output_token_details"]["text_tokens"] > 0


STORY = "Tell me a story about a robot who learns to paint, in three sentences."


async def _start_long_reply(peer: Peer) -> tuple[str, str]:
    """A multi-sentence reply: returns (response_id, item_id) at its first audio delta."""
    await peer.say_text(STORY)
    await peer.conn.response.create(response={"max_output_tokens": 200})
    events = await peer.until("response.output_audio.delta")
    return events[-1]["response_id"], events[-1]["item_id"]


def test_cancel_mid_reply_then_truncate(local_server: Any) -> None:
    """response.cancel stops the audio; truncate trims the item's audio and transcript, and the
    trimmed transcript is what the conversation (and so the model) holds."""

    async def run() -> dict[str, Any]:
        async with connect(local_server) as peer:
            for _attempt in range(3):
                _resp_id, item_id = await _start_long_reply(peer)
                await peer.conn.send({"type": "response.cancel", "event_id": "evt_cancel"})
                events = await peer.until("response.done")
                done = events[-1]["response"]
                if done["status"] == "completed":  # the reply was over before the cancel
                    err = await peer.until("error")
                    assert err[-1]["error"]["code"] == "response_cancel_not_active"
                    continue
                assert done["status"] == "cancelled"
                assert done["status_details"]["reason"] == "client_cancelled"
                # Nothing more for this response after response.done.
                with pytest.raises(asyncio.TimeoutError):
                    extra = await peer.recv(timeout=1.0)
                    pytest.fail(f"event after cancel: {extra['type']}")
                full = answer_text(events)
                mine = [e for e in peer.events if e.get("item_id") == item_id]
                sent_ms = len(audio_bytes(mine)) // 48
                cut = min(700, sent_ms - 1)
                await peer.conn.conversation.item.truncate(
                    item_id=item_id, content_index=0, audio_end_ms=cut
                )
                trunc = (await peer.until("conversation.item.truncated"))[-1]
                assert trunc["audio_end_ms"] == cut
                await peer.conn.conversation.item.retrieve(item_id=item_id)
                item = (await peer.until("conversation.item.retrieved"))[-1]["item"]
                heard = item["content"][0]["transcript"]
                # Past the end of the (now shorter) audio is refused.
                await peer.conn.send(
                    {
                        "type": "conversation.item.truncate",
                        "item_id": item_id,
                        "content_index": 0,
                        "audio_end_ms": cut + 1,
                        "event_id": "evt_past",
                    }
                )
                err = (await peer.until("error"))[-1]["error"]
                return {"full": full, "heard": heard, "err": err, "sent_ms": sent_ms}
            pytest.fail("three replies finished before response.cancel arrived")

    r = asyncio.run(run())
    print(json.dumps(r))
    assert len(r["heard"]) < len(r["full"])
    assert r["full"].startswith(r["heard"]) if r["heard"] else True
    assert r["err"]["event_id"] == "evt_past"
    assert "shorter than" in r["err"]["message"]


def test_speech_during_reply_interrupts_it(local_server: Any, media_dir: Any) -> None:
    """server_vad with interrupt_response: speech_started cancels the running response."""

    async def run() -> list[dict[str, Any]]:
        async with connect(local_server) as peer:
            await peer.update(audio={"input": TRANSCRIBE})
            for _attempt in range(3):
                await _start_long_reply(peer)
                await peer.send_wav(media_dir / "speech" / "q04_piper.wav")
                events = await peer.until("input_audio_buffer.speech_started")
                done = [e for e in events if e["type"] == "response.done"]
                if done and done[0]["response"]["status"] == "cancelled":
                    return events
                await vad_turn_rest(peer)
            pytest.fail("three replies finished before the user spoke")

    events = asyncio.run(run())
    done = next(e for e in events if e["type"] == "response.done")["response"]
    assert done["status_details"]["reason"] == "turn_detected"
    kinds = [e["type"] for e in events]
    # The cancelled response is closed before speech_started; no audio after its response.done.
    assert kinds.index("response.done") < kinds.index("input_audio_buffer.speech_started")


async def vad_turn_rest(peer: Peer) -> None:
    """Drain the rest of a turn already streamed (until its response is done)."""
    while (await peer.recv(timeout=90))["type"] != "response.done":
        pass


def test_unintelligible_turn_is_not_answered_with_an_old_answer(
    local_server: Any, media_dir: Any
) -> None:
    """A committed turn with no words gets "didn't catch that", not a reply to the turn before."""

    async def run() -> list[dict[str, Any]]:
        async with connect(local_server) as peer:
            await peer.update(audio={"input": {**TRANSCRIBE, "turn_detection": None}})
            await peer.say_text("What is six times seven?")
            await peer.conn.response.create()
            await peer.until("response.done")
            await peer.send_wav(media_dir / "speech" / "silence_3s.wav")
            await peer.conn.input_audio_buffer.commit()
            await peer.conn.response.create()
            return await peer.until("response.done")

    events = asyncio.run(run())
    assert "catch" in answer_text(events)
    assert "42" not in answer_text(events)
