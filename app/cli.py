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

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.cloud_cli import CLOUD_ARGS, add_cloud_arguments, resolve_with_cloud
from app.printer import Printer
from app.state import ConversationState as S

if TYPE_CHECKING:
    from app.assistant import Assistant
    from app.config import Settings
    from app.file_audio import FileAudio
    from video.source import FrameSource

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm"}
SUBCOMMANDS = {
    "replay": ("app.replay", "replay_main"),
    "export": ("app.export", "export_main"),
    "rerun": ("app.rerun", "rerun_main"),
    "search": ("app.session_search", "search_main"),
}


def seconds(value: float) -> str:
    """``0.5`` → ``"0.5 s"``, ``120.0`` → ``"120 s"`` (never rounded to a wrong ``0 s``)."""
    return f"{value:.3g} s" if value < 100 else f"{value:.0f} s"


class UsageError(Exception):
    """A bad argument; the message says which and why."""


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


def validate(args: argparse.Namespace) -> None:
    """Check every file argument; raise ``UsageError`` with a sentence a person can act on."""
    from app import cli_checks
    from dsp.pcm import AudioFileError, read_wav

    for problem in (
        cli_checks.number_problem("--timeout", args.timeout),
        cli_checks.number_problem("--duration", args.duration),
        *(
            cli_checks.text_problem(f"--{name}", getattr(args, name))
            for name in ("text", "instructions", "model", "voice")
        ),
    ):
        if problem:
            raise UsageError(problem)

    if args.audio_in is not None:
        try:
            read_wav(args.audio_in)
        except AudioFileError as exc:
            raise UsageError(f"--audio-in: {exc}") from None
    if args.image is not None:
        if not args.image.is_file():
            raise UsageError(f"--image: {args.image}: no such file")
        if args.image.suffix.lower() not in IMAGE_SUFFIXES:
            raise UsageError(
                f"--image: {args.image}: not an image file ({', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        image_problem = cli_checks.image_problem("--image", args.image)
        if image_problem:
            raise UsageError(image_problem)
    if args.video is not None:
        from video.errors import CameraError
        from video.file import probe_video_file

        try:
            probe_video_file(args.video)
        except CameraError as exc:
            raise UsageError(f"--video: {exc.message}") from None
    if args.audio_out is not None:
        if args.audio_out.is_dir():
            raise UsageError(
                f"--audio-out: {args.audio_out} is a folder; give a file name such as "
                f"{args.audio_out / 'reply.wav'}"
            )
        parent = args.audio_out.expanduser().resolve().parent
        if not parent.is_dir():
            raise UsageError(f"--audio-out: folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise UsageError(f"--audio-out: folder {parent} is not writable")
        if args.audio_in is None and args.text is None:
            raise UsageError(
                "--audio-out needs --audio-in or --text (the microphone plays to the speaker)"
            )
    if args.camera is not None and args.camera.lower().startswith(("screen", "region:", "window:")):
        from app.compose import open_video

        try:
            open_video(args.camera)  # checks the spec; nothing is opened before start()
        except ValueError as exc:
            raise UsageError(f"--camera: {exc}") from None
    if args.record is not None and args.record.exists() and not args.record.is_dir():
        raise UsageError(f"--record: {args.record} is not a folder")
    if args.text is not None and not args.text.strip():
        raise UsageError("--text: the message is empty")
    if args.timeout <= 0:
        raise UsageError("--timeout must be > 0 seconds")
    if args.turns is not None and args.turns < 1:
        raise UsageError("--turns must be at least 1")
    if args.budget is not None and not 0 < args.budget < 1e6:
        raise UsageError("--budget must be an amount in US dollars above 0, e.g. --budget 0.50")
    if args.input_device or args.output_device:
        from app.devices import device_flags_problem

        device_problem = device_flags_problem(args.input_device, args.output_device)
        if device_problem:  # said once, with what exists (not a fallback warned twice)
            raise UsageError(device_problem)
    b = args.backend
    if (
        b is not None
        and b not in ("local", "openai", "gemini", "azure")
        and not b.startswith(("ws://", "wss://"))
    ):
        raise UsageError(
            f"--backend {b!r}: use local, openai, gemini, azure, "
            "or a ws://HOST:PORT/v1/realtime URL"
        )


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


class Headless:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args

    def run(self) -> int:
        from app.assistant import Assistant
        from app.backends import BackendError
        from app.compose import assemble, build_file_audio, resolve_settings
        from app.config import SettingsError
        from app.core_budget import budget_figure
        from app.recording_notes import cli_notices

        args = self.args
        file_mode = args.audio_in is not None or args.text is not None
        try:
            settings = resolve_with_cloud(
                {
                    "backend": args.backend,
                    "model": args.model or None,
                    "voice": args.voice or None,
                    "instructions": args.instructions,
                    "mode": args.mode,
                    "turn_detection": args.turn_detection,
                    "patience": args.patience,
                    "input_device": args.input_device,
                    "output_device": args.output_device,
                    "llm_url": args.llm_url,
                    "llm_model": args.llm_model,
                    "llm_vision": False if args.llm_no_vision else None,
                    "llm_auth_env": args.llm_key_env,
                    "budget_session_usd": args.budget,
                    "blur_faces": args.blur_faces,
                    "exclude_windows": ", ".join(args.exclude_window)
                    if args.exclude_window
                    else None,
                    "exclude_region": args.exclude_region,
                },
                args,
                resolve_settings,
            )
        except SettingsError as exc:
            print(f"voicecam: {exc}", file=sys.stderr)
            return 2
        from app.retention import apply_retention_at_start, describe

        retained = describe(apply_retention_at_start(settings))  # the saved rule, at start
        if retained:
            print(f"voicecam: {retained}", file=sys.stderr)
        file_audio: list[FileAudio] = []

        def make_file_audio(send_rate_hz: int) -> FileAudio:
            file_audio.append(
                build_file_audio(
                    args.audio_in, args.audio_out, send_rate_hz=send_rate_hz, settings=settings
                )
            )
            return file_audio[0]

        try:
            parts = assemble(
                settings,
                reconnect=not file_mode,
                make_audio=make_file_audio if file_mode else None,
                frames_source=self._source(settings),
                record_to=args.record,
                # The recorder makes the folder (0700) itself; a failure or a resumption is
                # said on stderr and the conversation goes on (issue 17, items 1-3).
                recording_notices=cli_notices(),
            )
        except BackendError as exc:
            print(f"voicecam: {exc}", file=sys.stderr)
            return 2
        file_in = file_audio[0] if file_audio else None
        assistant = Assistant(
            parts.backend,
            parts.audio,
            parts.frames,
            parts.options,
            recorder=parts.recorder,
            budget=parts.budget,
            day_spend=parts.day_spend,
        )
        printer = Printer(verbose=args.verbose > 0)
        assistant.subscribe(printer)
        from app.privacy_cli import PrivacyLinePrinter, video_kind

        self.privacy = PrivacyLinePrinter(
            settings, video_kind(args.camera, args.image is not None or args.video is not None)
        )
        code = 1
        try:
            assistant.start()
            code = self._drive(assistant, file_in, file_mode)
        except KeyboardInterrupt:
            code = 130
        finally:
            printer.stop()  # the outcome is said: nothing more while it closes (model loading)
            snap = assistant.snapshot()
            for lat in snap.latency:
                if lat.first_byte_ns is not None:
                    print(f"turn {lat.turn}: {lat.describe()}", file=sys.stderr)
            if snap.cost_line and printer.connected_once:  # no cost line for a failed connect
                print(snap.cost_line, file=sys.stderr)
            if snap.budget is not None and budget_figure(snap.budget):
                print(budget_figure(snap.budget), file=sys.stderr)
            assistant.close()
            if self.privacy.printed:  # a failed connect's error stays the last line
                self.privacy.poll(assistant)  # "Not connected: nothing is sent"
            parts.close()
        if args.audio_out is not None and code == 0 and file_in is not None:
            if file_in.out_error:  # nothing or only part of the reply could be written
                print(f"voicecam: {file_in.out_error}", file=sys.stderr)
                return 1
            pcm, out_rate = file_in.played_audio()
            print(
                f"reply audio: {args.audio_out} ({len(pcm) * 500 // (out_rate or 24000)} ms)",
                file=sys.stderr,
            )
        return code

    def _source(self, settings: Settings) -> FrameSource | None:
        """The camera stand-in the flags name (none by default: headless shows no camera).
        ``--camera screen[:N]`` / ``region:X,Y,W,H`` / ``window:TITLE`` shares the screen,
        with the settings' excluded windows and region hidden."""
        from app.compose import open_camera, open_file_video, open_video

        args = self.args
        if args.image is not None or args.video is not None:
            return open_file_video(args.image or args.video)
        if args.camera is not None:
            if args.camera.lower().startswith(("screen", "region:", "window:")):
                return open_video(args.camera, settings)
            return open_camera(args.camera)
        return None

    def _drive(self, assistant: Assistant, audio: FileAudio | None, file_mode: bool) -> int:
        args = self.args
        snap = assistant.wait_for(lambda s: s.state in (S.LISTENING, S.ERROR), args.timeout)
        if snap is None:
            still = assistant.snapshot().state
            why = " (the offline models were still loading)" if still == S.LOADING else ""
            print(
                f"voicecam: could not connect within {seconds(args.timeout)}{why}", file=sys.stderr
            )
            return 1
        if snap.state == S.ERROR:
            return 1
        self.privacy.poll(assistant)
        if args.text is not None:
            assistant.send_text(args.text)
        if not file_mode:
            deadline = None if args.duration is None else time.monotonic() + args.duration
            while deadline is None or time.monotonic() < deadline:
                self.privacy.poll(assistant)
                snap = assistant.snapshot()
                if snap.state == S.ERROR:
                    return 1
                if args.turns is not None and snap.completed_turns >= args.turns:
                    return 0
                time.sleep(0.1)
            return 0 if args.turns is None else 1
        assert audio is not None
        return self._wait_done(assistant, audio)

    def _wait_done(self, assistant: Assistant, audio: FileAudio) -> int:
        args = self.args
        deadline = time.monotonic() + args.timeout
        heard_voice = False
        file_done_at: float | None = None
        while time.monotonic() < deadline:
            self.privacy.poll(assistant)
            snap = assistant.snapshot()
            if snap.state == S.ERROR:
                return 1
            if snap.state == S.IDLE:
                print("voicecam: the conversation ended before a reply", file=sys.stderr)
                return 1
            heard_voice = heard_voice or audio.last_voice_stop_ns is not None
            if args.audio_in is not None and audio.file_done and file_done_at is None:
                file_done_at = time.monotonic()
            input_over = args.audio_in is None or audio.input_finished
            last_input = audio.last_voice_stop_ns or 0
            replied = snap.completed_turns >= 1 and snap.last_complete_ns > last_input
            if input_over and replied and snap.state == S.LISTENING:
                return 0
            if (
                args.audio_in is not None
                and args.text is None
                and file_done_at is not None
                and not heard_voice
                and snap.state == S.LISTENING
                and time.monotonic() - file_done_at > 3.0
                and args.turn_detection == "client"
            ):
                print(f"voicecam: no speech found in {args.audio_in}", file=sys.stderr)
                return 1
            time.sleep(0.05)
        print(f"voicecam: no completed reply within {seconds(args.timeout)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
