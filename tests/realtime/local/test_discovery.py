"""Local model servers as brains, against a REAL ``llama_cpp.server`` serving SmolLM2 over HTTP:
discovery, choosing an endpoint, streaming answers, images, and the holding phrase."""

from __future__ import annotations

import base64
import concurrent.futures
import socket
import subprocess
import sys
import threading
from pathlib import Path

import cv2

from realtime.local.brain import HOLDING_PHRASE, Brain, BrainRequest, TokenUsage
from realtime.local.conversation import Turn
from realtime.local.discovery import (
    EndpointChoiceError,
    LocalServer,
    discover,
    discover_async,
    listing_lines,
    probe,
    resolve_endpoint,
)
from realtime.local.endpoint import with_image
from realtime.local.models import Models
from tests.realtime.local.llm_server import MODEL_ALIAS, LlamaServer, free_port

REPO = Path(__file__).resolve().parents[3]


def _ports(server: LlamaServer) -> list[tuple[int, str]]:
    # The real server's port, plus a closed one (nothing listens there).
    return [(free_port(), "vLLM"), (server.port, "llama.cpp server")]


def test_discovery_finds_the_real_server_and_its_model(llama_server: LlamaServer) -> None:
    servers = discover(_ports(llama_server), timeout_s=2.0)
    assert len(servers) == 1
    found = servers[0]
    assert found.base_url == llama_server.base_url
    assert [m.id for m in found.models] == [MODEL_ALIAS]
    assert found.kind == "llama.cpp server"
    assert found.label(found.models[0]).startswith(f"{MODEL_ALIAS} (llama.cpp server, port ")
    ep = found.endpoint(MODEL_ALIAS)
    assert ep.completions_url == llama_server.base_url + "/chat/completions"
    assert listing_lines(servers) == [f"{llama_server.base_url} {MODEL_ALIAS} llama.cpp-server"]


def test_discovery_does_not_block_and_reports_on_its_thread(llama_server: LlamaServer) -> None:
    got: list[tuple[list[LocalServer], str]] = []
    done = threading.Event()

    def on_done(servers: list[LocalServer]) -> None:
        got.append((servers, threading.current_thread().name))
        done.set()

    future = discover_async(on_done, _ports(llama_server), timeout_s=2.0)
    assert isinstance(future, concurrent.futures.Future)
    servers = future.result(timeout=30)
    assert done.wait(30)
    assert got[0][0] == servers and got[0][1] != threading.current_thread().name
    assert [s.port for s in servers] == [llama_server.port]


def test_a_port_that_is_not_a_model_server_is_left_out() -> None:
    with socket.socket() as listener:  # accepts, then says nothing sensible
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.0 200 OK\r\n\r\nnot json")

        threading.Thread(target=serve, daemon=True).start()
        assert probe(port, timeout_s=2.0) is None
    assert probe(free_port(), timeout_s=0.5) is None


def test_llm_url_without_a_model_takes_the_servers_first(llama_server: LlamaServer) -> None:
    ep = resolve_endpoint(llama_server.base_url, None)
    assert ep.model == MODEL_ALIAS
    try:
        resolve_endpoint(f"http://127.0.0.1:{free_port()}/v1", None, timeout_s=0.5)
    except EndpointChoiceError as exc:
        assert "--llm-model" in str(exc) and "--list-llm" in str(exc)
    else:
        raise AssertionError("a closed port gave an endpoint")


def test_list_llm_prints_the_servers_found() -> None:
    """The CLI form (known ports only: the test server is on a random port, so this checks
    that it runs, prints one line per model and exits 0)."""
    proc = subprocess.run(
        [sys.executable, "-m", "realtime.local.server", "--list-llm"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert all(line.startswith("http://127.0.0.1:") for line in proc.stdout.splitlines())


def _brain(server: LlamaServer, hold_after_s: float = 30.0, vision: bool = False) -> Brain:
    ep = resolve_endpoint(server.base_url, MODEL_ALIAS, vision=vision)
    models = Models(whisper=None, piper=None, ocr=lambda _img: [], llm=None)
    return Brain(models, ep, hold_after_s=hold_after_s)


def _ask(brain: Brain, text: str, image: bytes | None = None) -> tuple[list[str], TokenUsage]:
    usage = TokenUsage()
    req = BrainRequest(history=[Turn("user", text)], image_jpeg=image, max_tokens=32)
    return list(brain.generate(req, threading.Event(), usage)), usage


def test_the_server_answers_open_questions_streamed(llama_server: LlamaServer) -> None:
    pieces, usage = _ask(_brain(llama_server), "What is the capital of France?")
    assert len(pieces) > 1  # streamed, not one block
    assert "Paris" in "".join(pieces)
    assert usage.source == MODEL_ALIAS and usage.output_tokens > 0 and usage.input_tokens > 0
    # Skills still answer what is theirs, without the server.
    pieces, usage = _ask(_brain(llama_server), "What is twelve times seven?")
    assert pieces == ["12 times 7 is 84."] and usage.source == "skill"


def test_a_late_first_token_is_covered_by_a_holding_phrase(llama_server: LlamaServer) -> None:
    pieces, _ = _ask(_brain(llama_server, hold_after_s=0.0), "Name a colour.")
    assert pieces[0] == HOLDING_PHRASE + " " and len(pieces) > 1
    pieces, _ = _ask(_brain(llama_server, hold_after_s=60.0), "Name a colour.")
    assert HOLDING_PHRASE not in "".join(pieces)


def test_frames_go_as_images_until_the_model_refuses_them(
    llama_server: LlamaServer, media_dir: Path
) -> None:
    """SmolLM2 has no vision: the server refuses the image part, the brain asks again without
    it and stops sending frames; the user still gets an answer."""
    _ok, jpg = cv2.imencode(".jpg", cv2.imread(str(media_dir / "video" / "qr.png")))
    brain = _brain(llama_server, vision=True)
    assert brain.sends_images
    pieces, _ = _ask(brain, "Is this a good picture?", jpg.tobytes())
    assert "".join(pieces).strip()
    assert not brain.sends_images
    sent = with_image([{"role": "user", "content": "hi"}], jpg.tobytes())[0]["content"]
    assert sent[1]["image_url"]["url"] == "data:image/jpeg;base64," + base64.b64encode(
        jpg.tobytes()
    ).decode("ascii")


def test_describe_falls_back_to_the_tools_when_the_model_is_blind(
    llama_server: LlamaServer, media_dir: Path
) -> None:
    """The server does not say whether SmolLM2 sees, so "describe" goes to it with the frame;
    it refuses the image, and the answer is the tools' description (not a blind guess)."""
    from realtime.local.models import load_ocr
    from realtime.local.vision import analyse

    image = cv2.imread(str(media_dir / "video" / "desk.png"))
    scene = analyse(image, load_ocr())
    _ok, jpg = cv2.imencode(".jpg", image)
    brain = _brain(llama_server, vision=True)
    usage = TokenUsage()
    req = BrainRequest(
        history=[Turn("user", "Describe what you see.")], scene=scene, image_jpeg=jpg.tobytes()
    )
    text = "".join(brain.generate(req, threading.Event(), usage))
    assert "EXIT" in text and "VOICECAM-TEST-42" in text and "red object" in text
    assert not brain.sends_images and usage.source == "skill"
