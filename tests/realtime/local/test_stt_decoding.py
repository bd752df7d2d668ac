"""Whisper decoding options of the offline server: the prompt built from the conversation and
the camera, pause compaction, and what the default options do on real clips.

Whisper loads once per test session (``whisper_models`` in ``test_live_transcript``'s style,
defined here for this module). Word error rates are measured by ``bench/bench_wer.py``; these
tests pin behaviours that must hold on every run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsp.pcm import read_wav
from realtime.local.conversation import Item, Part
from realtime.local.models import Models, load_whisper
from realtime.local.stt import DEFAULT_OPTIONS, Speculator, compact_pauses, transcribe
from realtime.local.stt_context import MAX_PROMPT_WORDS, whisper_prompt
from realtime.local.vision import SceneFacts


def _image_item(scene: SceneFacts | None) -> Item:
    item = Item(id="img", role="user", parts=[Part(type="input_image")])
    if scene is not None:
        loop = asyncio.new_event_loop()
        fut: asyncio.Future[SceneFacts] = loop.create_future()
        fut.set_result(scene)
        loop.close()
        item.scene_task = fut
    return item


def _said(role: str, text: str) -> Item:
    kind = "input_audio" if role == "user" else "output_audio"
    return Item(id=text[:8], role=role, parts=[Part(type=kind, transcript=text)])  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the prompt


def test_prompt_holds_the_camera_words_then_the_last_things_said() -> None:
    scene = SceneFacts(640, 480, texts=("EXIT", "Fire door"), qr_codes=("VOICECAM-TEST-42",))
    items = [
        _said("user", "Hello there."),
        _image_item(scene),
        _said("assistant", "Hi! I can see a sign."),
    ]
    prompt = whisper_prompt(items)
    assert (
        prompt
        == "On screen: EXIT, Fire, door, VOICECAM-TEST-42. Hello there. Hi! I can see a sign."
    )


def test_prompt_skips_a_frame_still_being_analysed_and_is_none_when_empty() -> None:
    assert whisper_prompt([]) is None
    assert whisper_prompt([_image_item(None)]) is None
    older = _image_item(SceneFacts(640, 480, texts=("MENU",)))
    assert whisper_prompt([older, _image_item(None)]) == "On screen: MENU."


def test_prompt_is_bounded() -> None:
    long_turns = [_said("user", " ".join(f"word{i}" for i in range(100))) for _ in range(6)]
    prompt = whisper_prompt(long_turns)
    assert prompt is not None and len(prompt.split()) == MAX_PROMPT_WORDS
    assert prompt.endswith("word99")  # the newest words are kept


# ---------------------------------------------------------------------- pause compaction


def _entry(media_dir: Path, name: str) -> dict[str, int | str]:
    entries = json.loads((media_dir / "turns" / "turns.json").read_text())
    entry: dict[str, int | str] = next(e for e in entries if e["file"] == name)
    return entry


@pytest.mark.parametrize("name", ["paused03_piper.wav", "paused06_espeak.wav"])
def test_a_hesitation_is_shortened_and_the_speech_kept(media_dir: Path, name: str) -> None:
    entry = _entry(media_dir, name)
    pcm, _ = read_wav(media_dir / "turns" / name)
    out = compact_pauses(pcm)
    pause_ms = int(entry["pause_end_ms"]) - int(entry["pause_start_ms"])
    cut_ms = (len(pcm) - len(out)) // 32
    assert pause_ms // 3 <= cut_ms <= pause_ms - 150, (cut_ms, pause_ms)
    # The audio before the pause is untouched; what follows is the same samples, shifted.
    start = int(entry["pause_start_ms"]) * 32
    assert out[:start] == pcm[:start]
    assert out[-32000:] == pcm[-32000:]


def test_speech_without_a_long_pause_is_left_alone(media_dir: Path) -> None:
    pcm, _ = read_wav(media_dir / "turns" / "complete01_piper.wav")
    assert compact_pauses(pcm) == pcm


# ---------------------------------------------------------------------- with the real model


@pytest.fixture(scope="module")
def whisper_models() -> Iterator[Models]:
    yield Models(whisper=load_whisper(), piper=None, ocr=lambda image: [], llm=None)


@pytest.mark.models
@pytest.mark.parametrize("name", ["silence_3s.wav", "noise_3s.wav"])
def test_the_prompt_is_not_echoed_on_silence_or_noise(
    whisper_models: Models, media_dir: Path, name: str
) -> None:
    """Whisper copies its prompt on audio without speech unless the no-speech gate stops it."""
    pcm, _ = read_wav(media_dir / "speech" / name)
    prompt = "On screen: EXIT, VOICECAM-TEST-42. What does the sign say?"
    assert transcribe(whisper_models, pcm, DEFAULT_OPTIONS, prompt=prompt) == ""


@pytest.mark.models
def test_the_words_after_a_hesitation_are_heard(whisper_models: Models, media_dir: Path) -> None:
    """Greedy Whisper on this clip stops at the hesitation ("I want to know how many.");
    the default options keep the question whole."""
    pcm, _ = read_wav(media_dir / "turns" / "paused03_piper.wav")
    text = transcribe(whisper_models, pcm, DEFAULT_OPTIONS).lower()
    assert "holding up" in text, text


@pytest.mark.models
def test_the_speculator_takes_a_running_decode_instead_of_decoding_again(
    whisper_models: Models, media_dir: Path
) -> None:
    """A streaming re-decode that covers the voice serves as the speculative transcript; if it
    was skipped (None), the audio is decoded after all; one that stops short is not taken."""
    pcm, _ = read_wav(media_dir / "turns" / "paused03_piper.wav")
    end = len(pcm) // 2
    with concurrent.futures.ThreadPoolExecutor(1) as executor:
        spec = Speculator(whisper_models, executor)
        running: concurrent.futures.Future[str | None] = concurrent.futures.Future()
        spec.start(0, end, pcm, reuse=(end - 1600, running))
        running.set_result("I want to know how many fingers I am holding up.")
        taken = spec.take(0, end - 3200)
        assert taken is not None
        assert taken.result(timeout=5) == "I want to know how many fingers I am holding up."

        skipped: concurrent.futures.Future[str | None] = concurrent.futures.Future()
        spec.start(0, end, pcm, reuse=(end, skipped))
        skipped.set_result(None)
        again = spec.take(0, end - 3200)
        assert again is not None and "holding up" in again.result(timeout=120).lower()

        short: concurrent.futures.Future[str | None] = concurrent.futures.Future()
        spec.start(0, end, pcm, reuse=(end - 16000, short))
        assert spec.take(0, end - 3200) is None  # it does not reach the end of the voice
