"""Speech onset in one 10 ms block of the echo-cancelled microphone, never fired by echo.

:class:`OnsetDetector` is pure (no clock, threads or I/O; times come in as arguments). Feed it,
block by block and in order, the echo-cancelled microphone block, the raw microphone block and the
block written to the speaker in the same duplex callback (int16 mono, same length, any rate with
whole 10 ms blocks). Each :meth:`OnsetDetector.process` returns an :class:`Evidence` with a
:class:`Reason`, so a caller (and the bench) can say why a block did or did not count as voice.

Evidence per block (levels in dB relative to full scale, power of the 150–7600 Hz band, so
fricatives count):

* **noise floor**: a minimum tracker over blocks without voice (falls at once, rises
  ``floor_rise_db_per_s``);
* **predicted echo residual**: the loudest speaker block of the last ``echo_tail_ms`` times the
  learned leak (cleaned mic / speaker power on blocks judged not voice: peak-held, decaying
  ``leak_decay_db_per_s``). A false alarm (:meth:`OnsetDetector.false_alarm`) raises the leak to
  the loudest residual of that episode, so an echo that fooled it once does not fool it again;
* **raw double-talk check**: while the speaker plays and the cleaned evidence is marginal (less
  than ``strong_margin_db`` beyond the echo margin), the raw microphone must also exceed the raw
  echo predicted from the learned speaker→mic coupling by ``raw_margin_db`` (the user adds
  energy that the speaker cannot explain; a canceller that lets echo through does not).

A block is an **onset** when, outside voice, its level is ``onset_margin_db`` above the floor,
above ``min_level_dbfs`` and (while echo is possible) ``echo_margin_db`` above the predicted
residual and passes the raw check. Inside voice, a block is **voiced** at lower margins
(``sustain_margin_db``); after ``release_ms`` of unvoiced blocks (``HANGOVER`` until then) voice
ends (``RELEASED``). The learned leak rises at most ``leak_rise_db_per_block`` per
block (a soft user onset must not teach it that the user is echo), and nothing is learned for
``learn_guard_ms`` after voice ends (measured on the PulseAudio rig, which has no echo path: the
tails of the user's words taught it a coupling of −13 dB and later voice went unheard).

Not thread-safe: one instance per stream, engine thread only.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]

__all__ = ["Evidence", "OnsetConfig", "OnsetDetector", "Reason"]

_EPS = 1e-3  # power floor (int16 units squared): -135 dBFS


class Reason(enum.StrEnum):
    ONSET = "onset"
    VOICED = "voiced"
    HANGOVER = "hangover"
    WARMING_UP = "warming-up"
    QUIET = "quiet"
    ECHO = "echo"
    ECHO_RAW = "echo-raw"
    RELEASED = "released"

    @property
    def text(self) -> str:
        return _TEXT[self]


_TEXT = {
    Reason.ONSET: "voice onset: louder than the noise floor and than any echo could be",
    Reason.VOICED: "voice continues",
    Reason.HANGOVER: "voice paused (not yet ended)",
    Reason.WARMING_UP: "learning the noise floor",
    Reason.QUIET: "quiet: near the noise floor",
    Reason.ECHO: "loud, but explained by the speaker's echo residual",
    Reason.ECHO_RAW: "the raw microphone is no louder than the speaker's echo",
    Reason.RELEASED: "voice ended",
}


@dataclass(frozen=True)
class OnsetConfig:
    """Detector settings (dB, ms). ``rate_hz``: the device rate of the blocks."""

    rate_hz: int = 48000
    onset_margin_db: float = 14.0
    sustain_margin_db: float = 8.0
    min_level_dbfs: float = -58.0
    echo_margin_db: float = 10.0
    raw_margin_db: float = 4.0
    strong_margin_db: float = 10.0
    leak_rise_db_per_block: float = 0.5
    echo_tail_ms: int = 300
    far_active_dbfs: float = -60.0
    floor_rise_db_per_s: float = 3.0
    leak_decay_db_per_s: float = 6.0
    warmup_ms: int = 100
    release_ms: int = 120
    learn_guard_ms: int = 600
    band_low_hz: float = 150.0
    band_high_hz: float = 7600.0

    def __post_init__(self) -> None:
        if self.rate_hz <= 0 or self.rate_hz % 100:
            raise ValueError(f"rate_hz={self.rate_hz}: need whole samples per 10 ms")


@dataclass(frozen=True)
class Evidence:
    """What one block showed. Levels in dBFS (band power); ``echo_db`` is the predicted residual
    (-135 when the speaker has been silent for the echo tail)."""

    t_ns: int
    onset: bool
    voiced: bool
    reason: Reason
    level_db: float
    floor_db: float
    echo_db: float


def _db(p: float) -> float:
    return 10.0 * math.log10(max(p, _EPS) / (32768.0 * 32768.0))


class OnsetDetector:
    """Per-block speech onset on the echo-cancelled mic (see the module docstring)."""

    def __init__(self, config: OnsetConfig | None = None) -> None:
        self.config = cfg = config or OnsetConfig()
        self._tail_blocks = max(1, cfg.echo_tail_ms // 10)
        self._far_rise_scale = 0.0
        self._window: npt.NDArray[np.float64] | None = None
        self._band: slice | None = None
        self._n = 0
        self._pair: npt.NDArray[np.float64] = np.empty((2, 0), dtype=np.float64)
        self.reset()

    def reset(self) -> None:
        """Forget everything learned (new stream)."""
        self._blocks = 0
        self._floor_db = 0.0
        self._far_hist: deque[float] = deque(maxlen=self._tail_blocks)
        self._leak_db = -30.0  # cleaned/speaker, conservative until learned
        self._coupling_db = 0.0  # raw mic/speaker, conservative until learned
        self._coupling_known = False
        self.in_voice = False
        self._unvoiced_ms = 0
        self._guard_ms = 0
        self._episode_residual_db: float | None = None
        self.onsets = 0

    # ------------------------------------------------------------------ features
    def _window_for(self, n: int) -> npt.NDArray[np.float64]:
        """The Hann window (and band slice and scale) for ``n``-sample blocks."""
        if self._window is None or self._n != n:
            self._n = n
            self._window = np.hanning(n)
            freqs = np.fft.rfftfreq(n, 1.0 / self.config.rate_hz)
            lo = int(np.searchsorted(freqs, self.config.band_low_hz))
            hi = int(np.searchsorted(freqs, self.config.band_high_hz))
            self._band = slice(lo, max(lo + 1, hi))
            # Parseval with the Hann window: scale so a full-band signal gives its mean square
            self._scale = 2.0 / (n * float(np.sum(self._window**2)))
        return self._window

    def _band_power(self, block: Int16Array) -> float:
        """Power of the 150–7600 Hz band of one block (int16 units², like a mean square)."""
        spec = np.fft.rfft(block * self._window_for(int(block.shape[0])))
        band = spec[self._band]
        return float(np.sum(band.real**2 + band.imag**2)) * self._scale

    def _band_powers(self, clean: Int16Array, raw: Int16Array) -> tuple[float, float]:
        """``_band_power`` of both blocks in one FFT call (rows are transformed and summed
        exactly as one block alone: the same figures, half the numpy calls)."""
        window = self._window_for(int(clean.shape[0]))
        n = int(window.shape[0])
        pair = self._pair
        if pair.shape != (2, n):
            pair = self._pair = np.empty((2, n), dtype=np.float64)
        np.multiply(clean, window, out=pair[0])
        np.multiply(raw, window, out=pair[1])
        band = np.fft.rfft(pair, axis=-1)[:, self._band]
        p = np.sum(band.real**2 + band.imag**2, axis=-1) * self._scale
        return float(p[0]), float(p[1])

    @staticmethod
    def _power(block: Int16Array) -> float:
        x = block.astype(np.float64)
        return float(np.dot(x, x)) / max(1, int(x.shape[0]))

    # ------------------------------------------------------------------ decision
    def process(self, clean: Int16Array, raw: Int16Array, far: Int16Array, t_ns: int) -> Evidence:
        """Judge one block (``t_ns``: capture time of its first sample, monotonic ns)."""
        cfg = self.config
        block_ms = 1000 * int(clean.shape[0]) / cfg.rate_hz
        p_clean, p_raw = self._band_powers(clean, raw)
        level, raw_db = _db(p_clean), _db(p_raw)
        far_db = _db(self._power(far))
        self._far_hist.append(far_db)
        far_env = max(self._far_hist)
        echo_possible = far_env > cfg.far_active_dbfs
        echo_db = far_env + self._leak_db if echo_possible else -135.0
        raw_echo_db = far_env + self._coupling_db if echo_possible else -135.0
        self._blocks += 1
        if self._blocks == 1:
            self._floor_db = level
        if self._blocks * block_ms <= cfg.warmup_ms:
            self._floor_db = min(self._floor_db, level)
            self._learn_echo(level, raw_db, far_env, echo_possible)
            return Evidence(t_ns, False, False, Reason.WARMING_UP, level, self._floor_db, echo_db)
        floor = self._floor_db
        if self.in_voice:
            voiced = (
                level >= floor + cfg.sustain_margin_db
                and level >= cfg.min_level_dbfs - 6.0
                and (not echo_possible or level >= echo_db + cfg.echo_margin_db - 6.0)
            )
            if voiced:
                self._unvoiced_ms = 0
                self._note_residual(level, far_env, echo_possible)
                return Evidence(t_ns, False, True, Reason.VOICED, level, floor, echo_db)
            self._unvoiced_ms += int(block_ms)
            if self._unvoiced_ms >= cfg.release_ms:
                self.in_voice = False
                self._unvoiced_ms = 0
                self._guard_ms = cfg.learn_guard_ms
                return Evidence(t_ns, False, False, Reason.RELEASED, level, floor, echo_db)
            return Evidence(t_ns, False, False, Reason.HANGOVER, level, floor, echo_db)
        if level < floor + cfg.onset_margin_db or level < cfg.min_level_dbfs:
            self._track_floor(level, block_ms)
            self._learn_echo(level, raw_db, far_env, echo_possible)
            return Evidence(t_ns, False, False, Reason.QUIET, level, floor, echo_db)
        if echo_possible and level < echo_db + cfg.echo_margin_db:
            self._learn_echo(level, raw_db, far_env, echo_possible)
            return Evidence(t_ns, False, False, Reason.ECHO, level, floor, echo_db)
        marginal = level < echo_db + cfg.echo_margin_db + cfg.strong_margin_db
        raw_explained = raw_db < raw_echo_db + cfg.raw_margin_db
        if echo_possible and self._coupling_known and marginal and raw_explained:
            self._learn_echo(level, raw_db, far_env, echo_possible)
            return Evidence(t_ns, False, False, Reason.ECHO_RAW, level, floor, echo_db)
        self.in_voice = True
        self._unvoiced_ms = 0
        self.onsets += 1
        self._episode_residual_db = None
        self._note_residual(level, far_env, echo_possible)
        return Evidence(t_ns, True, True, Reason.ONSET, level, floor, echo_db)

    def false_alarm(self) -> None:
        """The last onset came to nothing (no voice confirmed): if the speaker was playing, its
        echo did it, so raise the learned leak to the loudest residual of that episode."""
        if self._episode_residual_db is not None:
            self._leak_db = max(self._leak_db, self._episode_residual_db)
        self._episode_residual_db = None
        self.in_voice = False
        self._unvoiced_ms = 0

    # ------------------------------------------------------------------ learning
    def _note_residual(self, level: float, far_env: float, echo_possible: bool) -> None:
        if echo_possible:
            r = level - far_env + 1.0  # just above what was seen
            prev = self._episode_residual_db
            self._episode_residual_db = r if prev is None else max(prev, r)

    def _track_floor(self, level: float, block_ms: float) -> None:
        if level < self._floor_db:
            self._floor_db = level
        else:
            rise = self.config.floor_rise_db_per_s * block_ms / 1000.0
            self._floor_db = min(level, self._floor_db + rise)

    def _learn_echo(self, level: float, raw_db: float, far_env: float, active: bool) -> None:
        if self._guard_ms > 0:  # just after voice: its tail is not echo
            self._guard_ms -= 10
            return
        if not active:
            return
        decay = self.config.leak_decay_db_per_s / 100.0
        leak = level - far_env
        if leak > self._leak_db:
            self._leak_db = min(leak, self._leak_db + self.config.leak_rise_db_per_block)
        else:
            self._leak_db = max(leak, self._leak_db - decay)
        coupling = raw_db - far_env
        if not self._coupling_known:
            self._coupling_db = coupling
            self._coupling_known = True
        elif coupling > self._coupling_db:
            self._coupling_db = coupling
        else:
            self._coupling_db = max(coupling, self._coupling_db - decay)

    @property
    def floor_db(self) -> float:
        return self._floor_db

    @property
    def leak_db(self) -> float:
        return self._leak_db
