"""``voicecam``: the GUI (no arguments), a headless conversation, or a session-file tool.

Usage::

    voicecam                                   # the window
    voicecam --headless [--backend local|openai|gemini|azure|ws://HOST:PORT/v1/realtime]
             [--model M] [--voice V] [--instructions TEXT]
             [--audio-in question.wav | (the microphone)] [--audio-out reply.wav]
             [--image frame.png | --video clip.mp4 | --camera NAME] [--text "..."]
             [--mode hands_free|push_to_talk] [--turn-detection client|server|semantic]
             [--patience low|medium|high]
             [--record DIR] [--timeout S] [--duration S] [--turns N] [--budget USD] [-v]
             [--llm-url URL [--llm-model ID] [--llm-no-vision] [--llm-key-env VAR]]
             [--backend-url URL] [--vertex-project ID [--vertex-location R]]
             [--azure-api-version V] [provider options, see --help]
    voicecam --list-llm                        # local model servers and their models
    voicecam replay|export|rerun ARGS...       # session files (see each command's --help)
    voicecam search "QUERY" [--json]           # what was said in every recorded session

Headless runs the same ``app.assistant.Assistant`` as the window and prints the user's and the
assistant's transcripts as they arrive. With ``--audio-in`` and/or ``--text`` it is a script:
the file is sent paced in real time, and it exits 0 once the reply to the last thing said has
been completed and played (written to ``--audio-out``), 1 if the conversation failed (the error
is printed), 2 for bad arguments. Without them it listens to the microphone until Ctrl-C or
``--duration``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from app.cli_args import build_parser
from app.cli_validate import UsageError, validate
from app.cloud_cli import CLOUD_ARGS

SUBCOMMANDS = {
    "replay": ("app.replay", "replay_main"),
    "export": ("app.export", "export_main"),
    "rerun": ("app.rerun", "rerun_main"),
    "search": ("app.session_search", "search_main"),
}


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in and args_in[0] in SUBCOMMANDS:
        import importlib

        from app.scrubbed_output import scrubbed_output

        module, func = SUBCOMMANDS[args_in[0]]
        with scrubbed_output():  # rerun talks to a backend: its errors may echo a secret
            return int(getattr(importlib.import_module(module), func)(args_in[1:]) or 0)
    parser = build_parser()
    args = parser.parse_args(args_in)
    if args.list_llm:
        return list_local_models()
    if not args.headless:
        from app.window_flags import HEADLESS_ONLY, window_overrides

        headless_only = [
            name
            for name in (
                *HEADLESS_ONLY,
                *CLOUD_ARGS,  # the window has these, the budget and the privacy ones in Settings
                *("budget", "blur_faces", "exclude_window", "exclude_region"),
            )
            if getattr(args, name) is not None
        ]
        if headless_only:
            parser.error(f"--{headless_only[0].replace('_', '-')} needs --headless")
        try:
            validate(args)  # the window's flags (--video, --image, --backend …) too
        except UsageError as exc:
            parser.error(str(exc))
        from app.gui.main import main as gui_main

        return int(gui_main([sys.argv[0]], overrides=window_overrides(args)) or 0)
    from app.headless import Headless
    from app.logging_setup import install_logging
    from app.scrubbed_output import scrubbed_output

    with scrubbed_output():  # no held secret (key, token) is ever printed
        install_logging(
            logging.DEBUG
            if args.verbose > 1
            else (logging.INFO if args.verbose else logging.WARNING)
        )
        try:
            validate(args)
        except UsageError as exc:
            parser.error(str(exc))
        return Headless(args).run()


def list_local_models(
    ports: Sequence[tuple[int, str]] | None = None, timeout_s: float = 0.5
) -> int:
    """``voicecam --list-llm``: one line per model, '<--llm-url> <--llm-model>  (label)';
    exit status 1 when none is found. ``ports``: default ``app.local_models.KNOWN_PORTS``."""
    from app.local_models import KNOWN_PORTS, discover_local_models

    found = discover_local_models(
        ports=KNOWN_PORTS if ports is None else ports, timeout_s=timeout_s
    )
    models = found.result(timeout=30)
    if not models:
        print(
            "no local model server found (Ollama 11434, LM Studio 1234, llama.cpp 8080, vLLM 8000)",
            file=sys.stderr,
        )
        return 1
    for m in models:
        print(f"{m.url} {m.model}  ({m.label})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
