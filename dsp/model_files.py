"""Where the model files fetched at set-up time live.

The Makefile's fetch scripts (``scripts/fetch_smart_turn.py``, ``scripts/fetch_face_model.py``)
put each file in ``<sys.prefix>/share/voicecam/``; an environment variable may name another file
(tests, a model kept elsewhere). Pure path arithmetic: nothing is opened or checked here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["shared_model_path"]


def shared_model_path(file_name: str, env_var: str) -> Path:
    """``$env_var`` if it is set and not empty, else ``<sys.prefix>/share/voicecam/file_name``."""
    override = os.environ.get(env_var)
    if override:
        return Path(override)
    return Path(sys.prefix) / "share" / "voicecam" / file_name
