"""Run lint, formatting, the layering contracts, mypy and the whole suite.

pytest's exit code 5 ("no tests collected") is turned into a failure: a suite that ran
nothing must not pass.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    checks = [
        [str(BIN / "ruff"), "check", "."],
        [str(BIN / "ruff"), "format", "--check", "."],
        [str(BIN / "lint-imports")],
        # strict on realtime, audio, video, dsp and app outside app/gui (pyproject.toml)
        [str(BIN / "mypy"), "realtime", "audio", "video", "dsp", "app", "--exclude", "^app/gui/"],
    ]
    for command in checks:
        print("$", " ".join(command), flush=True)
        if subprocess.run(command).returncode != 0:
            return 1
    code = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-ra", *sys.argv[1:]]
    ).returncode
    if code == 5:
        print("pytest collected no tests: that is a failure here", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
