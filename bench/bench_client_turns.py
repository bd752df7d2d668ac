"""bench_audio section 9: the client's end of turn on the shared turn clips (issue 16 item 3).

Every paused and complete clip of ``shared/media/turns/turns.json`` goes through the real
``AudioEngine`` (fake duplex stream at 48 kHz: echo canceller, resamplers, VAD, talk gate) in
audio time, faster than real time. Compared in the same run:

* **plain VAD silence**: the old client mode, the turn ends ``vad_stop_ms`` = 500 ms after the
  voice (no turn model);
* **semantic** (``audio.client_turns``) at each patience as ``app.compose.build_turn_end``
  builds it: low (eagerness high, Smart Turn alone), medium and high (eagerness medium / low,
  also reading the words: Whisper tiny ``turn_transcriber()``, then SmolLM2 ``dsp.text_end``);
  and medium without the words (the default before: Smart Turn alone).

Figures: false cuts on the paused clips (the turn ended inside the pause), end-of-turn latency
(speech end → ``VoiceStopped``, in audio time) on the complete clips and after the real end of
the paused clips that were not cut, p50/p95; and the wall-clock time the worker spends per
checkpoint (the model, plus Whisper at high patience), which a live run adds to the latency.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import numpy as np

from audio.client_turns import VAD_STOP_MS, ClientTurnEnd, SharedTurnModel, turn_transcriber
from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import VoiceStopped
from dsp.end_of_turn import Reason
from dsp.pcm import read_wav
from dsp.resample import resample
from dsp.text_end import TextEndScorer
from tests.audio.fakes import FakeClock, FakeFactory

TURNS = Path(__file__).resolve().parents[2] / "shared" / "media" / "turns"
MS = 1_000_000
#: (label, eagerness, reads the words): the app's three patience levels, and medium without
#: the words (the default before: what the words buy at the default patience).
VARIANTS = (
    ("patience low (Smart Turn)", "high", False),
    ("patience medium (+ words)", "medium", True),
    ("patience high (+ words)", "low", True),
    ("medium, Smart Turn alone (old default)", "medium", False),
)
P = ParamSpec("P")
T = TypeVar("T")


class TimedInline(concurrent.futures.Executor):
    """Runs each job at ``submit`` (audio time) and keeps its wall-clock duration."""

    def __init__(self) -> None:
        self.durations_ms: list[float] = []  # every checkpoint (the model, maybe the scorer)
        self.words_ms: list[float] = []  # the transcriptions started at a pause

    def submit(
        self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> concurrent.futures.Future[T]:
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        t0 = time.perf_counter()
        try:
            fut.set_result(fn(*args, **kwargs))
        except Exception as exc:
            fut.set_exception(exc)
        ms = (time.perf_counter() - t0) * 1000
        words = getattr(fn, "__name__", "") == "transcribe"
        (self.words_ms if words else self.durations_ms).append(ms)
        return fut


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def _fmt(values: list[float]) -> str:
    if not values:
        return "      -"
    return f"p50 {pct(values, 50):5.0f}  p95 {pct(values, 95):5.0f} ms"


def _stops_ms(name: str, turns: ClientTurnEnd | None) -> list[float]:
    """Audio-time ms (from the clip's start) at which each ``VoiceStopped`` was emitted."""
    pcm, rate = read_wav(TURNS / name)
    mic = np.frombuffer(resample(pcm, rate, 48000), dtype=np.int16)
    clock = FakeClock()
    factory = FakeFactory(clock)
    engine = AudioEngine(AudioConfig(vad_stop_ms=500), factory, clock=clock, end_of_turn=turns)
    engine.start()
    engine.process()
    t0 = clock()
    stream = factory.stream
    frames = stream.spec.block_frames
    out: list[float] = []
    for k in range(-(-len(mic) // frames) + 300):
        stream.tick(mic[k * frames : (k + 1) * frames])
        out += [(clock() - t0) / MS for e in engine.process() if isinstance(e, VoiceStopped)]
    engine.stop()
    return out


def _run(
    entries: list[dict[str, Any]],
    make: Callable[[], ClientTurnEnd | None],
    ex: TimedInline | None = None,
) -> dict[str, Any]:
    """False cuts and latencies. With ``ex`` (its job durations), the live estimate of a
    complete clip: the deciding checkpoint's job, plus whatever of the transcription started
    at the pause (``VAD_STOP_MS`` into the silence) was not done by the checkpoint."""
    cuts, late_paused, late_complete, live = 0, [], [], []
    for e in entries:
        turns = make()
        stops = _stops_ms(e["file"], turns)
        end = float(e["speech_end_ms"])
        if e["kind"] == "complete" and stops and ex is not None and turns is not None:
            last = turns.decisions[-1] if turns.decisions else None
            extra = 0.0
            if last is not None and last.reason is not Reason.CAP and ex.durations_ms:
                extra = ex.durations_ms[-1]
                if ex.words_ms:
                    ahead = last.silence_ms - VAD_STOP_MS
                    extra += max(0.0, ex.words_ms[-1] - ahead)
            live.append(stops[-1] - end + extra)
        if e["kind"] == "paused":
            if any(s < end - 60 for s in stops):
                cuts += 1
            else:
                late_paused += [s - end for s in stops[:1]]
        else:
            late_complete += [s - end for s in stops[-1:]]
    return {"cuts": cuts, "paused": late_paused, "complete": late_complete, "live": live}


def bench_client_turns() -> None:
    entries = json.loads((TURNS / "turns.json").read_text())
    entries = [e for e in entries if e["kind"] in ("paused", "complete")]
    n_paused = sum(e["kind"] == "paused" for e in entries)
    print(
        "\n9. Client end of turn (audio time, fake stream, real models): "
        f"{n_paused} paused + {len(entries) - n_paused} complete clips"
    )
    judge = SharedTurnModel()
    judge.model()
    words = turn_transcriber()
    words.load()
    scorer = TextEndScorer()
    scorer.load()
    rows: list[tuple[str, dict[str, Any], TimedInline | None]] = []
    rows.append(("plain VAD silence 500 ms (baseline)", _run(entries, lambda: None), None))
    for label, eagerness, reads in VARIANTS:
        ex = TimedInline()

        def make(ex: TimedInline = ex, eagerness: str = eagerness, reads: bool = reads) -> Any:
            if not reads:
                return ClientTurnEnd(eagerness, judge, executor=ex)
            return ClientTurnEnd(eagerness, judge, words=words, scorer=scorer, executor=ex)

        result = _run(entries, make, ex)
        rows.append((f"semantic, {label}", result, ex))
    print(
        f"   {'':44s} {'false cuts':>10s}   {'complete: end → commit':>26s}   "
        f"{'+ deciding job (live)':>24s}   {'paused, not cut: end → commit':>28s}   "
        "worker: checkpoint job | transcription"
    )
    for label, r, timed in rows:
        work = "-"
        if timed is not None:
            work = f"{_fmt(timed.durations_ms[1:])} | {_fmt(timed.words_ms)}"
        print(
            f"   {label:44s} {r['cuts']:>4d} / {n_paused:<3d}  {_fmt(r['complete']):>26s}   "
            f"{_fmt(r['live'] or r['complete']):>24s}   {_fmt(r['paused']):>28s}   {work}"
        )
    print(
        "   (latencies are audio time; 'live' adds the deciding checkpoint's job and what of the "
        "transcription started at the pause was not done by then. False cut: the turn ended "
        "more than 60 ms before the clip's speech end.)"
    )


if __name__ == "__main__":
    bench_client_turns()
