"""Headless CLI against the scripted fake OpenAI provider (loopback websockets, real cores).

Each test runs ``app.cli.main`` in a worker thread with a real shared speech file paced in real
time, while the fake runs on its own event loop thread and the test scripts it.
"""

from __future__ import annotations

import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app import cli
from dsp.pcm import read_wav, write_wav
from tests.app.fakes import FakeThread
from tests.fakes.fake_openai import FakeOpenAI

KEY = "sk-test-cli-fake-key-0123456789"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeThread]:
    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", KEY)
    ft = FakeThread(FakeOpenAI(api_key=KEY, chunk_delay_s=0.02))
    yield ft
    ft.close()
    assert not ft.fake.client_errors, ft.fake.client_errors  # every client message validated
    assert not ft.fake.fake_errors, ft.fake.fake_errors


class Run:
    """``voicecam --headless …`` in a worker thread."""

    def __init__(self, argv: list[str]) -> None:
        self.code: int | None = None
        self.thread = threading.Thread(target=self._run, args=(argv,), daemon=True)
        self.thread.start()

    def _run(self, argv: list[str]) -> None:
        try:
            self.code = cli.main(argv)
        except SystemExit as exc:
            self.code = int(exc.code or 0)

    def wait(self, timeout: float = 60) -> int:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "voicecam --headless did not exit"
        assert self.code is not None
        return self.code


def wav_ms(path: Path) -> int:
    with wave.open(str(path)) as w:
        return w.getnframes() * 1000 // w.getframerate()


def test_whole_turn_prints_transcripts_and_writes_reply(
    fake: FakeThread, media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reply.wav"
    run = Run(
        [
            "--headless",
            "--backend",
            fake.url,
            "--audio-in",
            str(media_dir / "speech" / "q01_piper.wav"),
            "--image",
            str(media_dir / "video" / "desk.png"),
            "--audio-out",
            str(out),
            "--timeout",
            "30",
        ]
    )
    assert run.wait() == 0
    text = capsys.readouterr().out
    assert "you: What is on my desk?" in text
    assert "assistant: Hello there, I can see your desk." in text
    assert 550 <= wav_ms(out) <= 650  # the whole 600 ms reply was played
    types = fake.fake.current.types()
    # client VAD closed the turn: clear, audio, an image at speech start, commit, response
    assert types.index("input_audio_buffer.clear") < types.index("input_audio_buffer.commit")
    assert "conversation.item.create" in types  # the desk frame
    assert types.index("input_audio_buffer.commit") < types.index("response.create")


def test_interruption_cancels_and_truncates_to_what_was_played(
    fake: FakeThread, media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, rate = read_wav(media_dir / "speech" / "q01_piper.wav")
    second, _ = read_wav(media_dir / "speech" / "q08_piper.wav")
    both = tmp_path / "two.wav"
    write_wav(both, first + second, rate)
    replies = iter([("Let me tell you a very long story about your desk and the mug on it.", 6000)])

    def reply(conn: Any) -> str:
        text, ms = next(replies, ("Sure, go ahead.", 500))
        fake.fake.reply_audio_ms = ms
        return text

    fake.fake.reply = reply
    fake.fake.chunk_delay_s = 0.1  # the long reply streams in real time
    run = Run(
        [
            "--headless",
            "--backend",
            fake.url,
            "--audio-in",
            str(both),
            "--audio-out",
            str(tmp_path / "r.wav"),
            "--timeout",
            "40",
        ]
    )
    assert run.wait() == 0
    got = fake.fake.current.received
    types = [m["type"] for m in got]
    i_cancel = types.index("response.cancel")
    trunc = next(m for m in got if m["type"] == "conversation.item.truncate")
    assert i_cancel < types.index("conversation.item.truncate")
    # q08's voice starts ~1.4 s after the reply began; truncate at what was played, never 0
    assert 300 <= trunc["audio_end_ms"] <= 3000
    text = capsys.readouterr().out
    assert "[interrupted: heard" in text
    assert "assistant: Sure, go ahead." in text
    assert types.count("response.create") == 2


def test_server_error_is_reported_and_turn_still_completes(
    fake: FakeThread, media_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = Run(
        [
            "--headless",
            "--backend",
            fake.url,
            "--text",
            "What is on my desk?",
            "--timeout",
            "20",
        ]
    )
    fake.call(fake.fake.wait_for, "session.update")
    fake.call(fake.fake.error, "Rate limit reached for requests", code="rate_limit_exceeded")
    assert run.wait() == 0
    cap = capsys.readouterr()
    assert "server error: Rate limit reached" in cap.err
    assert "you: What is on my desk?" in cap.out
    assert "assistant: Hello there" in cap.out


def test_session_expired_fails_with_a_message(
    fake: FakeThread, media_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fake.chunk_delay_s = 0.5
    run = Run(["--headless", "--backend", fake.url, "--text", "hello", "--timeout", "20"])
    fake.call(fake.fake.wait_for, "response.create")
    fake.call(fake.fake.expire)
    assert run.wait() == 1
    err = capsys.readouterr().err
    assert "session_expired" in err or "maximum duration" in err
    assert "closed" in err


def test_abrupt_close_exits_1_with_actionable_error(
    fake: FakeThread, media_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fake.chunk_delay_s = 0.5
    run = Run(
        [
            "--headless",
            "--backend",
            fake.url,
            "--audio-in",
            str(media_dir / "speech" / "q02_piper.wav"),
            "--timeout",
            "30",
        ]
    )
    fake.call(fake.fake.wait_for, "response.create")
    fake.fake.abort()
    assert run.wait() == 1
    err = capsys.readouterr().err
    assert "closed unexpectedly" in err and "1006" in err
    assert KEY not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--audio-in", "/nonexistent.wav"], "no such audio file"),
        (["--image", "/nonexistent.png"], "no such file"),
        (["--image", __file__], "not an image file"),
        (["--audio-out", "/nonexistent-dir/x.wav", "--text", "hi"], "does not exist"),
        (["--audio-out", "x.wav"], "needs --audio-in or --text"),
        (["--backend", "bogus", "--text", "hi"], "use local, openai, gemini"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--headless", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_key_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setattr("app.secrets._keyring_get", lambda service, user: None)
    assert cli.main(["--headless", "--backend", "openai", "--text", "hi", "--timeout", "10"]) == 1
    assert "OPENAI_API_KEY" in capsys.readouterr().err


def test_record_writes_a_readable_session_file(
    fake: FakeThread, media_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from realtime.recording.reader import SessionFile

    run = Run(
        [
            "--headless",
            "--backend",
            fake.url,
            "--audio-in",
            str(media_dir / "speech" / "q01_piper.wav"),
            "--image",
            str(media_dir / "video" / "desk.png"),
            "--record",
            str(tmp_path / "sessions"),
            "--timeout",
            "30",
        ]
    )
    assert run.wait() == 0
    (path,) = (tmp_path / "sessions").glob("*.voicecam")  # (+ the search index)
    with SessionFile(path) as f:
        assert f.metadata.backend == fake.url
        wire_out = [w for w in f.wire_messages("out")]
        assert any("input_audio_buffer.commit" in str(w.payload) for w in wire_out)
        assert KEY not in "".join(str(w.payload) for w in f.wire_messages())
        assert sum(c.duration_ms for c in f.mic_chunks()) > 3000  # the question as captured
        assert list(f.frames(sent=True))  # the desk frame that went to the model
        roles = [t.role for t in f.turns()]
        assert "user" in roles and "assistant" in roles
        assert list(f.playback_chunks())  # the reply audio
