"""Issue 17, item 8 (unit): the offline server child's environment is an allow-list."""

from __future__ import annotations

from app.server_env import server_environment

PARENT = {
    "PATH": "/usr/bin",
    "HOME": "/home/u",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "XDG_CACHE_HOME": "/home/u/.cache",
    "PYTHONPATH": "/repo",
    "OPENAI_API_KEY": "sk-parent-openai",
    "GEMINI_API_KEY": "AIza-parent",
    "GOOGLE_API_KEY": "AIza-parent-google",
    "VOICECAM_BACKEND_TOKEN": "backend-token",
    "AWS_SECRET_ACCESS_KEY": "aws",
    "MY_LLM_KEY": "llm-key",
}


def test_only_the_allow_list_and_the_token_pass() -> None:
    env = server_environment(PARENT, [], "the-token")
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/u",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "XDG_CACHE_HOME": "/home/u/.cache",
        "PYTHONPATH": "/repo",
        "VOICECAM_SERVER_TOKEN": "the-token",
        "PYTHONUNBUFFERED": "1",
    }


def test_the_variable_named_by_llm_key_env_passes_and_nothing_else() -> None:
    for args in (["--llm-key-env", "MY_LLM_KEY"], ["--llm-key-env=MY_LLM_KEY"]):
        env = server_environment(PARENT, ["--llm-url", "http://127.0.0.1:1/v1", *args], "t")
        assert env["MY_LLM_KEY"] == "llm-key"
        assert "OPENAI_API_KEY" not in env and "AWS_SECRET_ACCESS_KEY" not in env
