"""Reprint issue 18's closing-note figures for the tree (or any git revision).

    python scripts/house_figures.py                # the working tree
    python scripts/house_figures.py --rev 162dc67  # a commit (read with git, nothing checked out)

Prints:
- the largest modules of ``app realtime audio video dsp`` (lines, as ``wc -l`` counts them) and
  how many are over 400 lines;
- the number of ``Any`` in ``app/`` as a whole word in ``*.py`` files, the figure
  ``grep -rwo --include='*.py' Any app | wc -l`` prints;
- the two data paths of ``docs/architecture.md`` as the list of files and functions a chunk
  passes through, each hop checked: ``MISSING`` where its file has no ``def <function>`` (the
  path below went stale: update it here and in the doc together).

Reads files only; needs git for ``--rev``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "realtime", "audio", "video", "dsp")

#: (file, function, what happens there). The path of a chunk as it stands; DSP helpers called
#: inside a step are listed in HELPERS, not counted as hops.
MIC_TO_SOCKET: tuple[tuple[str, str, str], ...] = (
    ("audio/duplex.py", "callback", "PortAudio thread copies the mic block into the ring"),
    ("audio/ring.py", "write_slot", "lock-free ring of preallocated blocks"),
    ("audio/engine.py", "process", "engine thread: device watch, then drain"),
    ("audio/capture.py", "drain", "AEC, resample, VAD, mode gate -> MicAudio"),
    ("app/conversation.py", "_pump_audio", "front end feeds MicAudio to the core"),
    ("app/core.py", "handle", "dispatch by isinstance"),
    ("app/core_mic.py", "on_mic", "RecordMic + Send(AppendAudio); front end performs it"),
    ("realtime/reconnect.py", "send", "current connection, or keep/drop while reconnecting"),
    ("realtime/session.py", "send", "core.send, then write the messages"),
    ("realtime/openai.py", "_append", "input_audio_buffer.append (gemini.py for Gemini)"),
    ("realtime/_wire.py", "b64encode", "base64 + JSON"),
)
REPLY_TO_SPEAKER: tuple[tuple[str, str, str], ...] = (
    ("realtime/session.py", "_read", "reader task: message -> core.receive -> event queue"),
    ("realtime/_wire.py", "receive", "JSON parse, dispatch by type (never raises)"),
    ("realtime/openai.py", "_on_audio_delta", "response.output_audio.delta -> AudioDelta"),
    ("realtime/_wire.py", "b64decode", "base64 decode"),
    ("realtime/reconnect.py", "events", "relays the events across reconnects"),
    ("app/conversation.py", "_pump_events", "front end feeds the event to the core"),
    ("app/core.py", "handle", "dispatch by isinstance"),
    ("app/core_server.py", "_on_audio_delta", "AudioDelta -> Play(delta, position_ms)"),
    (
        "app/conversation.py",
        "_perform_one",
        "performs Play: audio.play (+ played_audio for the file)",
    ),
    ("audio/engine.py", "play", "forwards to the open pipeline's player"),
    ("audio/player.py", "play", "resample to the device rate, command queue"),
    ("audio/player.py", "fill", "PortAudio thread: jitter buffer -> output block"),
    ("audio/jitter.py", "read_into", "the jitter buffer"),
    ("audio/duplex.py", "callback", "copies the block to the device"),
)
HELPERS = {
    "mic": ("audio/aec.py", "dsp/resample.py", "dsp/vad.py", "audio/modes.py"),
    "reply": ("dsp/resample.py",),
}


def reader(rev: str | None) -> tuple[Callable[[str], str | None], list[str]]:
    """A file reader and the list of ``*.py`` files of PACKAGES, at ``rev`` or on disk."""
    if rev is None:
        files = sorted(
            str(p.relative_to(REPO)) for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")
        )

        def read(path: str) -> str | None:
            p = REPO / path
            return p.read_text(encoding="utf-8") if p.is_file() else None

        return read, files
    out = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "-r", "--name-only", rev, "--", *PACKAGES],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    files = sorted(f for f in out.splitlines() if f.endswith(".py"))

    def read_rev(path: str) -> str | None:
        r = subprocess.run(
            ["git", "-C", str(REPO), "show", f"{rev}:{path}"], capture_output=True, text=True
        )
        return r.stdout if r.returncode == 0 else None

    return read_rev, files


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rev", help="a git revision instead of the working tree")
    p.add_argument("--top", type=int, default=12, help="how many of the largest modules (12)")
    args = p.parse_args()
    read, files = reader(args.rev)
    sizes: list[tuple[int, str]] = []
    any_count = 0
    for f in files:
        text = read(f) or ""
        sizes.append((text.count("\n"), f))
        if f.startswith("app/"):
            any_count += len(re.findall(r"\bAny\b", text))
    sizes.sort(reverse=True)
    where = args.rev or "working tree"
    print(f"figures of {where}")
    print(f"largest modules of {' '.join(PACKAGES)} (lines):")
    for n, f in sizes[: args.top]:
        print(f"  {n:5d}  {f}")
    print(f"  modules over 400 lines: {sum(1 for n, _ in sizes if n > 400)}")
    print(f"'Any' in app/ (grep -rwo --include='*.py' Any app | wc -l): {any_count}")
    for name, path, helpers in (
        ("microphone chunk -> socket", MIC_TO_SOCKET, HELPERS["mic"]),
        ("reply audio delta -> speaker", REPLY_TO_SPEAKER, HELPERS["reply"]),
    ):
        distinct = list(dict.fromkeys(f for f, _, _ in path))
        print(f"{name}: {len(distinct)} files ({len(distinct) + len(helpers)} with DSP helpers)")
        for f, func, what in path:
            text = read(f)
            ok = text is not None and re.search(rf"^\s*(async\s+)?def {func}\(", text, re.M)
            print(f"  {f}:{func}{'' if ok else '  MISSING'}  — {what}")
        print(f"  helpers inside a step: {', '.join(helpers)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
