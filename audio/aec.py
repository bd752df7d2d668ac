"""Echo cancellation (WebRTC AEC3 via ``pywebrtc-audio``) with an echo-reduction meter.

One ``EchoCanceller`` per stream, used only on the engine thread (the library is not
thread-safe). ``process(near, far)`` takes the microphone block and *exactly* the block that was
written to the speaker in the same duplex callback; both are int16 at the device rate with a whole
number of 10 ms frames (otherwise AEC3 zero-pads and quality collapses, so that is an error).

When disabled (headphones), ``process`` still runs noise suppression if asked, and the meter
reports ``None``.

Echo-free bypass (measured here): with *no* echo path at all (headphones the user did not declare,
virtual devices) AEC3 never finds one and keeps suppressing the microphone while the speaker
plays, by ~40 dB: the user's barge-in is lost. So the canceller tracks the acoustic coupling
(mic power / speaker power, smoothed over 150 ms, judged after 300 ms of unbroken playback so a
delayed echo has arrived; falls at once to a new minimum, rises 3 dB/s) and while
it stays below -50 dB it feeds AEC3 a silent far end (it then only filters and denoises). It
re-engages above -45 dB, and starts engaged (coupling assumed 0 dB) after every reset.

ERLE (echo return loss enhancement, dB) = mic power / cleaned power, smoothed over blocks where
the speaker was playing (far end above -50 dBFS). ``hint()`` turns it into what the GUI shows.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt
from pywebrtc_audio import AudioProcessor

from audio.errors import AudioConfigError

Int16Array = npt.NDArray[np.int16]
EchoHint = Literal["aec_off", "no_playback", "speakers_ok", "converging", "use_headphones"]

_FAR_ACTIVE = (10 ** (-50 / 20) * 32768.0) ** 2  # mean-square of -50 dBFS
_ECHO_NEGLIGIBLE_DB = 35.0  # mic this far below the speaker: no audible echo path at all
_BYPASS_BELOW_DB = -50.0  # coupling under this: no echo path, stop feeding the far end
_ENGAGE_ABOVE_DB = -45.0
_COUPLING_RISE_DB_PER_S = 3.0


def mean_square(x: Int16Array) -> float:
    """Mean of the squared samples (int16 units²; 0.0 for no samples). One float32 copy and a
    dot product: a third of ``np.mean(np.square(x, dtype=float64))``'s time on 10 ms blocks,
    and precise enough for levels (float32 sums of ≤ 4800 squares)."""
    n = int(x.shape[0])
    if n == 0:
        return 0.0
    f = x.astype(np.float32)
    return float(np.dot(f, f)) / n


class EchoCanceller:
    """AEC3 + noise suppression on mono int16 blocks at ``rate_hz``."""

    def __init__(
        self,
        rate_hz: int,
        enabled: bool = True,
        noise_suppression: bool = True,
        delay_hint_ms: int = 0,
        smoothing: float = 0.05,
    ) -> None:
        if rate_hz % 100:
            raise AudioConfigError(
                f"echo cancellation needs whole 10 ms frames; {rate_hz} Hz has none"
            )
        self.rate_hz = rate_hz
        self.enabled = enabled
        self.frame = rate_hz // 100
        self._proc: AudioProcessor | None = None
        if enabled or noise_suppression:
            self._proc = AudioProcessor(
                sample_rate=rate_hz,
                echo_cancellation=enabled,
                noise_suppression=noise_suppression,
                high_pass_filter=True,
                stream_delay_ms=delay_hint_ms,
            )
        self._alpha = smoothing
        self._p_near = 0.0
        self._p_out = 0.0
        self._p_far = 0.0
        self._active_blocks = 0
        self.coupling_db = 0.0
        self.engaged = True
        self._zeros: Int16Array = np.zeros(0, dtype=np.int16)
        self._far_run = 0
        self._s_near = 0.0
        self._s_far = 0.0
        #: mean-square of the last ``process()`` call's mic and speaker blocks (int16 units²):
        #: the engine's level meters read these instead of measuring the blocks again.
        self.near_power = 0.0
        self.far_power = 0.0

    def process(self, near: Int16Array, far: Int16Array) -> Int16Array:
        """Cancel the echo of ``far`` in ``near``; returns the cleaned block (new array)."""
        if near.shape != far.shape or near.shape[0] % self.frame:
            raise AudioConfigError(
                f"echo canceller got {near.shape[0]} mic / {far.shape[0]} speaker samples: "
                f"blocks must match and be multiples of {self.frame} (10 ms)"
            )
        p_near = mean_square(near)
        p_far = mean_square(far)
        self.near_power, self.far_power = p_near, p_far
        if self._proc is None:
            return near.copy()
        if not self.enabled:
            return self._proc.process(near)
        self._track_coupling(p_near, p_far, near.shape[0])
        if self.engaged:
            out = self._proc.process(near, far)
        else:
            if self._zeros.shape != far.shape:
                self._zeros = np.zeros(far.shape, dtype=np.int16)
            out = self._proc.process(near, self._zeros)
        if p_far >= _FAR_ACTIVE:
            self._meter(p_near, p_far, out)
        return out

    def _track_coupling(self, p_near: float, p_far: float, n: int) -> None:
        """Smoothed (150 ms) mic/speaker power ratio, only once the speaker has played for
        300 ms without a break, so a delayed echo has arrived before it is judged absent."""
        if p_far < _FAR_ACTIVE:
            self._far_run = 0
            return
        a = min(1.0, n / (0.15 * self.rate_hz))
        if self._far_run == 0:
            self._s_near, self._s_far = p_near, p_far
        else:
            self._s_near += a * (p_near - self._s_near)
            self._s_far += a * (p_far - self._s_far)
        self._far_run += n
        if self._far_run < 0.3 * self.rate_hz:
            return
        ratio = 10.0 * math.log10((self._s_near + 1.0) / (self._s_far + 1.0))
        if ratio < self.coupling_db:
            self.coupling_db = ratio
        else:
            rise = _COUPLING_RISE_DB_PER_S * n / self.rate_hz
            self.coupling_db = min(ratio, self.coupling_db + rise)
        if self.engaged and self.coupling_db < _BYPASS_BELOW_DB:
            self.engaged = False
        elif not self.engaged and self.coupling_db > _ENGAGE_ABOVE_DB:
            self.engaged = True

    def _meter(self, p_near: float, p_far: float, out: Int16Array) -> None:
        a = self._alpha
        self._p_near += a * (p_near - self._p_near)
        self._p_out += a * (mean_square(out) - self._p_out)
        self._p_far += a * (p_far - self._p_far)
        self._active_blocks += 1

    @property
    def erle_db(self) -> float | None:
        """Smoothed echo reduction in dB while playing; None when off or nothing played yet."""
        if not self.enabled or self._active_blocks == 0:
            return None
        return 10.0 * math.log10((self._p_near + 1.0) / (self._p_out + 1.0))

    @property
    def echo_path_db(self) -> float | None:
        """Mic level relative to speaker level while playing (dB, negative = quieter)."""
        if not self.enabled or self._active_blocks == 0:
            return None
        return 10.0 * math.log10((self._p_near + 1.0) / (self._p_far + 1.0))

    def hint(self) -> EchoHint:
        """``speakers_ok`` / ``use_headphones`` / ``converging`` / ``no_playback`` / ``aec_off``."""
        if not self.enabled:
            return "aec_off"
        erle, path = self.erle_db, self.echo_path_db
        if erle is None or path is None:
            return "no_playback"
        if not self.engaged or path < -_ECHO_NEGLIGIBLE_DB or erle >= 20.0:
            return "speakers_ok"
        if self._active_blocks < 100:  # < ~1 s of playback at 10 ms blocks
            return "converging"
        return "use_headphones"

    def reset(self) -> None:
        if self._proc is not None:
            self._proc.reset()
        self._p_near = self._p_out = self._p_far = 0.0
        self._active_blocks = 0
        self.coupling_db = 0.0
        self.engaged = True
        self._far_run = 0
