"""Fetch the Smart Turn v3.2 end-of-turn model into ``<venv>/share/voicecam/``.

The model (BSD-2-Clause, Daily) ships only inside the ``pipecat-ai`` wheel. Depending on
``pipecat-ai`` would pull in its whole dependency tree for one 8 MB file, so this script asks pip
for that one wheel (``--no-deps``), checks the sha256 of the wheel and of the model, and extracts
the model and its licence notice. Run by the Makefile's install targets; safe to run again (does
nothing when the model is already in place with the right checksum).

Usage: python scripts/fetch_smart_turn.py [--dest DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

from wheel_download import default_dest, download_wheel, sha256_of

WHEEL_REQUIREMENT = "pipecat-ai==1.14.0"
WHEEL_NAME = "pipecat_ai-1.14.0-py3-none-any.whl"
WHEEL_SHA256 = "0352f504b44e78bdf524e45af4bc759601c835b9b7dc195efe5e03384b974a44"
MODEL_MEMBER = "pipecat/audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
MODEL_SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
LICENSE_MEMBER = "pipecat_ai-1.14.0.dist-info/licenses/LICENSE"
MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
LICENSE_FILE = "smart-turn-v3.2-LICENSE.txt"


def fetch(dest: Path) -> Path:
    """Make sure ``dest/MODEL_FILE`` holds the verified model; return its path."""
    model = dest / MODEL_FILE
    if model.is_file() and sha256_of(model) == MODEL_SHA256 and (dest / LICENSE_FILE).is_file():
        return model
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voicecam-smart-turn-") as tmp:
        wheel = download_wheel(WHEEL_REQUIREMENT, WHEEL_NAME, WHEEL_SHA256, Path(tmp))
        with zipfile.ZipFile(wheel) as archive:
            partial = model.with_suffix(".part")
            partial.write_bytes(archive.read(MODEL_MEMBER))
            (dest / LICENSE_FILE).write_bytes(
                b"Smart Turn v3.2 model, extracted from the pipecat-ai 1.14.0 wheel.\n\n"
                + archive.read(LICENSE_MEMBER)
            )
    got = sha256_of(partial)
    if got != MODEL_SHA256:
        partial.unlink()
        raise SystemExit(f"{MODEL_FILE}: sha256 {got} is not the expected {MODEL_SHA256}")
    partial.replace(model)
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=default_dest())
    args = parser.parse_args(argv)
    print(f"smart turn model: {fetch(args.dest)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
