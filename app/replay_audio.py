"""Replay audio at 0.5×–2× with the original pitch, seekable, for an audio callback.

:class:`StretchedTrack` wraps ``dsp.timestretch.WsolaPlayer`` (WSOLA) over a decoded session
track (mono ``(n,)`` or ``(n, channels)`` int16) with a lock, so the GUI thread may ``seek`` and
``set_speed`` while the PortAudio callback ``fill``\\ s blocks. Used by the window's replay view
(``app.gui.replay_audio.ReplayAudio``) and ``voicecam replay`` (``app.replay``). Before it, 2×
played every other sample (or resampled), which raised the pitch an octave.

Thread contract: every method may be called from any thread; ``fill`` holds the lock while it
computes one block (~0.3 ms for 20 ms at 24 kHz on this machine), the others only briefly.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from dsp.timestretch import MAX_SPEED, MIN_SPEED, WsolaPlayer

__all__ = ["MAX_SPEED", "MIN_SPEED", "SPEEDS", "StretchedTrack"]

#: The speeds a replay offers (the view's speed box).
SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


class StretchedTrack:
    """See the module docstring. ``position_ms`` is the session time of the next sample."""

    def __init__(self, samples: npt.NDArray[np.int16], rate_hz: int, speed: float = 1.0) -> None:
        self._player = WsolaPlayer(samples, rate_hz, speed)
        self._mono = np.asarray(samples).ndim == 1
        self._lock = threading.Lock()

    @property
    def rate_hz(self) -> int:
        return self._player.rate_hz

    @property
    def speed(self) -> float:
        return self._player.speed

    @property
    def duration_ms(self) -> float:
        return self._player.duration_ms

    @property
    def position_ms(self) -> float:
        with self._lock:
            return self._player.position_ms

    @property
    def finished(self) -> bool:
        with self._lock:
            return self._player.finished

    def seek(self, ms: float) -> None:
        """Continue from ``ms`` into the session (clamped)."""
        with self._lock:
            self._player.seek(ms)

    def set_speed(self, speed: float) -> None:
        """0.5–2.0 (ValueError otherwise); from the next block on, from where it is."""
        with self._lock:
            self._player.set_speed(speed)

    def read(self, frames: int) -> npt.NDArray[np.int16]:
        """The next ``frames`` samples: ``(frames,)`` for a mono track, else ``(frames, ch)``."""
        with self._lock:
            out = np.asarray(self._player.read(frames), np.int16)
        return out[:, 0] if self._mono else out

    def fill(self, outdata: npt.NDArray[np.int16]) -> None:
        """Write the next ``len(outdata)`` samples into a callback's ``(frames, channels)``
        buffer (a mono track goes to every channel; silence after the end)."""
        block = self.read(len(outdata))
        if block.ndim == 1:
            outdata[:] = block[:, None]
        else:
            outdata[:] = block
