"""Answers through the real offline server, as Realtime events validated by the openai SDK
(``Peer.recv``): memory and repetition across turns (slower = longer audio), the scene
described from ``desk.png``, general questions with the camera on, and a real
``llama_cpp.server`` as the brain (``--llm-url``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from realtime.local.brain import SLOWER_LENGTH_SCALE
from tests.realtime.local.conftest import ServerProcess, start_server
from tests.realtime.local.llm_server import MODEL_ALIAS, LlamaServer
from tests.realtime.local.peer import Peer, answer_text, audio_bytes, connect

pytestmark = pytest.mark.models


async def ask(peer: Peer, text: str, **response: Any) -> list[dict[str, Any]]:
    await peer.say_text(text)
    await peer.conn.response.create(response=response or None)
    events = await peer.until("response.done")
    assert events[-1]["response"]["status"] == "completed", events[-1]
    return events


def test_memory_and_slower_repetition_across_turns(local_server: Any) -> None:
    async def run() -> dict[str, list[dict[str, Any]]]:
        async with connect(local_server) as peer:
            return {
                "name": await ask(peer, "Hi, my name is Priya."),
                "open": await ask(peer, "What is the capital of France?"),
                "slower": await ask(peer, "Could you repeat that more slowly?"),
                "again": await ask(peer, "Say it again."),
                "recall": await ask(peer, "What's my name?"),
            }

    got = asyncio.run(run())
    assert answer_text(got["name"]) == "Nice to meet you, Priya."
    first = answer_text(got["open"])
    assert first.strip()
    assert answer_text(got["slower"]) == first
    assert answer_text(got["again"]) == first
    normal, slow = len(audio_bytes(got["again"])), len(audio_bytes(got["slower"]))
    # Piper's length scale stretches the speech itself (sentence pauses too).
    assert slow > normal * (1 + (SLOWER_LENGTH_SCALE - 1) * 0.6), (normal, slow)
    assert answer_text(got["recall"]) == "Your name is Priya."


def test_the_scene_is_described_and_general_questions_ignore_it(
    local_server: Any, media_dir: Path
) -> None:
    async def run() -> dict[str, list[dict[str, Any]]]:
        async with connect(local_server) as peer:
            await peer.send_image(media_dir / "video" / "desk.png")
            return {
                "describe": await ask(peer, "Describe what you see."),
                "mug": await ask(peer, "What colour is the mug?"),
                "animal": await ask(peer, "What do cats like to eat?"),
                "near_miss": await ask(peer, "What's the sign for infinity?"),
            }

    got = asyncio.run(run())
    described = answer_text(got["describe"])
    assert "EXIT" in described and "VOICECAM-TEST-42" in described, described
    assert "a red object at the lower left" in described, described
    assert "can't" not in described
    mug = answer_text(got["mug"])
    assert "red" in mug and "green" not in mug and "brown" not in mug, mug
    for key in ("animal", "near_miss"):
        text = answer_text(got[key])
        assert text.strip()
        assert "VOICECAM" not in text and "EXIT" not in text, text  # no camera readout
        assert "I can't" not in text and "camera" not in text.lower(), text


@pytest.fixture(scope="session")
def server_on_llama(llama_server: LlamaServer) -> Iterator[ServerProcess]:
    server = start_server("--llm-url", llama_server.base_url)  # model: the server's first
    yield server
    server.stop()


def test_a_local_model_server_is_the_brain(server_on_llama: ServerProcess) -> None:
    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with connect(server_on_llama) as peer:
            await peer.update(output_modalities=["text"])
            chat = await ask(peer, "What is the capital of Japan?")
            skill = await ask(peer, "What is nine times nine?")
            return chat, skill

    chat, skill = asyncio.run(run())
    assert "Tokyo" in answer_text(chat)
    assert sum(e["type"] == "response.output_text.delta" for e in chat) > 1  # streamed
    usage = chat[-1]["response"]["usage"]
    assert usage["output_token_details"]["text_tokens"] > 0
    assert "81" in answer_text(skill)
    assert MODEL_ALIAS  # chosen by discovery of --llm-url (no --llm-model given)


def test_an_answer_cut_at_max_output_tokens_is_incomplete(local_server: Any) -> None:
    """As OpenAI: the reply stopped at the client's ``max_output_tokens`` ends ``incomplete``
    (reason ``max_output_tokens``), its item too; without a limit the same answer completes.
    (SmolLM2 answers the open question: skills and memory answer in whole sentences.)"""
    question = "Tell me about the history of the bicycle."

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with connect(local_server) as peer:
            await peer.say_text(question)
            await peer.conn.response.create(
                response={"output_modalities": ["text"], "max_output_tokens": 3}
            )
            cut = await peer.until("response.done")
        async with connect(local_server) as peer:
            whole = await ask(peer, question, output_modalities=["text"])
        return cut, whole

    cut, whole = asyncio.run(run())
    done = cut[-1]["response"]
    assert done["status"] == "incomplete", done
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert done["max_output_tokens"] == 3
    assert done["output"][0]["status"] == "incomplete"
    assert answer_text(cut).strip()
    assert whole[-1]["response"]["max_output_tokens"] == "inf"
    assert len(answer_text(whole)) > len(answer_text(cut))
