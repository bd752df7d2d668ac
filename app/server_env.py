"""The environment of the offline server child: only what it needs, never the app's secrets.

The server loads its models from installed packages and talks only to its client, so it needs
the platform basics (paths, locale, temp dirs, the Python and library search paths, thread
counts) and its token. ``OPENAI_API_KEY``, ``GEMINI_API_KEY``, ``VOICECAM_BACKEND_TOKEN`` and
anything else of the app's stay behind. The one exception is the variable named by
``--llm-key-env VAR`` in the server's arguments (the key of the user's own ``--llm-url``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: Variables passed through by exact name.
PASSED = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ",
        "TMPDIR", "TEMP", "TMP", "PYTHONPATH", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING", "PYTHONFAULTHANDLER", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
        "SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT", "APPDATA", "LOCALAPPDATA",
        "USERPROFILE", "OMP_NUM_THREADS", "MALLOC_ARENA_MAX", "SSL_CERT_FILE", "SSL_CERT_DIR",
    }
)  # fmt: skip
#: Variables passed through by prefix (locale, XDG dirs, model caches).
PASSED_PREFIXES = ("LC_", "XDG_", "HF_", "HUGGINGFACE_", "ORT_", "CT2_")
TOKEN_VARIABLE = "VOICECAM_SERVER_TOKEN"


def llm_key_variable(server_args: Sequence[str]) -> str | None:
    """The ``--llm-key-env`` value in ``server_args`` (``--llm-key-env V`` or ``=V``)."""
    args = list(server_args)
    for i, arg in enumerate(args):
        if arg == "--llm-key-env" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--llm-key-env="):
            return arg.split("=", 1)[1]
    return None


def server_environment(
    parent: Mapping[str, str], server_args: Sequence[str], token: str
) -> dict[str, str]:
    """The child's environment: the allow-listed part of ``parent``, the token, unbuffered
    output, and the ``--llm-key-env`` variable if the arguments name one."""
    env = {
        name: value
        for name, value in parent.items()
        if name in PASSED or name.startswith(PASSED_PREFIXES)
    }
    wanted = llm_key_variable(server_args)
    if wanted and wanted in parent:
        env[wanted] = parent[wanted]
    env[TOKEN_VARIABLE] = token
    env["PYTHONUNBUFFERED"] = "1"
    return env
