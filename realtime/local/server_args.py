"""``voicecam-server``'s command line: the flags, their checks and the loopback rule.

``parse_args`` exits 2 (argparse) with a sentence naming the flag for a bad value (``--port
70000``, ``--max-message-mb nan``), for ``--llm-model`` without ``--llm-url``, and for a
non-loopback ``--host`` without ``--allow-remote``. Reads only ``argv`` (``sys.argv`` when None).
"""

from __future__ import annotations

import argparse
import ipaddress
import math
from collections.abc import Sequence

MAX_MESSAGE_MB_LIMIT = 1024.0


def is_loopback_host(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(text: str) -> int:
    """argparse type of ``--port``: 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is out of range: a port is 0 (any free port) to 65535"
        )
    return port


def _finite_positive(text: str, what: str, upper: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of {what}") from None
    if not math.isfinite(value) or value <= 0 or value > upper:
        raise argparse.ArgumentTypeError(
            f"{text} is not usable: give a number of {what} above 0 and at most {upper:g}"
        )
    return value


def _message_mb(text: str) -> float:
    """argparse type of ``--max-message-mb``: finite, > 0 (0 would refuse every message)."""
    value = _finite_positive(text, "megabytes", MAX_MESSAGE_MB_LIMIT)
    if value * 1024 * 1024 < 1024:
        raise argparse.ArgumentTypeError(
            f"{text} MB is under 1 KB: every client message would be refused"
        )
    return value


def _positive_seconds(text: str) -> float:
    """argparse type of ``--session-max-s``."""
    return _finite_positive(text, "seconds", 365 * 24 * 3600.0)


def parse_args(argv: Sequence[str] | None, description: str) -> argparse.Namespace:
    """The server's flags from ``argv`` (``None``: ``sys.argv``); ``description`` heads --help."""
    p = argparse.ArgumentParser(prog="voicecam-server", description=description)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=0, help="0 picks a free port")
    p.add_argument("--token", default=None, help="bearer token (default: $VOICECAM_SERVER_TOKEN)")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback host (anyone with the token can connect)",
    )
    p.add_argument(
        "--session-max-s",
        type=_positive_seconds,
        default=None,
        help="end sessions after this many seconds (error session_expired, close 1001)",
    )
    p.add_argument("--max-message-mb", type=_message_mb, default=8.0)
    p.add_argument(
        "--llm-url",
        default=None,
        help="OpenAI-compatible base URL (e.g. http://127.0.0.1:11434/v1) replacing SmolLM2",
    )
    p.add_argument("--llm-model", default=None, help="model name for --llm-url")
    p.add_argument(
        "--llm-key-env",
        default=None,
        help="name of an environment variable holding the --llm-url API key",
    )
    p.add_argument(
        "--exit-with-stdin",
        action="store_true",
        help="exit when standard input closes (the app passes a pipe, so the server never "
        "outlives it, even after a hard crash)",
    )
    p.add_argument(
        "--llm-no-vision",
        action="store_true",
        help="do not send camera frames to --llm-url as image_url parts",
    )
    p.add_argument(
        "--list-llm",
        action="store_true",
        help="list the OpenAI-compatible model servers running on this machine (Ollama, "
        "LM Studio, llama.cpp, vLLM) and their models, then exit",
    )
    args = p.parse_args(argv)
    if args.llm_model and not args.llm_url:
        p.error("--llm-model needs --llm-url (without --llm-model, the server's first model)")
    if not is_loopback_host(args.host) and not args.allow_remote:
        p.error(f"--host {args.host} is not loopback: add --allow-remote to expose the server")
    return args
