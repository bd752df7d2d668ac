"""Money spent per day, kept in a small JSON file so a daily budget survives restarts.

File: ``{"version": 1, "days": {"2026-12-05": 0.1234, ...}}`` (US dollars, the user's local
calendar day, the last ``KEEP_DAYS`` days). Every write goes to a temporary file in the same
folder, is flushed to disk and then renamed over the old one (``os.replace``), so a killed
process or a power cut leaves either the old total or the new one, never a torn file.

A file that cannot be read (damaged, hand-edited) is kept aside as ``<name>.damaged`` and the
reason is in :attr:`SpendStore.problem` (a sentence for the user); counting starts again from
what can be known. A file that cannot be written raises :class:`SpendStoreError`.

Thread: one writer per process (the conversation's engine thread); two VoiceCam windows at once
may lose one of two simultaneous additions (the last rename wins).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

__all__ = ["KEEP_DAYS", "SpendStore", "SpendStoreError"]

KEEP_DAYS = 62


class SpendStoreError(OSError):
    """The daily total could not be saved (names the file and why)."""


class SpendStore:
    """The per-day totals in ``path`` (created on the first ``add``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problem = ""
        self._days = self._load()

    def day_usd(self, day: dt.date) -> float:
        return self._days.get(day.isoformat(), 0.0)

    def add(self, day: dt.date, usd: float) -> float:
        """Add ``usd`` (≥ 0) to ``day`` and save at once; returns the day's new total."""
        if usd < 0:
            raise ValueError(f"spend cannot be negative: {usd}")
        key = day.isoformat()
        self._days[key] = self._days.get(key, 0.0) + usd
        keep = sorted(self._days)[-KEEP_DAYS:]
        self._days = {k: self._days[k] for k in keep}
        self._save()
        return self._days[key]

    # -- file ------------------------------------------------------------------------

    def _load(self) -> dict[str, float]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as e:
            self.problem = f"The daily spend file {self.path} cannot be read ({e.strerror})."
            return {}
        try:
            data = json.loads(text)
            days = data["days"]
            out = {str(k): float(v) for k, v in days.items()}
            for k, v in out.items():
                dt.date.fromisoformat(k)
                if v < 0:
                    raise ValueError(k)
            return out
        except (ValueError, KeyError, TypeError, AttributeError):
            aside = self.path.with_name(self.path.name + ".damaged")
            try:
                os.replace(self.path, aside)
                where = f"kept as {aside.name}"
            except OSError:
                where = "left in place"
            self.problem = (
                f"The daily spend file {self.path} was damaged ({where}); today's total "
                "counts from now."
            )
            return {}

    def _save(self) -> None:
        data = json.dumps({"version": 1, "days": self._days}, indent=1, sort_keys=True)
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(folder)
        except OSError as e:
            raise SpendStoreError(
                f"could not save today's spend to {self.path}: {e.strerror or e}"
            ) from e


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
