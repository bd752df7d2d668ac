"""Lay recorded PCM16 chunks out as one track, and resample whole signals.

Pure functions over numpy arrays (no file access); ``reader.SessionFile`` feeds them the chunks
it reads. Times are ``*_ms`` offsets from the start of recording.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from realtime.recording.records import AudioTrack, Int16Array

#: Longest track accepted, in ms (anything beyond comes from damaged timestamps).
MAX_TRACK_MS = 12 * 3600 * 1000.0


def assemble_track(
    chunks: Iterable[tuple[float, int, bytes]], rate_hz: int | None, gap_ms: int
) -> AudioTrack:
    """Place each ``(t_ms, rate_hz, pcm16)`` chunk at its time, resampled to ``rate_hz`` (the
    first chunk's rate when ``None``; 16000 Hz for no chunks). A chunk that starts at most
    ``gap_ms`` after the end of the one before (or overlaps it) follows on back to back
    (timing jitter); a longer gap is kept as silence.

    Raises ``ValueError`` when the track would be longer than ``MAX_TRACK_MS``."""
    parts: list[tuple[int, Int16Array]] = []
    rate = rate_hz
    cursor = 0
    for t_ms, chunk_rate, pcm in chunks:
        if rate is None:
            rate = chunk_rate
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.int16)
        if chunk_rate != rate:
            samples = resample(samples, chunk_rate, rate)
        want = max(0, round(t_ms * rate / 1000.0))
        tolerance = rate * gap_ms // 1000
        follows_on = bool(parts) and (want < cursor or want - cursor <= tolerance)
        start = cursor if follows_on else want
        parts.append((start, samples))
        cursor = start + len(samples)
    rate = rate or 16000
    if cursor > MAX_TRACK_MS / 1000 * rate:
        raise ValueError("track longer than 12 hours")
    out = np.zeros(cursor, dtype=np.int16)
    for start, samples in parts:
        out[start : start + len(samples)] = samples
    return AudioTrack(out, rate)


def resample(samples: Int16Array, in_hz: int, out_hz: int) -> Int16Array:
    """Whole-signal PCM16 resampling (soxr, high quality)."""
    if in_hz == out_hz or len(samples) == 0:
        return samples
    import soxr

    y = soxr.resample(samples.astype(np.float32) / 32768.0, in_hz, out_hz)
    return np.asarray(np.clip(np.round(y * 32768.0), -32768, 32767), dtype=np.int16)
