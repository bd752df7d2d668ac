"""Writing ``--audio-out``: the whole file or nothing, and a sentence when it fails.

``write_reply_wav(path, pcm16, rate_hz)`` writes a PCM16 mono WAV. A regular file (or a new
one) is written under a temporary name in the same folder and renamed over ``path`` only once
complete, so a full disk leaves no truncated WAV (and an earlier file untouched). A device or
pipe (``/dev/stdout``, a FIFO, ``/dev/full``) is written directly. Any failure raises
``AudioOutError`` whose ``str()`` names the file and the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import wave
from pathlib import Path

from dsp.pcm import write_wav


class AudioOutError(Exception):
    """The reply audio could not be written; ``str()`` says where and why."""


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "the disk is full"
    if isinstance(exc, IsADirectoryError):
        return "it is a folder"
    if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        return "it is not writable"
    return exc.strerror or str(exc)


def write_reply_wav(path: Path, pcm16: bytes, rate_hz: int) -> None:
    """Write all of it or raise ``AudioOutError`` (see module docstring)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise AudioOutError(f"cannot write the reply audio to {path}: {_reason(exc)}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise AudioOutError(f"cannot write the reply audio to {path}: it is a folder")
    try:
        if mode is not None and not stat.S_ISREG(mode):
            with path.open("wb") as f, wave.open(f, "wb") as wav:  # a device or pipe
                wav.setnchannels(1)
                wav.setsampwidth(2)
                wav.setframerate(rate_hz)
                wav.writeframes(pcm16)
            return
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            write_wav(tmp, pcm16, rate_hz)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
    except OSError as exc:
        raise AudioOutError(
            f"cannot write the reply audio to {path}: {_reason(exc)}; nothing was saved"
        ) from None
