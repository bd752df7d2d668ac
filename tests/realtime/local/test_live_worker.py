"""The streaming re-decodes run apart from the turn's transcript (``live_worker``): on their own
Whisper copy at the lowest CPU priority, never holding ``models.whisper_lock``, and a re-decode
still queued when the voice pauses is dropped unstarted.

The ``LiveTranscript`` tests use a fake Whisper (it records its calls) and their own executor,
so they say which model a re-decode ran on and whether it ran, not how fast; the real copy's
priority is checked on its threads (Linux: per-thread nice), by CPU ticks, not wall time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dsp.pcm import read_wav
from realtime.local import live_worker
from realtime.local.live_transcript import LiveTranscript

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice")


class FakeWhisper:
    """faster-whisper's ``transcribe`` shape; records the audio lengths it was given."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def transcribe(self, audio: Any, **_options: Any) -> tuple[list[SimpleNamespace], None]:
        self.calls.append(len(audio))
        return [SimpleNamespace(text=" What does the sign")], None


def shared_model_unusable() -> Any:
    """Models whose shared Whisper must not be touched by a re-decode."""
    return SimpleNamespace(whisper=None, whisper_lock=threading.Lock())


def speech(media_dir: Path) -> bytes:
    pcm, rate = read_wav(media_dir / "turns" / "paused01_piper.wav")
    assert rate == 16000
    return pcm[: 1500 * 32]  # 1.5 s of the question (voice for ``require_voice``)


def test_a_re_decode_runs_on_its_own_model_while_the_shared_whisper_is_busy(
    media_dir: Path,
) -> None:
    """The turn's transcript holds ``whisper_lock``: the re-decode neither waits for it nor is
    skipped; it runs on the worker's own model (before: skipped, or holding the lock itself)."""
    models = shared_model_unusable()
    own = FakeWhisper()
    pcm = speech(media_dir)
    executor = concurrent.futures.ThreadPoolExecutor(1)

    async def main() -> LiveTranscript:
        live = LiveTranscript(
            models,
            lambda _i, _d: asyncio.sleep(0),
            enabled=lambda: True,
            prompt=lambda: None,
            whisper=lambda: own,
            worker=lambda: executor,
        )
        live.begin("item_1")
        with models.whisper_lock:  # the judged/final transcript is decoding
            live.feed(len(pcm) // 2, lambda: (0, pcm))
            running = live.running_decode(0, 1)
            assert running is not None
            text = await asyncio.wrap_future(running[1])
        assert text == "What does the sign"
        return live

    live = asyncio.run(main())
    executor.shutdown()
    assert own.calls and (live.decodes, live.skipped) == (1, 0)


def test_a_re_decode_still_queued_when_the_voice_pauses_is_dropped(media_dir: Path) -> None:
    """The worker is busy (another session's re-decode); the voice pauses before this one
    starts: it never runs, and a ``running_decode`` taker gets None (so it decodes itself)."""
    models = shared_model_unusable()
    own = FakeWhisper()
    pcm = speech(media_dir)
    executor = concurrent.futures.ThreadPoolExecutor(1)
    gate = threading.Event()
    executor.submit(gate.wait)  # the worker is busy until the gate opens

    async def main() -> tuple[str | None, LiveTranscript]:
        live = LiveTranscript(
            models,
            lambda _i, _d: asyncio.sleep(0),
            enabled=lambda: True,
            prompt=lambda: None,
            whisper=lambda: own,
            worker=lambda: executor,
        )
        live.begin("item_1")
        live.feed(len(pcm) // 2, lambda: (0, pcm))
        running = live.running_decode(0, 1)
        assert running is not None
        live.pause()
        gate.set()
        return await asyncio.wrap_future(running[1]), live

    try:
        result, live = asyncio.run(main())
    finally:
        gate.set()
        executor.shutdown()
    assert result is None
    assert own.calls == [] and live.decodes == 0


def _threads() -> dict[int, tuple[int, int]]:
    """This process's threads: tid → (nice, CPU ticks so far)."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread just ended
        out[int(tid)] = (int(fields[16]), int(fields[11]) + int(fields[12]))
    return out


@linux_only
@pytest.mark.models
def test_the_copy_computes_at_the_lowest_priority_and_its_caller_keeps_its_own() -> None:
    """The threads the copy starts (CTranslate2's worker and its OpenMP team) run at the
    lowest priority and do the decode's arithmetic; the thread that loads and calls it keeps
    its priority (it holds the GIL between calls: starving it would stall the event loop)."""
    import numpy as np

    from realtime.local.stt import DEFAULT_OPTIONS, decode_on

    def mine() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    own_before = mine()
    before = _threads()
    whisper = live_worker.load_low_priority()
    assert whisper is not None
    loaded = {tid: nice for tid, (nice, _) in _threads().items() if tid not in before}
    assert loaded and all(n >= live_worker.NICE for n in loaded.values()), loaded
    assert mine() == own_before

    ticks = {tid: cpu for tid, (_, cpu) in _threads().items()}
    noise = (np.random.default_rng(0).standard_normal(16000 * 3) * 0.05).astype(np.float32)
    for _ in range(3):
        decode_on(whisper, noise, DEFAULT_OPTIONS)
    after = _threads()
    busiest = max(after, key=lambda tid: after[tid][1] - ticks.get(tid, 0))
    assert busiest != threading.get_native_id()
    assert after[busiest][0] >= live_worker.NICE, (busiest, after)
    assert mine() == own_before
