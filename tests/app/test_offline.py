"""The assistant and the headless CLI against the REAL offline server (real models).

One server per test session (``offline_server`` fixture); shared speech files and the desk
still are the inputs. Marked ``models``: they load Whisper, piper, OCR and SmolLM2.
"""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app import cli
from app.assistant import Assistant
from app.backends import resolve
from app.file_audio import FileAudio
from app.frames import FrameFeed
from app.local_server import LocalServer
from app.modes import ConversationOptions
from app.state import ConversationState as S
from dsp.pcm import read_wav
from tests.app.fakes import NullRecorder
from video.file import FileSource

pytestmark = pytest.mark.models


def wav_ms(path: Path) -> int:
    with wave.open(str(path)) as w:
        return w.getnframes() * 1000 // w.getframerate()


def test_cli_whole_turn_with_image(
    offline_server: LocalServer,
    media_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", offline_server.token)
    out = tmp_path / "reply.wav"
    code = cli.main(
        [
            "--headless",
            "--backend",
            str(offline_server.url),
            "--audio-in",
            str(media_dir / "speech" / "q01_piper.wav"),
            "--image",
            str(media_dir / "video" / "desk.png"),
            "--audio-out",
            str(out),
            "--timeout",
            "90",
        ]
    )
    cap = capsys.readouterr()
    assert code == 0, cap.err
    user = next(line for line in cap.out.splitlines() if line.startswith("you: "))
    assert "mug" in user.lower() and "desk" in user.lower()  # Whisper heard the question
    reply = next(line for line in cap.out.splitlines() if line.startswith("assistant: "))
    assert len(reply) > len("assistant: ") + 5
    assert wav_ms(out) > 500  # spoken reply, played and written
    pcm, _ = read_wav(out)
    assert any(pcm[i] for i in range(1, len(pcm), 2))  # not silence
    assert "free" in cap.err  # cost line: the offline backend costs nothing


def test_assistant_barge_in_truncates_real_reply(
    offline_server: LocalServer, media_dir: Path, tmp_path: Path
) -> None:
    """q01; while its reply is playing, q08 ("Stop. Wait a second…") barges in."""
    second, rate = read_wav(media_dir / "speech" / "q08_piper.wav")
    spec = resolve("local", local_server=offline_server, reconnect=False)
    spec.prepare_fn = None  # already running
    sent: list[object] = []

    class Wire(NullRecorder):
        def on_wire(self, direction: str, message: str | bytes, t_mono_ns: int) -> None:
            if direction == "out" and isinstance(message, str) and '"type"' in message:
                sent.append(message)

    audio = FileAudio(media_dir / "speech" / "q01_piper.wav", tmp_path / "r.wav")
    frames = FrameFeed(FileSource(media_dir / "video" / "desk.png", loop=True, still_fps=5.0))
    a = Assistant(spec, audio, frames, ConversationOptions(), recorder=Wire())
    done = threading.Event()
    try:
        a.start()
        assert a.wait_for(lambda s: s.state == S.ASSISTANT_SPEAKING, 90), a.snapshot()
        time.sleep(0.8)  # some of the reply is heard, not all (replies here last seconds)
        audio.feed(second, rate)
        snap = a.wait_for(lambda s: any(t.interrupted for t in s.turns), 30)
        assert snap is not None, a.snapshot()
        done.set()
        turn = next(t for t in snap.turns if t.interrupted)
        assert 0 < turn.played_ms < turn.received_ms
        assert turn.heard_text or turn.played_ms < 1000
        assert turn.unheard_text  # generated but never played
        wire = "\n".join(str(m) for m in sent)
        assert '"response.cancel"' in wire or "conversation.item.truncate" in wire
        assert '"conversation.item.truncate"' in wire
        # the second question gets its own answer
        snap = a.wait_for(lambda s: s.completed_turns >= 1 and s.state == S.LISTENING, 90)
        assert snap is not None, a.snapshot()
        users = [t.text.lower() for t in snap.turns if t.role == "user"]
        assert any("wait" in u or "stop" in u for u in users), users
        assert snap.frames_sent >= 1
        assert not [e for e in snap.server_errors if "truncat" in e.message.lower()]
    finally:
        a.close()


@pytest.mark.pulse
def test_cli_with_the_microphone_through_pulseaudio(
    offline_server: LocalServer,
    pulse_server: Any,
    media_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The real audio engine: a question played into the virtual mic, the reply at the speaker."""
    monkeypatch.setenv("VOICECAM_BACKEND_TOKEN", offline_server.token)
    code: list[int] = []
    argv = [
        "--headless",
        "--backend",
        str(offline_server.url),
        "--turns",
        "1",
        "--duration",
        "90",
        "--input-device",
        "pulse",
        "--output-device",
        "pulse",
        "-v",
    ]
    worker = threading.Thread(target=lambda: code.append(cli.main(argv)), daemon=True)
    recording = pulse_server.record(tmp_path / "speaker.wav")
    worker.start()
    err = ""
    deadline = time.monotonic() + 60
    while "[listening]" not in err and time.monotonic() < deadline and worker.is_alive():
        time.sleep(0.1)
        err += capsys.readouterr().err
    assert "[listening]" in err, err
    pulse_server.play_to_mic(media_dir / "speech" / "q03_piper.wav")
    worker.join(90)
    recording.stop()
    cap = capsys.readouterr()
    assert code == [0], err + cap.err
    users = [line.lower() for line in cap.out.splitlines() if line.startswith("you: ")]
    # "Can you read the text on this sign?" (on a loaded machine a capture glitch may split it)
    assert any("sign" in u for u in users), cap.out
    assert any(line.startswith("assistant: ") for line in cap.out.splitlines())
    pcm, rate = read_wav(tmp_path / "speaker.wav")
    samples = np.frombuffer(pcm, dtype=np.int16)
    loud = np.abs(samples.astype(np.int32)) > 1000
    assert loud.sum() > rate // 2, "the reply was not heard at speaker.monitor"


def test_push_to_talk_then_text_in_the_same_conversation(
    offline_server: LocalServer, media_dir: Path
) -> None:
    from app.modes import Mode

    spec = resolve("local", local_server=offline_server, reconnect=False)
    spec.prepare_fn = None
    audio = FileAudio(media_dir / "speech" / "q04_piper.wav", None)
    a = Assistant(spec, audio, None, ConversationOptions(mode=Mode.PUSH_TO_TALK))
    try:
        a.start()
        assert a.wait_for(lambda s: s.state == S.LISTENING, 60)
        a.push_to_talk(True)
        deadline = time.monotonic() + 30
        while not audio.file_done and time.monotonic() < deadline:
            time.sleep(0.05)
        a.push_to_talk(False)
        snap = a.wait_for(lambda s: s.completed_turns >= 1 and s.state == S.LISTENING, 90)
        assert snap is not None, a.snapshot()
        assert snap.latency[-1].commit_ns is not None
        a.send_text("What does the sign say?")
        snap = a.wait_for(lambda s: s.completed_turns >= 2 and s.state == S.LISTENING, 90)
        assert snap is not None, a.snapshot()
        users = [t for t in snap.turns if t.role == "user"]
        assert len(users) == 2 and users[1].typed and users[0].text and not users[0].typed
        assert len([t for t in snap.turns if t.role == "assistant" and t.text]) == 2
        assert snap.cost_usd == 0.0 and snap.free and snap.usage.total_tokens > 0
    finally:
        a.close()
