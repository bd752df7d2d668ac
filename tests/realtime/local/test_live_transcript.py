"""Streaming transcription: the stable-prefix policy, forced-prefix decoding with the real Whisper
model, and the ``...input_audio_transcription.delta`` events the official SDK receives.

The Whisper model loads once per test session (``whisper_models``); the server tests use the
session's one server (``local_server``). Every server event is validated by ``Peer.recv``
against the SDK's union, and the transcription events again against their own SDK classes
(no fields beyond the SDK's).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai.types.realtime import (
    ConversationItemInputAudioTranscriptionCompletedEvent,
    ConversationItemInputAudioTranscriptionDeltaEvent,
)

from dsp.pcm import read_wav
from realtime.local.live_transcript import (
    MIN_AUDIO_MS,
    Handoff,
    LiveTranscript,
    StablePrefix,
    agreeing,
    rest_of,
)
from realtime.local.models import Models, load_whisper
from realtime.local.stt import GREEDY_OPTIONS, transcribe
from realtime.local.turn_judge import JUDGE_OPTIONS
from tests.realtime.local.peer import Peer, connect, word_errors

TRANSCRIBE = {"transcription": {"model": "whisper-1", "language": "en"}}
DELTA = "conversation.item.input_audio_transcription.delta"
COMPLETED = "conversation.item.input_audio_transcription.completed"


# ---------------------------------------------------------------------- the policy (pure)


def test_a_word_is_sent_once_two_decodes_agree_on_it() -> None:
    s = StablePrefix()
    assert s.hypothesis("Can you") == ""  # one decode proves nothing
    assert s.hypothesis("Can you tell me") == "Can you"
    assert s.hypothesis("Can you tell me what") == " tell me"
    assert s.hypothesis("Can you tell me what color") == " what"
    assert s.text == "Can you tell me what"


def test_sentence_punctuation_at_the_end_is_held_back() -> None:
    s = StablePrefix()
    s.hypothesis("Can you tell me?")
    assert s.hypothesis("Can you tell me?") == "Can you tell me"
    # The speech went on: the question mark was not the end after all.
    assert s.hypothesis("Can you tell me what colour") == ""
    assert s.hypothesis("Can you tell me what colour the mug") == " what colour"
    assert s.rest("Can you tell me what colour the mug is?") == " the mug is?"


def test_a_word_spelled_differently_keeps_only_what_both_agree_on() -> None:
    s = StablePrefix()
    s.hypothesis("Stop, wait a")
    assert s.hypothesis("Stop. Wait a second") == "Stop"
    assert s.hypothesis("Stop. Wait a second, let") == ". Wait a second"


def test_the_stable_text_never_shrinks_and_the_deltas_add_up_to_it() -> None:
    s = StablePrefix()
    sent = ""
    for hyp in ["What", "What does", "What is the", "What does the sign"]:
        sent += s.hypothesis(hyp)
        assert sent == s.text
    assert sent == "What"  # each decode disagreed with the one before after "What"
    sent += s.hypothesis("What does the sign")
    assert sent == s.text == "What does the sign"
    assert rest_of(Handoff(sent), "What does the sign say?") == " say?"
    # A final text that does not start with what was sent adds nothing (completed corrects).
    assert rest_of(Handoff(sent), "Which sign?") == ""


def test_no_re_decode_starts_once_the_voice_has_stopped() -> None:
    """semantic_vad: between the voice stopping and ``pause()`` a re-decode would only be
    dropped, while holding Whisper from the judged transcript; none starts then."""
    import threading
    from types import SimpleNamespace

    models: Any = SimpleNamespace(whisper_lock=threading.Lock())
    speech = bytes(MIN_AUDIO_MS * 32)  # silent: the decode, once started, ends at once

    async def main() -> tuple[bool, bool]:
        live = LiveTranscript(
            models, lambda _i, _d: asyncio.sleep(0), enabled=lambda: True, prompt=lambda: None
        )
        live.begin("item_1")
        live.feed(len(speech) // 2, lambda: (0, speech), voice_stopped=True)
        held = live.running_decode(0, 1) is None
        live.feed(len(speech) // 2, lambda: (0, speech))  # the voice is back: due, so it runs
        started = live.running_decode(0, 1) is not None
        await asyncio.sleep(0.05)
        return held, started

    assert asyncio.run(main()) == (True, True)


def test_a_transcript_made_without_the_deltas_is_redone_when_it_contradicts_them() -> None:
    """semantic_vad's judged transcript is decoded without the streamed prefix; it becomes the
    completed transcript only if the deltas sent are its start, else a forced decode does."""

    async def text(value: str) -> str:
        return value

    redone: list[str] = []

    async def redo() -> str:
        redone.append("redo")
        return "What does the sign say?"

    async def run() -> tuple[str, str, str]:
        same = await agreeing(text("What  does the sign say?"), "What does", redo)
        nothing_sent = await agreeing(text("Which sign?"), "", redo)
        contradicted = await agreeing(text("Which sign?"), "What does", redo)
        return same, nothing_sent, contradicted

    same, nothing_sent, contradicted = asyncio.run(run())
    assert same == "What  does the sign say?" and nothing_sent == "Which sign?"
    assert contradicted == "What does the sign say?" and redone == ["redo"]
    assert "What does" + rest_of(Handoff("What does"), contradicted) == contradicted


# ---------------------------------------------------------------------- with the real model


@pytest.fixture(scope="session")
def whisper_models() -> Iterator[Models]:
    """Whisper tiny.en loaded once per test session (the other models are not needed)."""
    yield Models(whisper=load_whisper(), piper=None, ocr=lambda image: [], llm=None)


@pytest.mark.models
@pytest.mark.parametrize("name", ["paused02_piper.wav", "paused08_espeak.wav"])
def test_streamed_prefix_and_tail_decode_match_a_whole_decode(
    whisper_models: Models, media_dir: Path, name: str
) -> None:
    """Re-decoding the growing audio every 400 ms, forced to start with the stable text, then
    decoding the whole turn forced the same way, transcribes as well as one free decode."""
    entry = next(
        e for e in json.loads((media_dir / "turns" / "turns.json").read_text()) if e["file"] == name
    )
    pcm, rate = read_wav(media_dir / "turns" / name)
    assert rate == 16000
    end = (entry["speech_end_ms"] + 100) * 32
    s = StablePrefix()
    sent = ""
    for ms in range(900, entry["speech_end_ms"], 400):
        hyp = transcribe(whisper_models, pcm[: ms * 32], GREEDY_OPTIONS, prefix=s.text or None)
        assert hyp.startswith(s.text), (hyp, s.text)  # the forced prefix is kept
        sent += s.hypothesis(hyp)
    assert len(sent.split()) >= 3, sent  # words became stable while "speaking"
    final = transcribe(whisper_models, pcm[:end], prefix=sent)
    assert final.startswith(sent)
    assert sent + rest_of(Handoff(sent), final) == final
    errors, words = word_errors(entry["text"], final)
    free_errors, _ = word_errors(entry["text"], transcribe(whisper_models, pcm[:end]))
    assert errors <= max(1, free_errors), (final, entry["text"])
    assert errors / words <= 0.25


@pytest.mark.models
def test_the_judged_transcript_is_a_function_of_the_audio(
    whisper_models: Models, media_dir: Path
) -> None:
    """semantic_vad's transcript decode has no random temperature fallback: the same audio
    gives the same text every time (the fallback's sampling gave "Time is dampened." and
    "Time to sample." for this clip's second half on three decodes)."""
    name = "paused05_espeak.wav"
    entry = next(
        e for e in json.loads((media_dir / "turns" / "turns.json").read_text()) if e["file"] == name
    )
    pcm, _ = read_wav(media_dir / "turns" / name)
    tail = pcm[(entry["pause_end_ms"] - 300) * 32 : (entry["speech_end_ms"] + 100) * 32]
    texts = {transcribe(whisper_models, tail, JUDGE_OPTIONS) for _ in range(3)}
    assert len(texts) == 1, texts


# ---------------------------------------------------------------------- over the wire (SDK)


async def _turn(peer: Peer, wav: Path, *, realtime: bool) -> list[dict[str, Any]]:
    """Stream one clip plus 2 s of silence; events up to its transcript's completed event."""
    start = len(peer.events)
    await peer.send_wav(wav, realtime=realtime)
    await peer.send_audio(bytes(32000 * 2), realtime=realtime)
    await peer.until(COMPLETED, timeout=120)
    return peer.events[start:]


def _check_transcription_events(events: list[dict[str, Any]]) -> tuple[list[str], str, str]:
    """(deltas, completed transcript, item id), after checking the shapes and the order."""
    for ev in events:
        if ev["type"] == DELTA:
            model: Any = ConversationItemInputAudioTranscriptionDeltaEvent
        elif ev["type"] == COMPLETED:
            model = ConversationItemInputAudioTranscriptionCompletedEvent
        else:
            continue
        model.model_validate(ev)
        assert set(ev) <= set(model.model_fields), set(ev) - set(model.model_fields)
    done = next(e for e in events if e["type"] == COMPLETED)
    item = done["item_id"]
    deltas = [e for e in events if e["type"] == DELTA and e["item_id"] == item]
    assert all(e["content_index"] == 0 for e in deltas)
    assert events.index(deltas[-1]) < events.index(done) if deltas else True
    return [e["delta"] for e in deltas], done["transcript"], item


@pytest.mark.models
def test_deltas_stream_while_the_user_speaks_and_add_up_to_the_transcript(
    local_server: Any, media_dir: Path
) -> None:
    """semantic_vad, streamed at real-time pace: stable words arrive as deltas before the turn
    is committed; the deltas concatenate to exactly the completed transcript."""
    clip = media_dir / "turns" / "paused08_piper.wav"

    async def run() -> list[dict[str, Any]]:
        async with connect(local_server) as peer:
            await peer.update(
                audio={
                    "input": {
                        **TRANSCRIBE,
                        "turn_detection": {
                            "type": "semantic_vad",
                            "create_response": False,
                        },
                    }
                }
            )
            return await _turn(peer, clip, realtime=True)

    events = asyncio.run(run())
    deltas, transcript, item = _check_transcription_events(events)
    assert "".join(deltas) == transcript
    committed = next(
        i
        for i, e in enumerate(events)
        if e["type"] == "input_audio_buffer.committed" and e["item_id"] == item
    )
    early = [e for e in events[:committed] if e["type"] == DELTA and e["item_id"] == item]
    assert early, [e["type"] for e in events]  # streamed while speaking, not only at the end
    question = "So the thing I wanted to ask is what the QR code says."
    errors, _ = word_errors(question, transcript)
    assert errors <= 2, transcript


@pytest.mark.models
def test_fast_streamed_turns_still_get_consistent_deltas(
    local_server: Any, media_dir: Path
) -> None:
    """server_vad, audio sent much faster than real time (re-decodes are skipped while one
    runs): the deltas still add up to the completed transcript, turn after turn."""

    async def run() -> list[list[dict[str, Any]]]:
        async with connect(local_server) as peer:
            await peer.update(audio={"input": {**TRANSCRIBE, "turn_detection": None}})
            await peer.update(
                audio={
                    "input": {"turn_detection": {"type": "server_vad", "create_response": False}}
                }
            )
            return [
                await _turn(peer, media_dir / "speech" / name, realtime=False)
                for name in ("q05_piper.wav", "q08_espeak.wav")
            ]

    for events in asyncio.run(run()):
        deltas, transcript, _item = _check_transcription_events(events)
        assert deltas and "".join(deltas) == transcript


@pytest.mark.models
def test_no_transcription_events_without_transcription(local_server: Any, media_dir: Path) -> None:
    """Without ``audio.input.transcription`` the session gets no transcription events (as the
    cloud), and the turn is still transcribed for the conversation."""

    async def run() -> list[dict[str, Any]]:
        async with connect(local_server) as peer:
            await peer.update(
                audio={
                    "input": {"turn_detection": {"type": "server_vad", "create_response": False}}
                }
            )
            await peer.send_wav(media_dir / "speech" / "q01_piper.wav", realtime=True)
            await peer.send_audio(bytes(32000), realtime=False)
            return await peer.until("conversation.item.done", timeout=120)

    events = asyncio.run(run())
    assert not [e for e in events if "input_audio_transcription" in e["type"]]
    done = events[-1]["item"]["content"][0]
    assert "mug" in done["transcript"].lower()
