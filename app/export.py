"""Export a recorded session: stereo WAV, MP4 (frames + mixed audio), Markdown, SRT.

``voicecam export FILE --to out.wav|out.mp4|out.md|out.srt`` — ``export_main(argv)`` is the
CLI entry (exit 0 ok, 2 for a bad argument or unreadable file, 1 for a write failure).

* WAV: 16-bit stereo at 24 kHz (``--rate``), user (microphone) left, assistant (reply as played)
  right, both placed on the session clock so they line up as they happened.
* MP4: H.264 video of the camera frames (each shown until the next; sent and preview frames),
  AAC audio of both sides mixed; written with PyAV.
* Markdown: the transcript with the frames sent to the model as images (written to
  ``<name>_frames/`` next to the .md), per-turn latency and cost.
* SRT: one subtitle per turn for both speakers, in time order, never overlapping.

The formats live in ``app.export_media`` (WAV, MP4) and ``app.export_text`` (Markdown, SRT);
this module picks one by the target's suffix. Everything comes from the session file, which
never holds a key; text is scrubbed once more. Files are written to a temporary name and
renamed (``app.export_common.atomic_output``), so a failed export leaves nothing half done.
Qt-free; call from a worker thread in the GUI.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from app.export_common import ExportError
from app.export_media import DEFAULT_RATE_HZ, export_mp4, export_wav
from app.export_text import export_markdown, export_srt, srt_times
from realtime.recording.errors import SessionFileError
from realtime.recording.reader import SessionFile

__all__ = [
    "DEFAULT_RATE_HZ",
    "EXPORTERS",
    "FORMATS",
    "ExportError",
    "export",
    "export_main",
    "export_markdown",
    "export_mp4",
    "export_srt",
    "export_wav",
    "srt_times",
]

FORMATS = (".wav", ".mp4", ".md", ".srt")


# --------------------------------------------------------------------------- entry points

EXPORTERS: dict[str, Callable[[SessionFile, Path], object]] = {
    ".wav": export_wav,
    ".mp4": export_mp4,
    ".md": export_markdown,
    ".srt": export_srt,
}


def export(
    session: str | os.PathLike[str],
    out: str | os.PathLike[str],
    progress: Callable[[float], None] | None = None,
) -> Path:
    """Export ``session`` to ``out`` (format from the suffix). Raises ``SessionFileError`` for an
    unreadable session, ``ExportError`` for a bad target or a failed write. ``progress``:
    called with the fraction done while an MP4 is encoded (the slow one)."""
    out_p = Path(out)
    fmt = out_p.suffix.lower()
    if fmt not in EXPORTERS:
        raise ExportError(f"{out_p}: unknown export format (use one of {', '.join(FORMATS)})")
    if out_p.exists() and out_p.resolve() == Path(session).resolve():
        raise ExportError(f"{out_p}: refusing to overwrite the session file itself")
    with SessionFile(session) as sf:
        try:
            if fmt == ".mp4" and progress is not None:
                export_mp4(sf, out_p, progress=progress)
            else:
                EXPORTERS[fmt](sf, out_p)
        except SessionFileError:
            raise
        except (OSError, ValueError, RuntimeError) as exc:
            raise ExportError(f"{out_p}: export failed ({exc})") from None
    return out_p


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="voicecam export",
        description="Export a recorded session to WAV (user left, assistant right), MP4, "
        "Markdown or SRT.",
    )
    p.add_argument("file", help="a recorded session (*.voicecam)")
    p.add_argument(
        "--to",
        required=True,
        metavar="OUT",
        help="output file: out.wav, out.mp4, out.md or out.srt",
    )
    return p


def export_main(argv: Sequence[str] | None = None) -> int:
    """``voicecam export FILE --to OUT``. Returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    out = Path(args.to)
    if out.suffix.lower() not in EXPORTERS:
        parser.print_usage(sys.stderr)
        print(
            f"voicecam export: error: {out}: unknown format {out.suffix or '(none)'!r}; use "
            f"one of {', '.join(FORMATS)}",
            file=sys.stderr,
        )
        return 2
    if out.parent != Path("") and not out.parent.is_dir():
        print(f"voicecam export: error: {out.parent}: no such folder", file=sys.stderr)
        return 2
    try:
        export(args.file, out)
    except SessionFileError as exc:
        print(f"voicecam export: error: {exc}", file=sys.stderr)
        return 2
    except ExportError as exc:
        print(f"voicecam export: error: {exc}", file=sys.stderr)
        return 1
    extra = ""
    if out.suffix.lower() == ".md":
        extra = f" (frames in {out.with_name(out.stem + '_frames')})"
    print(f"Exported {args.file} to {out}{extra}")
    return 0
