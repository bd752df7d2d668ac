"""One settings folder: ``app.config.config_dir()`` (``~/.config/voicecam`` on Linux).

Up to now the window kept its geometry in Qt's own place for organisation and application
"VoiceCam" (``~/.config/VoiceCam/VoiceCam.ini``) beside ``~/.config/voicecam/settings.toml``.
Now everything lives in ``config_dir()``: the window's state is ``window.ini`` there, and
``migrate_legacy_config`` moves the old folder's files over once, losing none:

- a file the new folder lacks is moved there (``VoiceCam.ini`` becomes ``window.ini``);
- a file the new folder already has with the same bytes is dropped from the old folder;
- a file that differs is moved beside it as ``<name>.from-VoiceCam`` (``-2``, ``-3`` … if
  that exists too), so both are kept;
- the old folder is removed once empty, so the migration runs once.

It never raises: a file that cannot be moved stays where it was and is named in the result.
With ``VOICECAM_CONFIG_DIR`` set (tests, portable installs) there is no old folder to migrate.
"""

from __future__ import annotations

import contextlib
import filecmp
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app.config import config_dir

__all__ = [
    "LEGACY_APP_NAME",
    "WINDOW_STATE_FILE",
    "Migration",
    "legacy_config_dir",
    "migrate_legacy_config",
    "window_state_path",
]

log = logging.getLogger(__name__)

#: The organisation/application name Qt used for the window's settings folder.
LEGACY_APP_NAME = "VoiceCam"
#: The window's own state (geometry, splitter) in ``config_dir()``.
WINDOW_STATE_FILE = "window.ini"
_RENAMES = {f"{LEGACY_APP_NAME}.ini": WINDOW_STATE_FILE}
_ASIDE = f".from-{LEGACY_APP_NAME}"


@dataclass(frozen=True)
class Migration:
    """What ``migrate_legacy_config`` did, as paths relative to the folders."""

    moved: tuple[str, ...] = ()  # now in the new folder under their (renamed) name
    kept_aside: tuple[str, ...] = ()  # differed from a file already there: moved as *.from-…
    duplicates: tuple[str, ...] = ()  # identical to a file already there: dropped
    failed: tuple[str, ...] = ()  # could not be moved (still in the old folder)

    @property
    def problem(self) -> str:
        """One sentence for the user when some files could not be moved, else ""."""
        if not self.failed:
            return ""
        return (
            f"Could not move {', '.join(self.failed)} from the old settings folder "
            f"{legacy_config_dir()} to {config_dir()}; VoiceCam uses {config_dir()}."
        )


def window_state_path() -> Path:
    """The window's state file: ``config_dir() / "window.ini"``."""
    return config_dir() / WINDOW_STATE_FILE


def legacy_config_dir() -> Path | None:
    """The old Qt settings folder, or None when ``VOICECAM_CONFIG_DIR`` chooses the folder."""
    if os.environ.get("VOICECAM_CONFIG_DIR"):
        return None
    return Path(platformdirs.user_config_dir(LEGACY_APP_NAME, appauthor=False))


def _free_aside_name(target: Path) -> Path:
    candidate = target.with_name(target.name + _ASIDE)
    n = 2
    while candidate.exists():
        candidate = target.with_name(f"{target.name}{_ASIDE}-{n}")
        n += 1
    return candidate


def _same_folder(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)  # one folder on a case-insensitive file system
    except OSError:
        return False


def migrate_legacy_config(target: Path, legacy: Path | None) -> Migration:
    """Move ``legacy``'s files into ``target`` (see the module docstring). Blocking file I/O;
    call it once at start-up, before the settings are read."""
    if legacy is None or not legacy.is_dir() or _same_folder(legacy, target):
        return Migration()
    moved: list[str] = []
    aside: list[str] = []
    duplicates: list[str] = []
    failed: list[str] = []
    for src in sorted(legacy.rglob("*")):
        if src.is_dir():
            continue
        rel = src.relative_to(legacy)
        dest = target / rel.parent / _RENAMES.get(rel.name, rel.name)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.exists():
                shutil.move(src, dest)
                moved.append(str(rel))
            elif dest.is_file() and filecmp.cmp(src, dest, shallow=False):
                src.unlink()
                duplicates.append(str(rel))
            else:
                keep = _free_aside_name(dest)
                shutil.move(src, keep)
                aside.append(str(keep.relative_to(target)))
        except OSError as exc:
            log.warning("could not move %s to %s: %s", src, target, exc.strerror or exc)
            failed.append(str(rel))
    for folder in sorted((p for p in legacy.rglob("*") if p.is_dir()), reverse=True):
        _remove_if_empty(folder)
    _remove_if_empty(legacy)
    result = Migration(tuple(moved), tuple(aside), tuple(duplicates), tuple(failed))
    if moved or aside or duplicates:
        log.info("moved the settings in %s to %s", legacy, target)
    return result


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty (a file could not be moved) or gone
        folder.rmdir()
