"""A real session against the offline server (``voicecam-server``: real STT, LLM, TTS), recorded
through ``RealtimeSession``'s recorder hook and the conversation core's recording effects
(``tests.realtime.recording.synth.CoreFeed``): every table populated, the file's timeline matches
what happened live within ±50 ms, replay through a fresh core gives the same events, and the
server token (a canary) is nowhere in the file or its exports."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.effects import Connecting, Ended, PlayerReport, Tick
from app.export import export_main
from app.replay import Replayer, ReplayPlan
from app.rerun import rerun_main
from realtime import openai_endpoint
from realtime.events import (
    AppendAudio,
    AppendImage,
    AudioDelta,
    Closed,
    CommandRefused,
    Event,
    InputTranscript,
    ResponseDone,
    SessionConfig,
    SessionReady,
    SpeechStopped,
)
from realtime.openai import OpenAICore
from realtime.recording import schema
from realtime.recording.reader import SessionFile, resample
from realtime.recording.writer import SessionRecorder
from realtime.session import RealtimeSession
from tests.realtime.local.conftest import ServerProcess, start_server
from tests.realtime.recording.synth import MEDIA, CoreFeed, read_wav16

pytestmark = pytest.mark.models
CANARY = "sk-canary-localserver-5e6f7a8b9c0d1e2f"


@pytest.fixture(scope="module")
def server() -> ServerProcess:
    s = start_server("--token", CANARY)
    yield s
    s.stop()


class Live:
    """What happened, as seen live (ms from the recorder's start)."""

    def __init__(self, start_ns: int) -> None:
        self.start_ns = start_ns
        self.events: list[Event] = []
        self.times: dict[str, float] = {}
        self.speech_sent_ms: float = 0.0

    def mark(self, key: str, t_ns: int) -> None:
        self.times.setdefault(key, (t_ns - self.start_ns) / 1e6)


async def _converse(server: ServerProcess, rec: SessionRecorder, live: Live) -> None:
    endpoint = openai_endpoint.endpoint(CANARY, "local", base_url=server.base_url)
    session = RealtimeSession(OpenAICore(), endpoint, recorder=rec)
    await session.connect(SessionConfig(model="local", voice="joe"))
    assert await session.wait_ready(30)
    done = asyncio.Event()
    play_end: dict[str, int] = {}
    played_ms: dict[str, float] = {}
    # turns, latency and usage are recorded the app's way: through the conversation core
    front = CoreFeed(rec, "local", "local")
    front.feed(Connecting(), time.monotonic_ns())
    front.feed(SessionReady(), time.monotonic_ns())
    audible: dict[str, int] = {}

    def report(now: int) -> None:
        playing = any(now < end for end in play_end.values())
        front.player = PlayerReport(playing, dict(audible))

    async def tick() -> None:  # the engine thread's ~10 ms tick
        while True:
            now = time.monotonic_ns()
            report(now)
            front.feed(Tick(), now)
            await asyncio.sleep(0.01)

    async def consume() -> None:
        async for ev in session.events():
            now = time.monotonic_ns()
            if not isinstance(ev, Closed | CommandRefused):
                live.events.append(ev)
            if isinstance(ev, AudioDelta):
                audible.setdefault(ev.item_id, max(now, play_end.get(ev.item_id, 0)))
            report(now)
            front.feed(ev, now)
            if isinstance(ev, SpeechStopped):
                live.mark("speech_stopped", now)
            elif isinstance(ev, InputTranscript) and ev.final:
                live.mark("user_transcript", now)
            elif isinstance(ev, AudioDelta):
                # a perfect player: each chunk starts when it arrives or when the last one ends
                start = max(now, play_end.get(ev.item_id, 0))
                dur_ns = len(ev.pcm) // 2 * 1_000_000_000 // ev.rate_hz
                pos = played_ms.get(ev.item_id, 0.0)
                rec.record_playback(ev.item_id, ev.pcm, ev.rate_hz, round(pos), start)
                play_end[ev.item_id] = start + dur_ns
                played_ms[ev.item_id] = pos + dur_ns / 1e6
                live.mark("first_played", start)
            elif isinstance(ev, ResponseDone):
                live.mark("response_done", now)
                done.set()

    consumer = asyncio.create_task(consume())
    ticker = asyncio.create_task(tick())
    img = cv2.imread(str(MEDIA / "video" / "desk.png"))
    jpeg = cv2.imencode(".jpg", cv2.resize(img, (640, 360)), [cv2.IMWRITE_JPEG_QUALITY, 80])[1]
    question = read_wav16("q01_piper.wav")
    audio = np.concatenate([question, np.zeros(16000 * 2, np.int16)])
    t0 = time.monotonic()
    for i, off in enumerate(range(0, len(audio), 320)):
        await asyncio.sleep(max(0.0, t0 + i * 0.02 - time.monotonic()))
        now = time.monotonic_ns()
        if i == 0:
            live.speech_sent_ms = (now - live.start_ns) / 1e6
        if i == 25:  # a frame while the user is speaking, like the app at speech start
            rec.record_frame(jpeg.tobytes(), now, True, "speech_start")
            await session.send(AppendImage(jpeg.tobytes()))
        chunk = audio[off : off + 320]
        rec.record_mic(chunk.tobytes(), 16000, now)
        await session.send(AppendAudio(resample(chunk, 16000, 24000).tobytes(), 24000))
        if i % 50 == 0:
            rec.record_frame(jpeg.tobytes(), now, False, "preview")
        # Stop early only after the whole question went out: the mic-track check below
        # correlates the full question (a fast reply used to cut it short).
        if done.is_set() and off >= len(question):
            break
    await asyncio.wait_for(done.wait(), 120)
    await asyncio.sleep(0.3)
    played_out_by = time.monotonic() + 60
    while front.core.watched_items() or any(time.monotonic_ns() < e for e in play_end.values()):
        assert time.monotonic() < played_out_by, "the reply never played out"
        await asyncio.sleep(0.05)  # the reply plays out (its turn is recorded then)
    await asyncio.sleep(0.1)
    rec.record_mark("session_end", "", time.monotonic_ns())
    await session.close()
    await asyncio.wait_for(consumer, 10)
    ticker.cancel()
    front.feed(Ended(), time.monotonic_ns())


@pytest.fixture(scope="module")
def recorded(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Live]:
    path = tmp_path_factory.mktemp("real") / "real.voicecam"
    meta = {
        "backend": "local",
        "model": "local",
        "voice": "joe",
        "input_rate_hz": 24000,
        "mic_rate_hz": 16000,
    }
    rec = SessionRecorder(path, metadata=meta)
    live = Live(rec.start_mono_ns)
    asyncio.run(_converse(server, rec, live))
    status = rec.close()
    assert status.state == "closed", status
    return path, live


def test_real_offline_session_recorded_and_replayed(
    tmp_path: Path, recorded: tuple[Path, Live]
) -> None:
    path, live = recorded

    with SessionFile(path) as sf:
        counts = sf.table_counts()
        assert set(counts) == set(schema.TABLES)
        assert all(n > 0 for n in counts.values()), counts
        turns = sf.turns()
        user = [t for t in turns if t.role == "user"]
        bot = [t for t in turns if t.role == "assistant"]
        assert user and bot and "mug" in user[0].text.lower()
        assert bot[0].text.strip()
        # replay of the received messages through a fresh core: the same events
        replayed = [e for _, e in sf.replay_events(OpenAICore())]
        assert replayed == live.events
        # the file's timeline is what happened live (±50 ms)
        assert abs(user[0].end_ms - live.times["speech_stopped"]) <= 50
        assert abs(user[0].t_ms - live.times["user_transcript"]) <= 50
        assert abs(bot[0].start_ms - live.times["first_played"]) <= 50
        lat = {x.metric: x.value_ms for x in sf.latencies()}
        assert (
            abs(
                lat["first_played_ms"] - (live.times["first_played"] - live.times["speech_stopped"])
            )
            <= 50
        )
        # the microphone track holds the question where it was sent
        mic = sf.mic_track().samples
        q = read_wav16("q01_piper.wav")
        at = round(live.speech_sent_ms * 16)
        seg = mic[max(0, at - 800) : at + len(q) + 800].astype(np.float32)
        corr = np.correlate(seg, q.astype(np.float32), mode="valid")
        lag_ms = (int(np.argmax(corr)) - min(800, at)) / 16
        assert abs(lag_ms) <= 50, lag_ms
        assert sf.total_cost_usd == 0.0  # offline is free
        print(
            f"\nturns: {[(t.role, t.text, round(t.start_ms), round(t.end_ms)) for t in turns]}"
            f"\nlive: {live.times}\nlatency: {lat}\nmic lag {lag_ms} ms, counts {counts}"
        )

    # replaying: cues at the original times (virtual clock: exact scheduling)
    plan = ReplayPlan.load(path)
    clock = [0.0]
    r = Replayer(
        plan,
        audio=False,
        clock=lambda: clock[0],
        sleep=lambda s: clock.__setitem__(0, clock[0] + s),
    )
    r.run()
    for at_ms, cue in r.emitted:
        assert abs(at_ms - cue.t_ms) <= 50
    spoken = [c for _, c in r.emitted if c.kind == "turn"]
    assert abs(spoken[0].t_ms - live.times["speech_stopped"]) <= 50
    assert abs(spoken[1].t_ms - live.times["first_played"]) <= 50

    # the server token (our canary) is nowhere: file and every export
    for ext in ("wav", "mp4", "md", "srt"):
        assert export_main([str(path), "--to", str(tmp_path / f"out.{ext}")]) == 0
    for f in [path, *tmp_path.rglob("*")]:
        if f.is_file():
            assert CANARY.encode() not in f.read_bytes(), f


def test_rerun_on_the_offline_server_is_deterministic(
    tmp_path: Path,
    recorded: tuple[Path, Live],
    server: ServerProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """voicecam rerun twice against the offline server: same questions, same answers."""
    path, _ = recorded
    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", CANARY)
    transcripts = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        out.mkdir()
        args = [str(path), "--backend", server.url, "--out-dir", str(out), "--tail", "30"]
        assert rerun_main(args) == 0
        (new,) = out.glob("*.voicecam")
        with SessionFile(new) as sf:
            transcripts.append([(t.role, t.text) for t in sf.turns()])
            assert sf.total_cost_usd == 0.0
        for f in out.iterdir():
            assert CANARY.encode() not in f.read_bytes()
    with SessionFile(path) as sf:
        original = [(t.role, t.text) for t in sf.turns()]
    assert transcripts[0] == transcripts[1] == original
    printed = capsys.readouterr().out
    assert printed.count("RE-RUN") == 2 and CANARY not in printed
