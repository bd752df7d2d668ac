from __future__ import annotations

import math

import numpy as np
import pytest

from dsp.pcm import (
    AudioFileError,
    bytes_for_ms,
    dbfs,
    duration_ms,
    from_float,
    read_wav,
    to_float,
    write_wav,
)
from dsp.resample import StreamResampler, resample


def _tone(freq: float, rate: int, seconds: float, amp: float = 0.5) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return from_float(amp * np.sin(2 * math.pi * freq * t))


def test_dbfs_of_known_signals():
    assert dbfs(b"") == -120.0
    assert dbfs(bytes(3200)) == -120.0
    assert dbfs(_tone(440, 16000, 0.5, amp=1.0)) == pytest.approx(-3.01, abs=0.05)


def test_durations():
    assert duration_ms(bytes_for_ms(250, 24000), 24000) == 250
    assert bytes_for_ms(10, 48000) == 960


def test_wav_round_trip_and_stereo_mixdown(tmp_path):
    mono = _tone(300, 16000, 0.2)
    write_wav(tmp_path / "m.wav", mono, 16000)
    assert read_wav(tmp_path / "m.wav") == (mono, 16000)
    stereo = np.stack([np.frombuffer(mono, "<i2")] * 2, axis=1).tobytes()
    write_wav(tmp_path / "s.wav", stereo, 16000, channels=2)
    assert read_wav(tmp_path / "s.wav") == (mono, 16000)


def test_wav_errors_are_actionable(tmp_path):
    with pytest.raises(AudioFileError, match="no such audio file"):
        read_wav(tmp_path / "missing.wav")
    (tmp_path / "bad.wav").write_bytes(b"not a wav at all")
    with pytest.raises(AudioFileError, match="not a PCM WAV"):
        read_wav(tmp_path / "bad.wav")


@pytest.mark.parametrize(
    ("src", "dst"), [(48000, 16000), (48000, 24000), (24000, 48000), (16000, 24000)]
)
def test_streaming_resampler_matches_length_and_pitch(src, dst):
    pcm = _tone(440, src, 1.0)
    rs = StreamResampler(src, dst)
    out = b"".join(rs.process(pcm[i : i + 777]) for i in range(0, len(pcm), 777)) + rs.flush()
    samples = to_float(out)
    assert abs(samples.size - dst) <= 2
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    peak_hz = np.argmax(spectrum) * dst / samples.size
    assert peak_hz == pytest.approx(440, abs=2)


def test_equal_rates_pass_through_and_odd_bytes_carry():
    rs = StreamResampler(16000, 16000)
    assert rs.process(b"\x01\x02\x03") == b"\x01\x02"
    assert rs.process(b"\x04") == b"\x03\x04"
    assert resample(b"\x01\x00", 8000, 8000) == b"\x01\x00"


def test_rejects_nonsense_rates():
    with pytest.raises(ValueError):
        StreamResampler(0, 16000)


def test_resampling_is_deterministic_and_adds_no_dither() -> None:
    """Equal input, equal output (soxr's own int16 output dithers from a clock-seeded generator;
    semantic_vad's decisions must depend on the audio only), and silence stays silent."""
    rng = np.random.default_rng(7)
    pcm = rng.normal(0, 3000, 24000).astype(np.int16).tobytes() + bytes(9600)
    chunked = set()
    for _ in range(3):
        rs = StreamResampler(24000, 16000)
        chunks = [rs.process(pcm[i : i + 960]) for i in range(0, len(pcm), 960)]
        chunked.add(b"".join(chunks) + rs.flush())
    assert len(chunked) == 1
    assert len({resample(pcm, 24000, 16000) for _ in range(3)}) == 1
    assert resample(bytes(48000), 24000, 16000) == bytes(32000)


def _reference_pcm16(samples: np.ndarray) -> bytes:
    """The rounding the resampler used before issue 16 item 4 (float64), for comparison."""
    scaled = np.rint(np.asarray(samples, dtype=np.float64).reshape(-1) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype("<i2").tobytes()


def test_fast_paths_give_the_bytes_of_the_plain_path() -> None:
    """``process_samples`` (array in) and ``PairResampler`` (two streams in one soxr call) are
    bit-for-bit what one ``StreamResampler`` per stream gives, block by block, and the float32
    rounding equals the float64 one it replaced (loud enough to clip, too)."""
    import soxr

    from dsp.resample import PairResampler

    rng = np.random.default_rng(3)
    a = np.clip(rng.normal(0, 12000, 48000), -32768, 32767).astype(np.int16)
    b = (np.sin(np.arange(48000) / 9.0) * 32767).astype(np.int16)
    plain_a, plain_b = StreamResampler(48000, 16000, "LQ"), StreamResampler(48000, 16000, "LQ")
    fast = StreamResampler(48000, 16000, "LQ")
    pair = PairResampler(48000, 16000, quality="LQ")
    ref = soxr.ResampleStream(48000, 16000, 1, dtype="float32", quality="LQ")
    for k in range(0, 48000, 480):
        blk_a, blk_b = a[k : k + 480], b[k : k + 480]
        want_a = plain_a.process(blk_a.tobytes())
        want_b = plain_b.process(blk_b.tobytes())
        assert fast.process_samples(blk_a) == want_a
        assert pair.process(blk_a, blk_b) == (want_a, want_b)
        assert want_a == _reference_pcm16(
            ref.resample_chunk(blk_a.astype(np.float32) / np.float32(32768.0))
        )
    assert PairResampler(16000, 16000).process(a[:4], b[:4]) == (a[:4].tobytes(), b[:4].tobytes())
    with pytest.raises(ValueError):
        pair.process(a[:480], b[:320])
