"""What the session exporters share: the error, the all-or-nothing output file, clock text.

``atomic_output(out)`` is how every exporter writes: to a temporary name in ``out``'s folder,
renamed over ``out`` only once complete, so a failed export (a full disk, a bad frame) leaves
nothing half done. ``ExportError`` is what ``app.export.export`` raises for a bad target or a
failed write (its message names the file and the reason). Pure apart from the file system;
any thread.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ExportError", "atomic_output", "fmt_ms", "short_clock"]


class ExportError(Exception):
    """The export could not be written (message names the file and the reason)."""


def fmt_ms(ms: float, sep: str = ".") -> str:
    """``H:MM:SS.mmm`` style clock (``sep=","`` for SRT)."""
    ms = max(0, round(ms))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, milli = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{milli:03d}"


def short_clock(ms: float) -> str:
    """``M:SS`` (minutes not wrapped at the hour) for headings and captions."""
    s = max(0, int(ms // 1000))
    return f"{s // 60}:{s % 60:02d}"


@contextlib.contextmanager
def atomic_output(out: Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``out`` (its folder made if missing) that takes ``out``'s name
    only when the ``with`` body finishes; on an exception it is removed and ``out`` is left as
    it was. ``suffix``: the temporary file's (default ``out``'s, for writers that go by it)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=suffix or out.suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
