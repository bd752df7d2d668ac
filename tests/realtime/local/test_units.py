"""Unit tests of the offline server's pieces (no server, no language model)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from dsp.pcm import read_wav
from dsp.resample import resample
from realtime.local import protocol, skills
from realtime.local.conversation import Conversation, ConversationError, Item, Part, cut_transcript
from realtime.local.intent import classify
from realtime.local.tts import SentenceBuffer, chunk_audio, split_sentences
from realtime.local.turns import (
    CommitTooShort,
    InputBuffer,
    ServerVadParams,
    SilenceBegan,
    SpeechBegan,
    SpeechEnded,
    TurnCommitted,
)
from realtime.local.vision import SceneFacts, analyse, decode_image

NOW = dt.datetime(2026, 11, 29, 14, 5)
SCENE = SceneFacts(
    640,
    480,
    texts=("EXIT",),
    qr_codes=("VOICECAM-TEST-42",),
    faces=2,
    colours=(("red", 0.5), ("white", 0.3)),
    brightness=30.0,
    sharpness=10.0,
)


# --------------------------------------------------------------------------- skills


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What is twelve times seven?", "84"),
        ("what's 12 x 7", "84"),
        ("What is one hundred and five plus 3?", "108"),
        ("what is 10 divided by 4", "2.5"),
        ("What is nine minus twenty?", "-11"),
        ("what is the square root of 81", "9"),
        ("What time is it?", "14:05"),
        ("What's the date today?", "November 29, 2026"),
        ("What day is it?", "Sunday"),
        ("What does the QR code say?", "VOICECAM-TEST-42"),
        ("Can you read the text on this sign?", "EXIT"),
        ("How many faces do you see?", "2 faces"),
        ("What colour is my shirt?", "red"),
        ("Is it too dark to read?", "too dark"),
        ("How many fingers am I holding up?", "can't tell what objects are"),
    ],
)
def test_skills_answer(question: str, expected: str) -> None:
    answer = _skill(question, SCENE)
    assert answer is not None and expected in answer


def _skill(question: str, scene: SceneFacts | None) -> str | None:
    return skills.answer(classify(question), question, scene, NOW)


def test_skills_leave_open_questions_to_the_model_and_need_a_picture() -> None:
    assert _skill("Tell me a short joke about computers.", SCENE) is None
    assert _skill("Rock and roll is great", SCENE) is None
    assert "camera" in (_skill("What does the QR code say?", None) or "")
    assert skills.parse_number("twenty-one") == 21
    assert skills.parse_number("banana") is None


# --------------------------------------------------------------------------- conversation

SEGMENTS = [("Hello there.", 0, 1000), ("I am a robot who paints.", 1000, 3000)]


def test_cut_transcript_keeps_whole_sentences_and_a_proportional_part() -> None:
    assert cut_transcript(SEGMENTS, 400) == ""
    assert cut_transcript(SEGMENTS, 500) == "Hello"
    assert cut_transcript(SEGMENTS, 1000) == "Hello there."
    assert cut_transcript(SEGMENTS, 2000) == "Hello there. I am a"
    assert cut_transcript(SEGMENTS, 3000) == "Hello there. I am a robot who paints."


def test_truncate_trims_what_the_model_sees_and_refuses_past_the_end() -> None:
    conv = Conversation()
    conv.add(Item("u1", "user", [Part("input_text", text="Paint me a story")]))
    part = Part(
        "output_audio",
        transcript="Hello there. I am a robot who paints.",
        audio_ms=3000,
        segments=list(SEGMENTS),
    )
    conv.add(Item("a1", "assistant", [part]))
    with pytest.raises(ConversationError, match="shorter than"):
        conv.truncate("a1", 0, 3001)
    with pytest.raises(ConversationError) as exc:
        conv.truncate("u1", 0, 10)
    assert exc.value.param == "item_id"
    conv.truncate("a1", 0, 1500)
    assert part.audio_ms == 1500
    assert [t.text for t in conv.history()] == ["Paint me a story", "Hello there. I"]
    with pytest.raises(ConversationError, match="shorter than"):
        conv.truncate("a1", 0, 1501)


def test_items_insert_delete_and_history_merges_roles() -> None:
    conv = Conversation()
    conv.add(Item("b", "user", [Part("input_text", text="two")]))
    assert conv.add(Item("a", "user", [Part("input_text", text="one")]), "root") is None
    assert conv.add(Item("c", "assistant", [Part("output_text", text="three")]), "b") == "b"
    assert [i.id for i in conv.items] == ["a", "b", "c"]
    assert [(t.role, t.text) for t in conv.history()] == [
        ("user", "one two"),
        ("assistant", "three"),
    ]
    conv.delete("b")
    with pytest.raises(ConversationError):
        conv.delete("b")
    with pytest.raises(ConversationError):
        conv.add(Item("a", "user", [Part("input_text", text="dup")]))


# --------------------------------------------------------------------------- protocol


def test_parse_client_event_errors() -> None:
    with pytest.raises(protocol.ClientEventError) as exc:
        protocol.parse_client_event("{nope")
    assert exc.value.code == "invalid_json"
    with pytest.raises(protocol.ClientEventError) as exc:
        protocol.parse_client_event('{"type": "bogus", "event_id": "e1"}')
    assert (exc.value.event_id, exc.value.event_type) == ("e1", "bogus")
    ok = protocol.parse_client_event(b'{"type": "response.create"}')
    assert ok["type"] == "response.create"


def test_data_urls_only_never_paths_or_remote_urls() -> None:
    ev = {"type": "conversation.item.create", "event_id": "e"}
    for url in (
        "/etc/passwd",
        "file:///etc/passwd",
        "http://127.0.0.1/x.jpg",
        "data:text/plain;base64,aGk=",
        "data:image/png,rawdata",
        "data:image/png;base64,@@@",
    ):
        with pytest.raises(protocol.ClientEventError):
            protocol.decode_data_url(url, ev)
    assert protocol.decode_data_url("data:image/png;base64,aGk=", ev) == b"hi"


def test_error_event_names_the_client_event() -> None:
    err = protocol.ClientEventError(
        "boom", "invalid_value", param="x", event_id="e9", event_type="response.create"
    )
    ev = protocol.error_event(protocol.Ids(), err)
    assert ev["error"]["event_id"] == "e9"
    assert ev["error"]["message"] == "response.create: boom"


# --------------------------------------------------------------------------- tts text


def test_sentence_buffer_streams_sentences() -> None:
    buf = SentenceBuffer()
    out: list[str] = []
    for piece in ["Hel", "lo there", ". How a", "re you? I'm", " fine"]:
        out += buf.push(piece)
    assert out == ["Hello there.", "How are you?"]
    assert buf.flush() == ["I'm fine"]
    assert split_sentences("One. Two! Three") == ["One.", "Two!", "Three"]
    long_first = SentenceBuffer(first_max_chars=30)
    assert long_first.push("Once upon a time, in a small village by the sea, a robot") == [
        "Once upon a time, in a small village by the sea,"
    ]
    assert long_first.push(" lived, quietly, far away from all the noise and the people") == []
    run_on = SentenceBuffer(first_max_chars=30)
    pieces = run_on.push("and then the robot painted the sky and the sea and the hills all day")
    assert pieces and all(len(p) <= 60 for p in pieces)
    assert " ".join(pieces + run_on.flush()).split() == (
        [
            "and",
            "then",
            "the",
            "robot",
            "painted",
            "the",
            "sky",
            "and",
            "the",
            "sea",
            "and",
            "the",
            "hills",
            "all",
            "day",
        ]
    )
    chunks = chunk_audio(b"\0" * 10000)
    assert [len(c) for c in chunks] == [4800, 4800, 400]


# --------------------------------------------------------------------------- turn detection


def _stream(buf: InputBuffer, pcm16k: bytes, chunk_ms: int = 20) -> list[Any]:
    pcm = resample(pcm16k, 16000, 24000)
    step = 48 * chunk_ms
    events: list[Any] = []
    for i in range(0, len(pcm), step):
        events += buf.append(pcm[i : i + step])
    return events


def test_server_vad_finds_the_utterance(media_dir: Path, utterances: list[dict[str, Any]]) -> None:
    u = next(x for x in utterances if x["file"] == "q04_piper.wav")
    pcm, _ = read_wav(media_dir / "speech" / u["file"])
    ids = iter(f"item_{n}" for n in range(100))
    buf = InputBuffer(lambda: next(ids), ServerVadParams(silence_duration_ms=500))
    events = _stream(buf, pcm)
    kinds = [type(e) for e in events]
    assert kinds.count(SpeechBegan) == 1 and kinds.count(TurnCommitted) == 1
    assert kinds.index(SilenceBegan) < kinds.index(SpeechEnded) < kinds.index(TurnCommitted)
    began = next(e for e in events if isinstance(e, SpeechBegan))
    ended = next(e for e in events if isinstance(e, SpeechEnded))
    turn = next(e for e in events if isinstance(e, TurnCommitted))
    assert abs(began.audio_start_ms - u["speech_start_ms"]) <= 120
    assert abs(ended.audio_end_ms - u["speech_end_ms"]) <= 150
    assert began.item_id == ended.item_id == turn.item_id
    # The committed audio has the prefix padding and the voiced span.
    assert turn.duration_ms >= u["speech_end_ms"] - u["speech_start_ms"] + 250


@pytest.mark.parametrize("name", ["silence_3s.wav", "noise_3s.wav"])
def test_server_vad_ignores_silence_and_noise(media_dir: Path, name: str) -> None:
    pcm, _ = read_wav(media_dir / "speech" / name)
    buf = InputBuffer(lambda: "item", ServerVadParams())
    assert _stream(buf, pcm) == []


def test_push_to_talk_commit_and_too_short(media_dir: Path) -> None:
    buf = InputBuffer(lambda: "item_ptt", None)
    buf.append(b"\0\0" * 1200)  # 50 ms at 24 kHz
    with pytest.raises(CommitTooShort, match=r"50\.00ms"):
        buf.commit()
    buf.append(b"\0\0" * 2400)  # +100 ms
    turn = buf.commit()
    assert turn.item_id == "item_ptt" and 145 <= turn.duration_ms <= 150
    assert buf.buffered_ms == 0


# --------------------------------------------------------------------------- vision


def test_vision_on_the_desk_still(media_dir: Path) -> None:
    image = cv2.imread(str(media_dir / "video" / "desk.png"))
    facts = analyse(image, ocr=None)
    assert facts.qr_codes == ("VOICECAM-TEST-42",)
    assert "red" in facts.colour_names(limit=6)
    assert facts.light_level == "bright" and not facts.is_blurry
    dark = analyse((image * 0.15).astype(np.uint8), ocr=None)
    assert dark.light_level in ("very dark", "dim")
    assert "QR code" in facts.summary()
    _ok, jpg = cv2.imencode(".jpg", image)
    assert decode_image(jpg.tobytes()).shape == image.shape


def test_a_long_first_sentence_without_a_comma_is_cut_before_a_clause() -> None:
    """The first audio is one clause: no comma, so the cut goes before "because"; later
    sentences are not cut early."""
    buf = SentenceBuffer(first_max_chars=30)
    text = "The mug on the desk looks blue because the lamp is very warm tonight"
    assert buf.push(text) == ["The mug on the desk looks blue"]
    assert buf.push(". It is a lovely mug and it holds a lot of tea for you") == [
        "because the lamp is very warm tonight."
    ]
    assert buf.flush() == ["It is a lovely mug and it holds a lot of tea for you"]
