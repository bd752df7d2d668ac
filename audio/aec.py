"""Echo cancellation (WebRTC AEC3 via ``pywebrtc-audio``) with an echo-reduction meter.

One ``EchoCanceller`` per stream, used only on the engine thread (the library is not
thread-safe). ``process(near, far)`` takes the microphone block and *exactly* the block that was
written to the speaker in the same duplex callback; both are int16 at the device rate with a whole
number of 10 ms frames (otherwise AEC3 zero-pads and quality collapses, so that is an error).

When disabled (headphones), ``process`` still runs noise suppression if asked, and the meter
reports ``None``.

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

    def process(self, near: Int16Array, far: Int16Array) -> Int16Array:
        """Cancel the echo of ``far`` in ``near``; returns the cleaned block (new array)."""
        if near.shape != far.shape or near.shape[0] % self.frame:
            raise AudioConfigError(
                f"echo canceller got {near.shape[0]} mic / {far.shape[0]} speaker samples: "
                f"blocks must match and be multiples of {self.frame} (10 ms)"
            )
        if self._proc is None:
            return near.copy()
        out = self._proc.process(near, far) if self.enabled else self._proc.process(near)
        if self.enabled:
            self._meter(near, far, out)
        return out

    def _meter(self, near: Int16Array, far: Int16Array, out: Int16Array) -> None:
        p_far = float(np.mean(np.square(far, dtype=np.float64)))
        if p_far < _FAR_ACTIVE:
            return
        a = self._alpha
        self._p_near += a * (float(np.mean(np.square(near, dtype=np.float64))) - self._p_near)
        self._p_out += a * (float(np.mean(np.square(out, dtype=np.float64))) - self._p_out)
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
        if path < -_ECHO_NEGLIGIBLE_DB or erle >= 20.0:
            return "speakers_ok"
        if self._active_blocks < 100:  # < ~1 s of playback at 10 ms blocks
            return "converging"
        return "use_headphones"

    def reset(self) -> None:
        if self._proc is not None:
            self._proc.reset()
        self._p_near = self._p_out = self._p_far = 0.0
        self._active_blocks = 0
