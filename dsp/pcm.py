"""PCM16 helpers and WAV file I/O.

All audio here is PCM16 little-endian, mono unless a ``channels`` argument says otherwise.
Errors: ``AudioFileError`` (a ``ValueError``) with a message naming the file and what is wrong.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
Float32Array = npt.NDArray[np.float32]


#: Sample rates ``read_wav`` accepts (a header saying 0 Hz is refused, not divided by).
MIN_WAV_RATE_HZ = 1000
MAX_WAV_RATE_HZ = 768_000


class AudioFileError(ValueError):
    """A WAV file that cannot be used, with a reason a person can act on."""


def to_int16(pcm: bytes) -> Int16Array:
    """View PCM16 bytes as int16 samples (a trailing odd byte is dropped)."""
    usable = len(pcm) - (len(pcm) % 2)
    return np.frombuffer(pcm[:usable], dtype="<i2")


def to_float(pcm: bytes) -> Float32Array:
    """PCM16 bytes → float32 samples in [-1, 1)."""
    return to_int16(pcm).astype(np.float32) / 32768.0


def from_float(samples: npt.NDArray[np.floating]) -> bytes:
    """float samples in [-1, 1] → PCM16 bytes, clipped."""
    clipped = np.clip(np.asarray(samples, dtype=np.float32), -1.0, 32767.0 / 32768.0)
    return (clipped * 32768.0).astype("<i2").tobytes()


def dbfs(pcm: bytes) -> float:
    """RMS level in dBFS (0 = full-scale square wave); -120.0 for silence or no samples."""
    samples = to_int16(pcm)
    if samples.size == 0:
        return -120.0
    rms = math.sqrt(float(np.mean(np.square(samples.astype(np.float64))))) / 32768.0
    return max(-120.0, 20.0 * math.log10(rms)) if rms > 0 else -120.0


def duration_ms(n_bytes: int, rate_hz: int, channels: int = 1) -> int:
    """Milliseconds of audio in ``n_bytes`` of PCM16 (rounded down)."""
    return (n_bytes // (2 * channels)) * 1000 // rate_hz


def bytes_for_ms(ms: int, rate_hz: int, channels: int = 1) -> int:
    """Bytes of PCM16 holding ``ms`` milliseconds (whole samples)."""
    return (ms * rate_hz // 1000) * 2 * channels


def read_wav(path: str | Path) -> tuple[bytes, int]:
    """Read a PCM16 WAV file, mixing stereo down to mono. Returns ``(pcm16, rate_hz)``.

    Raises ``AudioFileError`` for a missing file, a non-WAV file, a sample rate outside
    ``MIN_WAV_RATE_HZ``..``MAX_WAV_RATE_HZ``, or samples that are not 16-bit.
    """
    p = Path(path)
    if not p.is_file():
        raise AudioFileError(f"{p}: no such audio file")
    try:
        with wave.open(str(p), "rb") as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFileError(f"{p}: not a PCM WAV file ({exc})") from None
    if not MIN_WAV_RATE_HZ <= rate <= MAX_WAV_RATE_HZ:
        raise AudioFileError(
            f"{p}: not a usable WAV: sample rate {rate} "
            f"(expected {MIN_WAV_RATE_HZ} to {MAX_WAV_RATE_HZ} Hz)"
        )
    if width != 2:
        raise AudioFileError(
            f"{p}: {8 * width}-bit samples; VoiceCam reads 16-bit PCM WAV "
            "(convert with: sox IN -b 16 OUT.wav)"
        )
    if channels == 1:
        return frames, rate
    samples = to_int16(frames).reshape(-1, channels).astype(np.int32)
    return samples.mean(axis=1).astype("<i2").tobytes(), rate


def write_wav(path: str | Path, pcm: bytes, rate_hz: int, channels: int = 1) -> None:
    """Write PCM16 (interleaved when ``channels`` > 1) as a WAV file."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(pcm)
