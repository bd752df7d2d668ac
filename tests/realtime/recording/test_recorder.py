"""SessionRecorder + SessionFile round trips: every table, timing, replay, permissions, pause."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from realtime.events import SessionReady
from realtime.openai import OpenAICore
from realtime.recording import schema
from realtime.recording.listing import delete_session, list_sessions
from realtime.recording.reader import SessionFile
from realtime.recording.writer import SessionRecorder
from tests.realtime.recording.synth import SynthResult, read_wav16


def test_every_table_populated_and_turns_match(synth_session: SynthResult) -> None:
    with SessionFile(synth_session.path) as sf:
        counts = sf.table_counts()
        assert set(counts) == set(schema.TABLES)
        assert all(n > 0 for n in counts.values()), counts
        assert [(t.role, t.text) for t in sf.turns()] == synth_session.turns
        md = sf.metadata
        assert (md.backend, md.model, md.voice) == ("openai", "gpt-realtime", "marin")
        assert md.schema_version == schema.SCHEMA_VERSION
        assert md.end_mono_ns is not None and md.started_at is not None
        assert md.get_int("mic_rate_hz") == 16000
        assert sf.duration_ms == pytest.approx(synth_session.duration_ms, abs=1)
        # latency: speech end -> first audio is 300 ms, first played 360 ms in the synth script
        lat = {(x.item_id, x.metric): x.value_ms for x in sf.latencies()}
        assert lat[("item_A0", "first_audio_ms")] == pytest.approx(300, abs=0.01)
        assert lat[("item_A0", "first_played_ms")] == pytest.approx(360, abs=0.01)
        usage = sf.usage()
        assert len(usage) == 3 and usage[0].usage.input_audio_tokens == 180
        assert sf.total_cost_usd == pytest.approx(3 * (20 * 4 + 180 * 32 + 10 * 16 + 90 * 64) / 1e6)
        assert sf.first_question() == "What color is the mug on my desk?"
        assert any(f.sent for f in sf.frames()) and any(not f.sent for f in sf.frames())
        assert all(f.jpeg.startswith(b"\xff\xd8") for f in sf.frames())


def test_replay_through_fresh_core_gives_same_events(synth_session: SynthResult) -> None:
    with SessionFile(synth_session.path) as sf:
        replayed = sf.replay_events(OpenAICore())
    assert replayed == synth_session.events
    assert any(isinstance(e, SessionReady) for _, e in replayed)


def test_audio_tracks_are_aligned_to_the_session_clock(synth_session: SynthResult) -> None:
    with SessionFile(synth_session.path) as sf:
        mic = sf.mic_track()
        raw = sf.mic_track(raw=True)
        play = sf.playback_track()
        turns = sf.turns()
    assert mic.rate_hz == 16000 and play.rate_hz == 24000
    assert np.array_equal(mic.samples, raw.samples)
    # the first question starts at 100 ms: compare with the source wav
    q = read_wav16("q01_piper.wav")
    start = 100 * 16
    assert np.array_equal(mic.samples[start : start + len(q)], q)
    # the first reply plays from the recorded start, exactly
    first = synth_session.play_start_ms["item_A0"]
    assert turns[1].start_ms == pytest.approx(first)
    s = round(first * 24)
    assert not play.samples[: s - 1].any()
    reply = read_wav16("q04_espeak.wav")
    assert abs(len(play.samples) / 24000 * 1000 - turns[-1].end_ms) < 25
    assert play.samples[s : s + 24 * len(reply) // 16].any()
    # resampling to a common rate keeps the length
    with SessionFile(synth_session.path) as sf:
        mic48 = sf.mic_track(rate_hz=48000)
    assert mic48.rate_hz == 48000
    assert abs(mic48.duration_ms - mic.duration_ms) < 2


def test_file_is_private_single_and_listed(tmp_path: Path, synth_session: SynthResult) -> None:
    p = synth_session.path
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert not Path(str(p) + "-wal").exists()
    rec = SessionRecorder(directory=tmp_path / "sub" / "sessions", metadata={"backend": "local"})
    rec.record_mic(b"\0\0" * 160, 16000, time.monotonic_ns())
    status = rec.close()
    assert status.state == "closed" and status.path is not None
    assert status.path.suffix == ".voicecam"
    assert stat.S_IMODE(status.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(status.path.parent.stat().st_mode) == 0o700
    assert [x.name for x in status.path.parent.iterdir()] == [status.path.name]
    summaries = list_sessions(status.path.parent)
    assert len(summaries) == 1 and summaries[0].backend == "local"
    assert summaries[0].cost_usd is None and summaries[0].error is None
    delete_session(status.path)
    assert list_sessions(status.path.parent) == []


def test_listing_summaries(tmp_path: Path, synth_session: SynthResult) -> None:
    import shutil

    shutil.copy(synth_session.path, tmp_path / "a.voicecam")
    (tmp_path / "broken.voicecam").write_bytes(b"garbage" * 50)
    (tmp_path / "notes.txt").write_text("not a session")
    got = list_sessions(tmp_path)
    assert len(got) == 2
    good = next(s for s in got if s.error is None)
    bad = next(s for s in got if s.error is not None)
    assert good.first_question == "What color is the mug on my desk?"
    assert good.thumbnail_jpeg is not None and good.thumbnail_jpeg.startswith(b"\xff\xd8")
    assert good.turns == 6 and good.cost_usd and good.cost_usd > 0
    assert good.duration_ms == pytest.approx(synth_session.duration_ms, abs=1)
    assert "not a VoiceCam session" in (bad.error or "")
    delete_session(bad.path)
    assert not bad.path.exists()
    with pytest.raises(Exception, match="not a session file"):
        delete_session(tmp_path / "notes.txt")


def test_pause_switch_drops_and_marks(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path / "p.voicecam")
    t = time.monotonic_ns()
    rec.record_mic(b"\1\0" * 160, 16000, t)
    rec.set_enabled(False)
    assert rec.status.state == "paused"
    rec.record_mic(b"\2\0" * 160, 16000, t + 10_000_000)
    rec.on_wire("in", "{}", t + 10_000_000)
    rec.set_enabled(True)
    rec.record_mic(b"\3\0" * 160, 16000, t + 20_000_000)
    status = rec.close()
    assert status.dropped == 2
    with SessionFile(tmp_path / "p.voicecam") as sf:
        assert [c.pcm[0] for c in sf.mic_chunks()] == [1, 3]
        assert [m.kind for m in sf.marks()] == ["recording_paused", "recording_resumed"]
        assert sf.table_counts()["wire"] == 0


def test_live_file_is_readable_while_recording(tmp_path: Path) -> None:
    path = tmp_path / "live.voicecam"
    rec = SessionRecorder(path, commit_interval_s=0.05)
    t = time.monotonic_ns()
    for i in range(10):
        rec.record_mic(b"\0\0" * 320, 16000, t + i * 20_000_000)
    deadline = time.monotonic() + 10
    n = 0
    while time.monotonic() < deadline and n < 10:  # wait for a commit (no timing asserted)
        with SessionFile(path) as sf:
            n = sf.table_counts()["mic"]
        time.sleep(0.02)
    assert n == 10
    assert Path(str(path) + "-wal").exists()  # still recording, WAL mode
    rec.close()
    with SessionFile(path) as sf:
        assert sf.metadata.end_mono_ns is not None


def test_record_calls_from_many_threads(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path / "mt.voicecam")
    t0 = time.monotonic_ns()

    def worker(k: int) -> None:
        for i in range(200):
            rec.on_wire("out", f'{{"k":{k},"i":{i}}}', t0 + i)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rec.close()
    with SessionFile(tmp_path / "mt.voicecam") as sf:
        assert sf.table_counts()["wire"] == 800


def test_existing_path_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "x.voicecam"
    path.write_bytes(b"precious")
    errors = []
    rec = SessionRecorder(path, on_error=errors.append)
    rec.record_mic(b"\0\0", 16000, 0)  # dropped, no exception
    status = rec.close()
    assert status.state == "failed" and errors and errors[0] is status.error
    assert path.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["x.voicecam"]


def test_binary_wire_messages_round_trip(tmp_path: Path) -> None:
    rec = SessionRecorder(tmp_path / "b.voicecam")
    t = time.monotonic_ns()
    rec.on_wire("in", b'{"setupComplete":{}}', t)
    rec.on_wire("in", bytes(range(256)), t + 1)
    rec.on_wire("out", "text \u00e9", t + 2)
    rec.close()
    with SessionFile(tmp_path / "b.voicecam") as sf:
        got = [(w.direction, w.payload) for w in sf.wire_messages()]
    assert got == [
        ("in", b'{"setupComplete":{}}'),
        ("in", bytes(range(256))),
        ("out", "text \u00e9"),
    ]


def test_umask_does_not_widen_permissions(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        rec = SessionRecorder(tmp_path / "u.voicecam")
        rec.record_mic(b"\0\0", 16000, time.monotonic_ns())
        rec.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "u.voicecam").stat().st_mode) == 0o600


def test_one_argument_order_and_wrong_orders_are_refused(tmp_path: Path) -> None:
    """The app's RecorderPort order is recorded; a timestamp-first call is refused and marked
    (it used to be silently reordered); record_latency takes the core's figures, nothing
    shaped like a latency object (the recorder no longer measures)."""
    from app.latency import TurnLatency

    rec = SessionRecorder(tmp_path / "app.voicecam")
    t = time.monotonic_ns()
    # the one argument order (the app's RecorderPort): payload, its rate/position, t_ns last
    rec.record_mic(b"\1\0" * 160, 16000, t)
    rec.record_frame(b"\xff\xd8x", t, True, "speech_start")
    rec.record_turn("user", "hello", t, "u1")
    rec.record_mark("barge_in", "vad a1 200", t)
    rec.record_reply("a1", b"\2\0" * 240, 24000, 0, t + 1000)
    rec.record_latency("a1", "first_audio_ms", 321.0, t + 2000)
    rec.record_latency(TurnLatency(1, t, t, t + 2000), "x", 1.0, t)  # type: ignore[arg-type]
    # another order is refused (marked once per method), never reordered, never raised
    rec.record_mic(t, b"\1\0" * 160, 16000)  # type: ignore[arg-type]
    rec.record_frame(t, b"\xff\xd8x", True, "speech_start")  # type: ignore[arg-type]
    rec.record_mic("nonsense", 3, None)  # type: ignore[arg-type]
    status = rec.close()
    assert status.state == "closed"
    with SessionFile(tmp_path / "app.voicecam") as sf:
        assert [c.rate_hz for c in sf.mic_chunks()] == [16000]
        assert [f.reason for f in sf.frames()] == ["speech_start"]
        assert [(x.role, x.item_id, x.text) for x in sf.turns()] == [("user", "u1", "hello")]
        marks = [m.kind for m in sf.marks()]
        assert marks[0] == "barge_in" and set(marks[1:]) == {"recorder_bad_call"}
        assert [c.item_id for c in sf.playback_chunks()] == ["a1"]
        assert sf.metadata.values["playback_source"] == "received"
        assert [(x.metric, x.value_ms) for x in sf.latencies()] == [("first_audio_ms", 321.0)]


def test_nothing_raises_into_the_caller(tmp_path: Path) -> None:
    class Weird:
        pass

    rec = SessionRecorder(tmp_path / "w.voicecam", metadata={"obj": Weird(), "ok": 1})
    t = time.monotonic_ns()
    rec.record_usage(Weird(), t)  # type: ignore[arg-type]
    rec.record_playback("a", b"\0\0", 24000, Weird(), t)  # type: ignore[arg-type]
    rec.record_latency("a", "m", "slow", t)  # type: ignore[arg-type]
    rec.on_wire("sideways", "x", t)  # type: ignore[arg-type]
    rec.record_turn(Weird(), "x", t)  # type: ignore[arg-type]
    rec.set_metadata(bad=Weird())
    status = rec.close()
    assert status.state == "closed"
    with SessionFile(tmp_path / "w.voicecam") as sf:
        assert sf.metadata.values["ok"] == 1 and "Weird" in str(sf.metadata.values["obj"])
        assert "Weird" in str(sf.metadata.values["bad"])
        assert {m.detail for m in sf.marks()} == {
            "record_usage",
            "record_playback",
            "record_latency",
            "record_turn",
        }


def test_barge_in_marks_the_reply_interrupted_and_keeps_what_was_played(tmp_path: Path) -> None:
    """The conversation core's turn model, recorded: a reply cut by the user's voice is stored
    interrupted, from its first audible sample, with the core's latency figures."""
    from app.effects import PlayerReport, Tick
    from audio.events import BargeIn
    from realtime.events import (
        AudioDelta,
        ResponseDone,
        ResponseStarted,
        SessionReady,
        SpeechStopped,
        TranscriptDelta,
    )
    from tests.realtime.recording.synth import CoreFeed

    rec = SessionRecorder(tmp_path / "i.voicecam", metadata={"backend": "openai"})
    front = CoreFeed(rec, "openai", "gpt-realtime")
    t = rec.start_mono_ns
    ms = 1_000_000
    front.feed(SessionReady(), t)
    front.feed(SpeechStopped(1000, "u1"), t + 1000 * ms)
    front.feed(ResponseStarted("r1"), t + 1200 * ms)
    front.feed(AudioDelta("a1", b"\1\0" * 24000, 24000), t + 1300 * ms)  # 1 s received
    front.feed(TranscriptDelta("a1", "Let me tell you a long"), t + 1300 * ms)
    front.player = PlayerReport(True, {"a1": t + 1350 * ms})
    rec.record_playback("a1", b"\1\0" * 4800, 24000, 0, t + 1350 * ms)  # 200 ms played
    front.feed(Tick(), t + 1360 * ms)
    rec.record_playback("a1", b"\1\0" * 4800, 24000, 200, t + 1550 * ms)  # then barge-in
    front.player = PlayerReport(False, {"a1": t + 1350 * ms})
    front.feed(BargeIn(t + 1750 * ms, "a1", 400), t + 1750 * ms)
    front.feed(ResponseDone("r1", "cancelled"), t + 1770 * ms)
    rec.close()
    with SessionFile(tmp_path / "i.voicecam") as sf:
        (turn,) = sf.turns()
        assert turn.status == "interrupted" and turn.text == "Let me tell you a long"
        assert turn.start_ms == pytest.approx(1350) and turn.end_ms == pytest.approx(1750)
        assert [c.position_ms for c in sf.playback_chunks()] == [0, 200]
        lat = {x.metric: x.value_ms for x in sf.latencies()}
        assert lat == {"first_audio_ms": 300.0, "first_played_ms": 350.0}


def test_stored_turns_and_latency_read_back_as_given(tmp_path: Path) -> None:
    """The recorder stores what it is told (it derives nothing)."""
    rec = SessionRecorder(tmp_path / "s.voicecam", metadata={"backend": "openai"})
    t = rec.start_mono_ns
    ms = 1_000_000
    rec.record_turn(
        "assistant", "Cut.", t + 1770 * ms, "a1", t_start_ns=t + 1350 * ms, status="interrupted"
    )
    rec.record_latency("a1", "first_audio_ms", 300.0, t + 1300 * ms)
    rec.record_latency("a1", "first_played_ms", 350.0, t + 1350 * ms)
    rec.close()
    with SessionFile(tmp_path / "s.voicecam") as sf:
        (turn,) = sf.turns()
        assert (turn.status, turn.item_id, turn.start_ms) == ("interrupted", "a1", 1350)
        assert {x.metric: x.value_ms for x in sf.latencies()} == {
            "first_audio_ms": 300.0,
            "first_played_ms": 350.0,
        }


def test_gemini_binary_frames_replay_through_the_default_core(tmp_path: Path) -> None:
    from realtime.gemini import GeminiCore

    golden = Path(__file__).resolve().parents[1] / "golden" / "gemini_turn.jsonl"
    lines = [ln.encode() for ln in golden.read_text().splitlines() if ln.strip()]
    rec = SessionRecorder(tmp_path / "g.voicecam", metadata={"backend": "gemini"})
    t = rec.start_mono_ns
    expected = []
    core = GeminiCore()
    from realtime.events import SessionConfig

    core.start(SessionConfig())
    core.events()
    for i, msg in enumerate(lines):
        rec.on_wire("in", msg, t + i * 1_000_000)  # Gemini sends JSON in binary frames
        core.receive(msg)
        expected += core.events()
    rec.close()
    with SessionFile(tmp_path / "g.voicecam") as sf:
        assert isinstance(sf.default_core(), GeminiCore)
        got = [e for _, e in sf.replay_events()]
    assert got == expected and len(got) > 5


def test_push_to_talk_turn_times_from_local_vad(tmp_path: Path) -> None:
    """A push-to-talk turn is stored with the press and release times the core saw; turns
    written without times read back at their ``t_ns``."""
    from app.effects import SetMode, Talk
    from app.model import Mode
    from realtime.events import InputCommitted, InputTranscript, SessionReady
    from tests.realtime.recording.synth import CoreFeed

    rec = SessionRecorder(tmp_path / "ptt.voicecam")
    front = CoreFeed(rec, "openai", "gpt-realtime")
    t = rec.start_mono_ns
    ms = 1_000_000
    front.feed(SessionReady(), t)
    front.feed(SetMode(Mode.PUSH_TO_TALK), t)
    front.feed(Talk(True), t + 500 * ms)
    front.feed(Talk(False), t + 2000 * ms)
    front.feed(InputCommitted("u1"), t + 2100 * ms)
    front.feed(InputTranscript("hello", True, "u1"), t + 2600 * ms)
    rec.record_turn("user", "typed without times", t + 3000 * ms)
    rec.record_turn("user", "end only", t + 4000 * ms, t_end_ns=t + 3500 * ms)
    rec.close()
    with SessionFile(tmp_path / "ptt.voicecam") as sf:
        turns = {x.text: x for x in sf.turns()}
    assert (turns["hello"].start_ms, turns["hello"].end_ms) == (500, 2000)
    assert turns["typed without times"].start_ms == turns["typed without times"].end_ms == 3000
    assert turns["end only"].start_ms == turns["end only"].end_ms == 3500
