"""Local model servers as the offline backend's brain, app side (``app.local_models`` and the
composition root), against a REAL ``llama_cpp.server`` serving SmolLM2 on 127.0.0.1.

Discovery through the facade, the saved choice (settings file, environment, flags) and the
offline server's arguments that ``app.compose`` builds from it. No Qt."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from app.cli import list_local_models, main
from app.cli_args import build_parser
from app.compose import build_backend, build_local_server, resolve_settings
from app.config import Settings, SettingsError
from app.local_models import (
    LocalModel,
    LocalModelChoice,
    discover_local_models,
    server_args,
    with_brain,
)
from tests.realtime.local.llm_server import MODEL_ALIAS, LlamaServer, free_port


def _ports(server: LlamaServer) -> list[tuple[int, str]]:
    return [(free_port(), "Ollama"), (server.port, "llama.cpp server")]  # one closed port


def _found(server: LlamaServer) -> LocalModel:
    got: list[tuple[tuple[LocalModel, ...], str]] = []
    done = threading.Event()

    def on_done(models: tuple[LocalModel, ...]) -> None:
        got.append((models, threading.current_thread().name))
        done.set()

    future = discover_local_models(on_done, ports=_ports(server), timeout_s=2.0)
    models = future.result(timeout=30)
    assert done.wait(30)
    assert got[0][0] == models
    assert got[0][1] != threading.current_thread().name  # reported on the discovery thread
    assert len(models) == 1
    return models[0]


def test_the_facade_lists_the_real_servers_model(llama_server: LlamaServer) -> None:
    m = _found(llama_server)
    assert (m.kind, m.url, m.model) == ("llama.cpp server", llama_server.base_url, MODEL_ALIAS)
    assert m.label == f"{MODEL_ALIAS} (llama.cpp server, port {llama_server.port})"
    assert m.vision is None  # llama_cpp.server does not say: frames are tried
    assert m.choice() == LocalModelChoice(llama_server.base_url, MODEL_ALIAS, vision=True)
    assert m.is_choice(m.choice()) and not m.is_choice(None)


def test_nothing_listening_gives_an_empty_list() -> None:
    future = discover_local_models(ports=[(free_port(), "vLLM")], timeout_s=0.5)
    assert future.result(timeout=30) == ()


def test_the_saved_choice_starts_the_offline_server_with_it(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    """Choose → save → load → compose: the offline server gets --llm-url/--llm-model."""
    m = _found(llama_server)
    path = with_brain(Settings(), m.choice()).save(tmp_path / "settings.toml")
    loaded = Settings.load(path)
    settings = resolve_settings(env={}, base=loaded)
    want = ("--llm-url", llama_server.base_url, "--llm-model", MODEL_ALIAS)
    assert server_args(settings) == want
    assert build_local_server(settings).extra_args == want
    backend = build_backend(settings)  # the backend starts its own server: with the choice
    assert backend.server is not None and backend.server.extra_args == want
    assert backend.owns_server and not backend.server.running  # built, not started
    # Back to the built-in model: no extra arguments.
    builtin = with_brain(settings, None)
    assert server_args(builtin) == () and build_local_server(builtin).extra_args == ()
    assert build_backend(replace(builtin, backend="openai")).server is None


def test_a_blind_model_and_an_api_key_variable() -> None:
    blind = LocalModel("Ollama", "http://127.0.0.1:11434/v1", "llama3.2", False, "llama3.2")
    choice = blind.choice(key_env="OLLAMA_KEY")
    assert choice.server_args() == (
        *("--llm-url", "http://127.0.0.1:11434/v1", "--llm-model", "llama3.2"),
        "--llm-no-vision",
        *("--llm-key-env", "OLLAMA_KEY"),
    )
    settings = with_brain(Settings(), choice)
    assert LocalModelChoice.from_settings(settings) == choice
    assert LocalModelChoice.from_settings(Settings()) is None


def test_bad_choices_are_refused_with_what_to_do() -> None:
    with pytest.raises(SettingsError, match="API root"):
        Settings(llm_url="127.0.0.1:11434")
    with pytest.raises(SettingsError, match="need llm_url"):
        Settings(llm_model="llama3.2")


def test_a_url_given_above_the_file_drops_the_files_model(tmp_path: Path) -> None:
    """Like model/voice under a new backend: a model saved for another server is not sent to
    the one named by the environment or a flag."""
    saved = Settings(llm_url="http://127.0.0.1:11434/v1", llm_model="llama3.2", llm_vision=False)
    env = {"VOICECAM_LLM_URL": "http://127.0.0.1:8080/v1"}
    s = resolve_settings(env=env, base=saved)
    assert (s.llm_url, s.llm_model, s.llm_vision) == ("http://127.0.0.1:8080/v1", "", True)
    s = resolve_settings(
        {"llm_url": "http://127.0.0.1:8080/v1", "llm_model": "m"}, env={}, base=saved
    )
    assert (s.llm_url, s.llm_model) == ("http://127.0.0.1:8080/v1", "m")
    s = resolve_settings({"llm_url": ""}, env={}, base=saved)  # --llm-url '': the built-in
    assert server_args(s) == ()


def test_the_cli_flags_mirror_voicecam_server() -> None:
    args = build_parser().parse_args(
        ["--headless", "--llm-url", "http://127.0.0.1:8080/v1", "--llm-model", "m",
         "--llm-no-vision", "--llm-key-env", "K"]
    )  # fmt: skip
    assert (args.llm_url, args.llm_model, args.llm_no_vision, args.llm_key_env) == (
        "http://127.0.0.1:8080/v1",
        "m",
        True,
        "K",
    )
    assert build_parser().parse_args(["--headless"]).llm_no_vision is None
    with pytest.raises(SystemExit) as exc:  # the window reads the saved choice instead
        main(["--llm-url", "http://127.0.0.1:8080/v1"])
    assert exc.value.code == 2


def test_list_llm_prints_what_to_pass(
    llama_server: LlamaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert list_local_models(_ports(llama_server), timeout_s=2.0) == 0
    line = f"{llama_server.base_url} {MODEL_ALIAS}  ({MODEL_ALIAS} (llama.cpp server, port "
    assert capsys.readouterr().out.startswith(line)
    assert list_local_models([(free_port(), "vLLM")]) == 1
    assert "no local model server found" in capsys.readouterr().err


@pytest.mark.models
def test_headless_answers_through_the_chosen_server(
    llama_server: LlamaServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """End to end: ``voicecam --headless --llm-url … --llm-model …`` starts its own offline
    server (speech, OCR and voice local) whose brain is the real llama_cpp.server. The offline
    servers built are recorded (a real subclass; the process is the real one)."""
    import app.backends
    from app.local_server import LocalServer

    started: list[LocalServer] = []

    class Recorded(LocalServer):
        def start(self) -> str:
            started.append(self)
            return super().start()

    monkeypatch.setattr(app.backends, "LocalServer", Recorded)
    code = main(
        [
            "--headless",
            "--backend",
            "local",
            "--llm-url",
            llama_server.base_url,
            "--llm-model",
            MODEL_ALIAS,
            "--text",
            "What is the capital of France?",
            "--timeout",
            "240",
        ]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    reply = next(line for line in cap.out.splitlines() if line.startswith("assistant: "))
    assert "Paris" in reply
    assert [s.extra_args for s in started] == [
        ("--llm-url", llama_server.base_url, "--llm-model", MODEL_ALIAS)
    ]
    assert not started[0].running  # stopped with the conversation
