"""Which ``voicecam`` flags the window honours, and the settings overrides they make.

``voicecam --backend openai --camera desk.mp4`` opens the window on OpenAI with that video as
the camera, for that launch only: the flags become explicit overrides of
``app.compose.resolve_settings`` (flags > environment > settings file), and the window saves
only what the person changes while it runs (``app.gui.main.save_changes_only``), so a flag is
never written to the settings file. Flags that only make sense without a window (a scripted
question, a reply file, a recording folder, a local model server) still need ``--headless``.

Qt-free and pure: the CLI (``app.cli``) calls it before the window module is imported.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the composition root loads the audio stack: not needed to read flags
    from app.compose import SettingValue

__all__ = ["HEADLESS_ONLY", "WINDOW_FLAGS", "launch_note", "window_overrides"]

#: argparse destinations the window applies (the settings field each sets, by ``window_overrides``).
WINDOW_FLAGS = (
    "backend",
    "model",
    "voice",
    "instructions",
    "mode",
    "turn_detection",
    "camera",
    "video",
    "image",
    "input_device",
    "output_device",
)

#: argparse destinations that need ``--headless`` (no meaning for the window).
HEADLESS_ONLY = (
    "audio_in",
    "audio_out",
    "text",
    "record",
    "llm_url",
    "llm_model",
    "llm_no_vision",
    "llm_key_env",
)


def _given(value: object) -> bool:
    return value is not None and value != ""


def window_overrides(args: argparse.Namespace) -> dict[str, SettingValue]:
    """The ``Settings`` fields the window flags set (absent flags are left out).

    ``--camera NAME``, ``--video FILE`` and ``--image FILE`` all set the ``camera`` setting
    (the window opens any of them through ``app.compose.open_video``); a file is made absolute
    so that it still opens whatever the working folder of a later step. Choosing a camera this
    way also turns it on when the conversation starts (``camera_on``).
    """
    out: dict[str, SettingValue] = {}
    for name in ("backend", "model", "voice", "instructions", "mode", "turn_detection"):
        value = getattr(args, name, None)
        if _given(value):
            out[name] = str(value)
    for name in ("input_device", "output_device"):
        value = getattr(args, name, None)
        if _given(value):
            out[name] = str(value)
    camera = getattr(args, "camera", None)
    for name in ("video", "image"):
        path = getattr(args, name, None)
        if path is not None and _given(path):
            camera = str(Path(str(path)).expanduser().resolve())
    if _given(camera):
        out["camera"] = str(camera)
        out["camera_on"] = True
    return out


def launch_note(overrides: dict[str, SettingValue]) -> str:
    """One sentence for the status bar naming what the command line set ("" if nothing)."""
    shown = [
        f"{name.replace('_', ' ')} {value}"
        for name, value in overrides.items()
        if name not in ("instructions", "camera_on")
    ]
    if "instructions" in overrides:
        shown.append("instructions")
    if not shown:
        return ""
    return f"From the command line for this launch (not saved): {', '.join(shown)}."
