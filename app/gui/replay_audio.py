"""The replay's sound: the session's mix played from a position at 0.5×–2× (sounddevice), the
pitch kept (WSOLA, ``app.replay_audio.StretchedTrack``).

One ``ReplayAudio`` is one output stream, opened for one Play (``app.gui.replay_view``).
``start``/``stop``/``close`` may block briefly (PortAudio): call them on a worker; the callback
only reads from the stretched track.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import numpy.typing as npt

from app.replay_audio import StretchedTrack
from app.sessions import REPLAY_RATE_HZ

__all__ = ["ReplayAudio", "stop_and_close"]


class ReplayAudio:
    """Plays the mix from a position at 0.5×–2× through sounddevice, pitch kept.

    ``position_ms()`` is the playback clock. ``start``/``stop`` may block briefly (PortAudio):
    the view calls them on its worker.
    """

    def __init__(self, audio: npt.NDArray[np.int16]) -> None:
        """``audio``: the session's mix, mono int16 at ``REPLAY_RATE_HZ``."""
        import sounddevice as sd

        self.track = StretchedTrack(audio, REPLAY_RATE_HZ)
        #: monotonic time of the last callback (0.0: none yet); read by the GUI thread
        self.last_callback_s = 0.0
        self._stream = sd.OutputStream(
            samplerate=REPLAY_RATE_HZ,
            channels=1,
            dtype="int16",
            blocksize=480,
            callback=self._callback,
        )

    def _callback(
        self, outdata: npt.NDArray[np.int16], frames: int, _time: object, _status: object
    ) -> None:
        """PortAudio's thread: ``outdata`` is the (frames, 1) int16 block to fill."""
        self.track.fill(outdata)
        self.last_callback_s = time.monotonic()

    @property
    def running(self) -> bool:
        """The callback has run: ``position_ms()`` is the clock of what is heard."""
        return self.last_callback_s > 0.0

    def seek(self, ms: float) -> None:
        self.track.seek(ms)

    def set_speed(self, speed: float) -> None:
        """0.5–2.0 (``app.replay_audio.SPEEDS``); from the next block on."""
        self.track.set_speed(speed)

    def position_ms(self) -> float:
        return self.track.position_ms

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
