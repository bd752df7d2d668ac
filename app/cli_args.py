"""``voicecam``'s argument parser: every flag of the window and the headless mode.

``build_parser`` only declares; ``app.cli_validate.validate`` checks the values and
``app.compose`` / ``app.window_flags`` turn them into settings overrides.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cloud_cli import add_cloud_arguments


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="voicecam",
        description="Talk to a multimodal realtime model by voice while showing it a camera.",
        epilog="Subcommands: voicecam replay|export|rerun|search --help",
    )
    p.add_argument("--headless", action="store_true", help="no window: talk in the terminal")
    p.add_argument(
        "--backend",
        default=None,
        help="local, openai, gemini, azure, or a ws:// URL (default: the saved setting, "
        "else local)",
    )
    p.add_argument("--model", default="", help="model name (default: the backend's)")
    p.add_argument("--voice", default="", help="voice name (default: the backend's)")
    p.add_argument("--instructions", default=None, help="system instructions for the model")
    p.add_argument(
        "--audio-in",
        type=Path,
        default=None,
        help="WAV file spoken as the user (paced in real time)",
    )
    p.add_argument(
        "--audio-out", type=Path, default=None, help="write the reply audio as played to this WAV"
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--image", type=Path, default=None, help="a still image shown as the camera")
    src.add_argument("--video", type=Path, default=None, help="a video file played as the camera")
    src.add_argument(
        "--camera",
        default=None,
        help="camera name, index or stream URL; screen[:N], region:X,Y,W,H or window:TITLE "
        "shares the screen",
    )
    p.add_argument("--text", default=None, help="a typed message to send")
    p.add_argument(
        "--mode",
        default=None,
        choices=["hands_free", "push_to_talk"],
        help="turn taking (default: the saved setting, else hands_free)",
    )
    p.add_argument(
        "--turn-detection",
        default=None,
        choices=["client", "server", "semantic"],
        help="who ends your turn hands-free (default: the saved setting, else client)",
    )
    p.add_argument(
        "--patience",
        default=None,
        choices=["low", "medium", "high"],
        help="how long your pauses may last before the turn is taken (default: the saved "
        "setting, else medium)",
    )
    p.add_argument("--record", type=Path, default=None, help="record the session into this folder")
    p.add_argument(
        "--timeout", type=float, default=120.0, help="give up after S seconds (file mode)"
    )
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds (microphone)")
    p.add_argument(
        "--turns", type=int, default=None, help="exit 0 after N completed replies (microphone)"
    )
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="USD",
        help="spend limit for this session in US dollars: a warning at 80 %%, audio and camera "
        "stop at 100 %% (default: the saved setting, else none)",
    )
    p.add_argument("--input-device", default=None, help="microphone by name (default: system)")
    p.add_argument("--output-device", default=None, help="speaker by name (default: system)")
    _add_llm_arguments(p)
    add_cloud_arguments(p)
    _add_privacy_arguments(p)
    p.add_argument("-v", "--verbose", action="count", default=0)
    return p


def _add_llm_arguments(p: argparse.ArgumentParser) -> None:
    """The offline backend's brain (``app.local_models``; saved as the llm_* settings)."""
    g = p.add_argument_group(
        "offline backend's brain",
        "a model of a local OpenAI-compatible server (Ollama, LM Studio, llama.cpp, vLLM) "
        "instead of the built-in one; --llm-url '' = the built-in model",
    )
    g.add_argument("--llm-url", default=None, help="its API root, e.g. http://127.0.0.1:11434/v1")
    g.add_argument("--llm-model", default=None, help="its model id (default: its first)")
    g.add_argument(
        "--llm-no-vision",
        action="store_true",
        default=None,
        help="never send camera frames to it",
    )
    g.add_argument(
        "--llm-key-env", default=None, help="an environment variable holding its API key"
    )
    p.add_argument(
        "--list-llm",
        action="store_true",
        help="list the local model servers running on this machine and their models, then exit",
    )


def _add_privacy_arguments(p: argparse.ArgumentParser) -> None:
    """Redaction before sending (``app.redaction``; saved as blur_faces / exclude_* settings)."""
    g = p.add_argument_group("privacy", "what is hidden before frames leave the machine")
    g.add_argument(
        "--blur-faces",
        default=None,
        choices=["off", "cloud", "always"],
        help="blur faces in camera and screen frames: for cloud backends, always, or never "
        "(default: the saved setting, else off)",
    )
    g.add_argument(
        "--exclude-window",
        action="append",
        default=None,
        metavar="TITLE",
        help="hide windows whose title contains TITLE from screen sharing (repeatable)",
    )
    g.add_argument(
        "--exclude-region",
        default=None,
        metavar="X,Y,W,H",
        help="hide this screen rectangle (pixels) from screen sharing",
    )
