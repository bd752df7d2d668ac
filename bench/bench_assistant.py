"""Assistant benchmarks: figures with a baseline measured in the same run; no pass/fail.

    .venv/bin/python bench/bench_assistant.py              # both parts (~2 min: loads models)
    .venv/bin/python bench/bench_assistant.py --only 1 --trials 200
    .venv/bin/python bench/bench_assistant.py --only 3 --trials 200   # the pure core, ~1 s

1. Barge-in reaction on the engine thread: the audio port reports ``VoiceStarted`` during
   playback → playback cleared, ``CancelResponse`` and ``Truncate`` handed to the session
   (in-process fake audio and session, the real ``Assistant``). Baseline: the engine loop's own
   10 ms tick overshoot (an ``asyncio.sleep(0.01)`` on a fresh thread), same run.
3. The conversation core alone (``app.core.ConversationCore``, pure, driven synchronously as in
   ``tests/app/test_core.py``): per-input ``handle()`` time over the golden OpenAI turn and
   interrupt streams, and the barge-in input alone. Baseline: the pure OpenAI protocol core's
   ``receive()`` + ``events()`` per message of the same streams, same run.
2. Turn latency against the real offline server, per shared question (q01–q08, piper voice, paced
   in real time, desk.png as the camera): end of speech → commit → first reply byte, measured by the
   assistant. Baseline: a bare ``RealtimeSession`` sending the same frame and audio at once, then
   commit + response.create, timing commit → first audio byte (no VAD, no assistant), same server.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEDIA = ROOT.parent / "shared" / "media"


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<44} (no samples)"
    return (
        f"{name:<44} n={len(values):<4} p50={pct(values, 0.5):7.1f} ms  "
        f"p95={pct(values, 0.95):7.1f} ms  max={max(values):7.1f} ms"
    )


# ---------------------------------------------------------------------- 1. barge-in reaction


def bench_barge_in(trials: int) -> None:
    from app.assistant import Assistant
    from app.state import ConversationState as S
    from realtime.events import AudioDelta, ResponseStarted, Truncate
    from tests.app.fakes import FakeAudio, FakeSpec

    reaction: list[float] = []
    spec = FakeSpec()
    audio = FakeAudio()
    a = Assistant(spec, audio)
    a.start()
    a.wait_for(lambda s: s.state == S.LISTENING, 10)
    session = spec.sessions[-1]
    for k in range(trials):
        item = f"a{k}"
        session.emit(ResponseStarted(f"r{k}"), AudioDelta(item, b"\x00\x01" * 24000, 24000))
        a.wait_for(lambda s: s.state == S.ASSISTANT_SPEAKING, 10)
        audio.advance(item, 300)
        n = len(spec.sent)
        t0 = time.perf_counter_ns()
        audio.voice(True)
        while not any(isinstance(c, Truncate) for c in spec.sent[n:]):
            time.sleep(0.0002)
        reaction.append((time.perf_counter_ns() - t0) / 1e6)
        audio.voice(False)
        a.wait_for(lambda s: s.state == S.THINKING, 10)
        session.emit(ResponseStarted(f"x{k}"))  # reset: a fresh response for the next trial
    a.close()

    overshoot: list[float] = []

    async def ticks() -> None:
        for _ in range(trials):
            t0 = time.perf_counter_ns()
            await asyncio.sleep(0.01)
            overshoot.append((time.perf_counter_ns() - t0) / 1e6 - 10.0)

    t = threading.Thread(target=lambda: asyncio.run(ticks()))
    t.start()
    t.join()
    print("1. barge-in reaction (voice onset → clear + cancel + truncate sent)")
    print("   " + line("assistant (engine thread, 10 ms pump)", reaction))
    print("   " + line("baseline: asyncio 10 ms tick overshoot", overshoot))


# ---------------------------------------------------------------------- 2. offline turn latency


def bench_offline(files: list[str]) -> None:
    import cv2

    from app.assistant import Assistant
    from app.backends import resolve
    from app.file_audio import FileAudio
    from app.frames import FrameFeed
    from app.local_server import LocalServer
    from app.state import ConversationState as S
    from dsp.pcm import read_wav
    from dsp.resample import resample
    from realtime import openai, openai_endpoint
    from realtime.events import (
        AppendAudio,
        AppendImage,
        AudioDelta,
        CommitInput,
        CreateResponse,
        ResponseDone,
        SessionConfig,
        TurnDetection,
    )
    from realtime.session import RealtimeSession
    from video.encode import encode_jpeg
    from video.file import FileSource

    jpeg = encode_jpeg(cv2.imread(str(MEDIA / "video" / "desk.png")))
    server = LocalServer()
    t0 = time.monotonic()
    server.start()
    print(f"2. offline turn latency (models loaded in {time.monotonic() - t0:.1f} s)")
    commit: list[float] = []
    first: list[float] = []
    total: list[float] = []
    base: list[float] = []
    for name in files:
        spec = resolve("local", local_server=server, reconnect=False)
        spec.prepare_fn = None
        audio = FileAudio(MEDIA / "speech" / name, None)
        feed = FrameFeed(FileSource(MEDIA / "video" / "desk.png", loop=True, still_fps=5.0))
        a = Assistant(spec, audio, feed)
        a.start()
        snap = a.wait_for(lambda s: s.completed_turns >= 1 and s.state == S.LISTENING, 90)
        a.close()
        lat = snap.latency[-1] if snap and snap.latency else None
        if lat is None or lat.first_byte_ns is None:
            print(f"   {name}: no reply")
            continue
        commit.append(lat.to_commit_ms or 0.0)
        first.append(lat.to_first_byte_ms or 0.0)
        total.append(lat.total_ms or 0.0)

        async def bare(path: Path) -> float:
            pcm, rate = read_wav(path)
            pcm = resample(pcm, rate, 24000)
            session = RealtimeSession(
                openai.OpenAICore(),
                openai_endpoint.endpoint(server.token, "local", base_url=server.base_url),
            )
            await session.connect(SessionConfig(turn_detection=TurnDetection(mode="none")))
            events = session.events().__aiter__()
            await events.__anext__()  # SessionReady
            await session.send(AppendImage(jpeg=jpeg))  # the same frame the assistant sends
            await session.send(AppendAudio(pcm, 24000))
            t_commit = time.perf_counter_ns()
            await session.send(CommitInput())
            await session.send(CreateResponse())
            t_first = None
            async for ev in events:
                if isinstance(ev, AudioDelta) and t_first is None:
                    t_first = time.perf_counter_ns()
                if isinstance(ev, ResponseDone):
                    break
            await session.close()
            return ((t_first or t_commit) - t_commit) / 1e6

        base.append(asyncio.run(bare(MEDIA / "speech" / name)))
        print(
            f"   {name}: commit {commit[-1]:.0f} ms, first byte {first[-1]:.0f} ms "
            f"(bare {base[-1]:.0f} ms)"
        )
    server.stop()
    print("   " + line("end of speech → commit (incl. 500 ms VAD stop)", commit))
    print("   " + line("commit → first reply byte (assistant)", first))
    print("   " + line("end of speech → first byte (assistant total)", total))
    print("   " + line("baseline: bare session commit → first byte", base))


# ---------------------------------------------------------------------- 3. the core alone


def bench_core(trials: int) -> None:
    from app.core import Backend, ConversationCore
    from app.effects import ClearPlayback as Clear
    from app.effects import Connecting, PlaybackCleared, PlayerReport
    from app.modes import ConversationOptions
    from app.pricing import CostMeter, PriceTable
    from realtime.events import SessionReady, SpeechStarted
    from realtime.openai import OpenAICore

    golden = ROOT / "tests" / "realtime" / "golden"
    lines = [
        line_
        for name in ("openai_turn.jsonl", "openai_interrupt.jsonl")
        for line_ in (golden / name).read_text(encoding="utf-8").splitlines()
    ]
    prices = PriceTable.load()
    per_event: list[float] = []
    barge: list[float] = []
    wire: list[float] = []
    for _ in range(trials):
        proto = OpenAICore()
        events = []
        for raw in lines:
            t0 = time.perf_counter_ns()
            proto.receive(raw)
            got = proto.events()
            wire.append((time.perf_counter_ns() - t0) / 1e6)
            events += got
        core = ConversationCore(
            Backend("bench", "openai", "gpt-realtime", 24000),
            ConversationOptions(turn_detection="server"),
            CostMeter(prices, "gpt-realtime"),
            has_player=True,
        )
        now = 1_000_000_000
        core.handle(Connecting(), now)
        core.handle(SessionReady("s", "m"), now)
        for ev in events:
            now += 1_000_000
            core.handle(PlayerReport(playing=True), now)
            t0 = time.perf_counter_ns()
            out = core.handle(ev, now)
            for e in out:  # a front end answers ClearPlayback
                if isinstance(e, Clear) and not e.done_by_engine:
                    out += core.handle(PlaybackCleared(e.item_id, 150), now)
            dt = (time.perf_counter_ns() - t0) / 1e6
            per_event.append(dt)
            if isinstance(ev, SpeechStarted) and any(isinstance(e, Clear) for e in out):
                barge.append(dt)

    def us(name: str, values: list[float]) -> str:
        v = [x * 1000 for x in values]
        return (
            f"{name:<48} n={len(v):<5} p50={pct(v, 0.5):7.1f} µs  "
            f"p95={pct(v, 0.95):7.1f} µs  max={max(v):8.1f} µs"
        )

    print("3. the conversation core alone (pure, synchronous; golden OpenAI streams)")
    print("   " + us("core.handle() per provider event", per_event))
    print("   " + us("core.handle() barge-in (speech over a reply)", barge))
    print("   " + us("baseline: OpenAICore.receive()+events() per msg", wire))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--only", default="1,2,3")
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--files", default="q01,q02,q03,q04,q05,q06,q07,q08")
    args = p.parse_args()
    only = {int(x) for x in args.only.split(",")}
    if 1 in only:
        bench_barge_in(args.trials)
    if 3 in only:
        bench_core(args.trials)
    if 2 in only:
        bench_offline([f"{f}_piper.wav" for f in args.files.split(",")])


if __name__ == "__main__":
    main()
