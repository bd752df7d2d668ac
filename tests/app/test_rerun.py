"""voicecam rerun against the scripted fake OpenAI provider (a real WebSocket server on
127.0.0.1): original timing, every user turn sent, new session recorded, comparison printed,
canary key absent, bad arguments exit 2."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.rerun import compare, exchanges, plan_inputs, rerun_main
from realtime.recording.reader import SessionFile
from tests.fakes.fake_openai import FakeOpenAI
from tests.realtime.recording.synth import SynthResult, write_session

CANARY_TOKEN = "sk-canary-rerun-0a1b2c3d4e5f6a7b8c9d"


class FakeInThread:
    """FakeOpenAI on its own event loop thread (rerun_main runs its own loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.fake = FakeOpenAI(
            api_key=CANARY_TOKEN,
            reply="The mug is red.",
            transcript="What color is the mug?",
            reply_audio_ms=400,
        )
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.__aenter__(), self.loop).result(10)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.__aexit__(None, None, None), self.loop).result(
            10
        )
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    return write_session(
        tmp_path_factory.mktemp("orig") / "o.voicecam",
        turns=2,
        max_question_ms=1500,
        max_reply_ms=800,
    )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", CANARY_TOKEN)
    with FakeInThread() as f:
        yield f


def test_plan_follows_the_original_turns(original: SynthResult) -> None:
    with SessionFile(original.path) as sf:
        plan = plan_inputs(sf, "original")
        turns = [t for t in sf.turns() if t.role == "user"]
    ends = [i.t_ms for i in plan if i.kind == "end"]
    starts = [i.t_ms for i in plan if i.kind == "start"]
    assert ends == pytest.approx([t.end_ms for t in turns])
    assert len(starts) == 2 and all(s < e for s, e in zip(starts, ends))
    assert sum(1 for i in plan if i.kind == "frame") == 2
    assert [i.t_ms for i in plan] == sorted(i.t_ms for i in plan)


def test_rerun_against_fake_provider(
    tmp_path: Path, original: SynthResult, fake: FakeOpenAI, capsys: pytest.CaptureFixture[str]
) -> None:
    code = rerun_main(
        [str(original.path), "--backend", fake.url, "--out-dir", str(tmp_path), "--tail", "5"]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    new_files = list(tmp_path.glob("*.voicecam"))
    assert len(new_files) == 1
    # what the fake received: audio all along, the two frames, one commit + response per turn
    types = fake.current.types()
    assert types.count("input_audio_buffer.commit") == 2
    assert types.count("response.create") == 2
    assert types.count("input_audio_buffer.append") > 50
    assert types.count("conversation.item.create") == 2  # the two frames (input_image)
    with SessionFile(new_files[0]) as sf:
        md = sf.metadata
        assert md.values["rerun_of"] == original.path.name and md.values["turns"] == "original"
        turns = [(t.role, t.text) for t in sf.turns()]
        assert turns.count(("user", "What color is the mug?")) == 2
        assert turns.count(("assistant", "The mug is red.")) == 2
        counts = sf.table_counts()
        assert all(
            counts[t] > 0
            for t in ("wire", "mic", "playback", "frames", "turns", "latency", "usage")
        )
        # turn ends were sent with the original spacing (loose bound: shared machine)
        commits = [
            w.t_ms
            for w in sf.wire_messages("out")
            if isinstance(w.payload, str) and '"input_audio_buffer.commit"' in w.payload
        ]
        with SessionFile(original.path) as so:
            ends = [t.end_ms for t in so.turns() if t.role == "user"]
        assert abs((commits[1] - commits[0]) - (ends[1] - ends[0])) < 250
        ex = exchanges(sf)
        assert len(ex) == 2 and all(e.first_audio_ms is not None for e in ex)
    text = out.out
    assert "ORIGINAL openai/gpt-realtime" in text and "RE-RUN" in text
    assert "What color is the mug on my desk?" in text and "The mug is red." in text
    assert "first audio 300 ms" in text  # the original's latency
    for f in tmp_path.iterdir():
        assert CANARY_TOKEN.encode() not in f.read_bytes()
    assert CANARY_TOKEN not in text + out.err


def test_compare_is_symmetric_in_shape(original: SynthResult) -> None:
    with SessionFile(original.path) as a, SessionFile(original.path) as b:
        text = compare(a, b, 100)
    lines = text.splitlines()
    assert all(" | " in ln or ln.endswith(" |") or set(ln) <= {"-", "+"} for ln in lines)
    assert text.count("What color is the mug on my desk?") == 2


def test_bad_arguments(
    tmp_path: Path,
    original: SynthResult,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert rerun_main([str(tmp_path / "nope.voicecam"), "--backend", "local"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert rerun_main([str(original.path), "--backend", "nonsense"]) == 2
    assert "unknown backend" in capsys.readouterr().err
    assert rerun_main([str(original.path)]) == 2  # --backend is required
    junk = tmp_path / "j.voicecam"
    junk.write_bytes(b"\0" * 500)
    assert rerun_main([str(junk), "--backend", "local"]) == 2
    assert "not a VoiceCam session" in capsys.readouterr().err
    # a refused connection: exit 1 with the session's own actionable message
    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", "x")
    assert (
        rerun_main(
            [
                str(original.path),
                "--backend",
                "ws://127.0.0.1:9/v1/realtime",
                "--out-dir",
                str(tmp_path),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert "127.0.0.1:9" in err and "Traceback" not in err


def test_a_rerun_keeps_to_its_budget(
    tmp_path: Path,
    original: SynthResult,
    fake: FakeOpenAI,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--budget: once the next turn would pass it, no audio or frames go out; the run says so
    and is still recorded."""
    import dataclasses

    from app import compose

    build = compose.build_backend
    # the fake at a ws:// URL is free: priced as gpt-realtime, as a cloud backend would be
    monkeypatch.setattr(
        compose, "build_backend", lambda *a, **kw: dataclasses.replace(build(*a, **kw), free=False)
    )
    args = [str(original.path), "--backend", fake.url, "--out-dir", str(tmp_path)]
    code = rerun_main([*args, "--tail", "3", "--budget", "0.0001"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "budget of $0.00 is reached" in out.out
    types = fake.current.types()
    assert types.count("input_audio_buffer.append") == 0
    assert types.count("conversation.item.create") == 0  # no frame either
    assert len(list(tmp_path.glob("*.voicecam"))) == 1
