"""``voicecam``'s argument checks: every file and value flag, before anything is opened.

``validate`` raises ``UsageError`` with one sentence a person can act on; ``app.cli.main`` turns
it into exit status 2 with the usage line. The hostile-input checks it calls live in
``app.cli_checks``.
"""

from __future__ import annotations

import argparse
import os

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm"}


class UsageError(Exception):
    """A bad argument; the message says which and why."""


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
