"""Streaming VAD accuracy on the shared speech files (issue 4's figures)."""

from __future__ import annotations

import pytest

from dsp.pcm import read_wav
from dsp.vad import (
    RATE_HZ,
    PreRoll,
    StreamingVad,
    VoiceEnd,
    VoiceStart,
    threshold_for_sensitivity,
)
from tests.conftest import SPEECH

START_TOLERANCE_MS = 60
END_TOLERANCE_MS = 60


def _run(pcm: bytes, chunk_bytes: int, delay_ms: int) -> list[tuple[object, int]]:
    """Events with the stream position (ms) at which each was emitted."""
    vad = StreamingVad(min_silence_ms=delay_ms)
    out: list[tuple[object, int]] = []
    for i in range(0, len(pcm), chunk_bytes):
        for event in vad.process(pcm[i : i + chunk_bytes]):
            out.append((event, vad.samples_seen * 1000 // RATE_HZ))
    out += [(e, vad.samples_seen * 1000 // RATE_HZ) for e in vad.finish()]
    return out


def _spoken(utterances: list[dict]) -> list[dict]:
    return [u for u in utterances if u["text"]]


@pytest.mark.parametrize("delay_ms", [500, 300])
def test_every_utterance_detected_once_with_accurate_times(utterances, delay_ms):
    failures = []
    for u in _spoken(utterances):
        pcm, rate = read_wav(SPEECH / u["file"])
        assert rate == RATE_HZ
        events = _run(pcm, chunk_bytes=640, delay_ms=delay_ms)
        starts = [e for e, _ in events if isinstance(e, VoiceStart)]
        ends = [(e, t) for e, t in events if isinstance(e, VoiceEnd)]
        # At a short stop delay a sentence pause ends an utterance ("Stop. Wait a second, ..."):
        # the first start and the last end are what the truth file times.
        if not starts or len(starts) != len(ends) or (delay_ms >= 500 and len(starts) != 1):
            failures.append(f"{u['file']}: {len(starts)} starts, {len(ends)} ends")
            continue
        start_err = starts[0].sample * 1000 // RATE_HZ - u["speech_start_ms"]
        end_event, emitted_ms = ends[-1]
        reported_end_err = end_event.sample * 1000 // RATE_HZ - u["speech_end_ms"]
        emitted_late = emitted_ms - u["speech_end_ms"]
        if abs(start_err) > START_TOLERANCE_MS:
            failures.append(f"{u['file']}: start off by {start_err} ms")
        if abs(reported_end_err) > END_TOLERANCE_MS + 40:
            failures.append(f"{u['file']}: reported end off by {reported_end_err} ms")
        if not 0 <= emitted_late <= delay_ms + END_TOLERANCE_MS:
            failures.append(f"{u['file']}: end known {emitted_late} ms after it (delay {delay_ms})")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", ["silence_3s.wav", "noise_3s.wav"])
def test_no_trigger_on_silence_or_noise(name):
    pcm, _ = read_wav(SPEECH / name)
    assert _run(pcm, chunk_bytes=320, delay_ms=500) == []


def test_chunking_does_not_change_events(utterances):
    u = _spoken(utterances)[0]
    pcm, _ = read_wav(SPEECH / u["file"])
    reference = [e for e, _ in _run(pcm, chunk_bytes=len(pcm), delay_ms=500)]
    for chunk in (2, 333, 1024, 4096 + 1):
        assert [e for e, _ in _run(pcm, chunk_bytes=chunk, delay_ms=500)] == reference


def test_gate_skips_silero_on_silent_windows():
    pcm, _ = read_wav(SPEECH / "silence_3s.wav")
    vad = StreamingVad()
    vad.process(pcm)
    assert vad.windows_gated > 0.9 * (vad.windows_gated + vad.windows_scored)


def test_rejects_wrong_rate():
    with pytest.raises(ValueError, match="16000"):
        StreamingVad(rate_hz=48000)


def test_sensitivity_mapping_is_monotonic():
    values = [threshold_for_sensitivity(s / 10) for s in range(11)]
    assert values == sorted(values, reverse=True)
    assert threshold_for_sensitivity(0.5) == 0.5
    assert threshold_for_sensitivity(-1) == threshold_for_sensitivity(0)


def test_preroll_keeps_the_last_milliseconds():
    pre = PreRoll(ms=100, rate_hz=16000)
    for i in range(50):
        pre.push(bytes([i]) * 320)  # 10 ms chunks
    kept = pre.drain()
    assert len(kept) == 3200
    assert kept[-1] == 49 and kept[0] == 40
    assert pre.drain() == b""
