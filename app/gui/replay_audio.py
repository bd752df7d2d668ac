"""The replay's sound: the session's mix played from a position at 1× or 2× (sounddevice).

One ``ReplayAudio`` is one output stream, opened for one Play (``app.gui.replay_view``).
``start``/``stop``/``close`` may block briefly (PortAudio): call them on a worker; the callback
copies from the preloaded array only.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

from app.sessions import REPLAY_RATE_HZ

__all__ = ["ReplayAudio", "stop_and_close"]


class ReplayAudio:
    """Plays the mix from a position at 1× or 2× through sounddevice (callback copies only).

    ``position_ms()`` is the playback clock. ``start``/``stop`` may block briefly (PortAudio):
    the view calls them on its worker.
    """

    def __init__(self, audio: Any) -> None:
        import sounddevice as sd

        self._audio = audio
        self._pos = 0  # sample index into audio (advanced by the callback)
        self._speed = 1
        self._lock = threading.Lock()
        #: monotonic time of the last callback (0.0: none yet); read by the GUI thread
        self.last_callback_s = 0.0
        self._stream = sd.OutputStream(
            samplerate=REPLAY_RATE_HZ,
            channels=1,
            dtype="int16",
            blocksize=480,
            callback=self._callback,
        )

    def _callback(self, outdata: Any, frames: int, _time: Any, _status: Any) -> None:
        pos, speed = self._pos, self._speed
        chunk = self._audio[pos : pos + frames * speed : speed]
        outdata[: len(chunk), 0] = chunk
        outdata[len(chunk) :, 0] = 0
        self._pos = pos + frames * speed
        self.last_callback_s = time.monotonic()

    @property
    def running(self) -> bool:
        """The callback has run: ``position_ms()`` is the clock of what is heard."""
        return self.last_callback_s > 0.0

    def seek(self, ms: float) -> None:
        self._pos = max(0, int(ms * REPLAY_RATE_HZ / 1000))

    def set_speed(self, speed: int) -> None:
        self._speed = speed

    def position_ms(self) -> float:
        return self._pos * 1000.0 / REPLAY_RATE_HZ

    def start(self) -> None:
        self._stream.start()

    def stop(self) -> None:
        self._stream.stop()

    def close(self) -> None:
        self._stream.close()


def stop_and_close(player: ReplayAudio) -> None:
    """Worker: end a stream; a dead one (PortAudio re-initialised) is simply dropped."""
    with contextlib.suppress(Exception):
        player.stop()
    with contextlib.suppress(Exception):
        player.close()
