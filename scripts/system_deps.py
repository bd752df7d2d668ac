"""Check the Debian packages VoiceCam needs; install them when root, else print the command.

Usage: python3 scripts/system_deps.py PKG [PKG ...]   (exit 1 when something is missing)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def missing(packages: list[str]) -> list[str]:
    """Packages dpkg does not report as installed (all of them when dpkg is absent)."""
    if shutil.which("dpkg-query") is None:
        return []  # not Debian: nothing we can check; the app reports missing libraries itself
    absent = []
    for name in packages:
        probe = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
        )
        if "install ok installed" not in probe.stdout:
            absent.append(name)
    return absent


def main(argv: list[str]) -> int:
    absent = missing(argv)
    if not absent:
        return 0
    command = ["apt-get", "install", "-y", "--no-install-recommends", *absent]
    if os.geteuid() != 0:
        print("VoiceCam needs these system packages. Run:\n")
        print("    sudo apt-get update && sudo " + " ".join(command) + "\n")
        print("then run make again.")
        return 1
    print("Installing system packages: " + " ".join(absent), flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(command, check=True, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
