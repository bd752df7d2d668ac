"""``voicecam --headless``: one conversation in the terminal, from the flags to an exit status.

``Headless.run`` resolves the settings (flags, then environment, then the settings file), has
``app.compose.assemble`` build the parts, runs the same ``app.assistant.Assistant`` as the window
and prints the transcripts as they arrive (``app.printer``). Exit status: 0 once the reply to the
last thing said has been completed and played, 1 if the conversation failed, 2 for bad settings,
130 on Ctrl-C. Runs on the calling thread; it polls the assistant's snapshot.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from app.cloud_cli import resolve_with_cloud
from app.printer import Printer
from app.state import ConversationState as S

if TYPE_CHECKING:
    from app.assistant import Assistant
    from app.config import Settings
    from app.file_audio import FileAudio
    from video.source import FrameSource


def seconds(value: float) -> str:
    """``0.5`` → ``"0.5 s"``, ``120.0`` → ``"120 s"`` (never rounded to a wrong ``0 s``)."""
    return f"{value:.3g} s" if value < 100 else f"{value:.0f} s"


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
        from video.errors import VideoError

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
        except (BackendError, VideoError) as exc:  # e.g. no face detector could load
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
            settings,
            video_kind(args.camera, args.image is not None or args.video is not None),
            frames=parts.frames,
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
