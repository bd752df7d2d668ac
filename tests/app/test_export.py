"""Exports read back: WAV channels/duration/alignment, MP4 streams/duration (PyAV), Markdown and
SRT contain every turn, canary key absent, bad arguments exit 2 with a clear message."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from app.export import export_main
from realtime.recording.reader import SessionFile
from tests.realtime.recording.synth import SynthResult, write_session

CANARY = "sk-canary-export-1b2c3d4e5f60718293"


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthResult:
    path = tmp_path_factory.mktemp("exp") / "s.voicecam"
    return write_session(path, turns=2, secrets=(CANARY,), leak=CANARY)


def _export(session: Path, out: Path) -> None:
    assert export_main([str(session), "--to", str(out)]) == 0


def test_wav_is_stereo_aligned(tmp_path: Path, synth: SynthResult) -> None:
    out = tmp_path / "s.wav"
    _export(synth.path, out)
    with wave.open(str(out)) as w:
        assert w.getnchannels() == 2 and w.getsampwidth() == 2
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    assert abs(len(data) / rate * 1000 - synth.duration_ms) < 50
    with SessionFile(synth.path) as sf:
        mic = sf.mic_track(rate).samples
        play = sf.playback_track(rate).samples
    assert np.array_equal(data[: len(mic), 0], mic)
    assert np.array_equal(data[: len(play), 1], play)
    # the assistant channel is silent until the first reply starts playing, then it speaks
    first = round(synth.play_start_ms["item_A0"] * rate / 1000)
    nonzero = np.flatnonzero(data[:, 1])
    assert first - 1 <= nonzero[0] < first + 2 * rate
    assert np.flatnonzero(data[:, 0])[0] >= 100 * rate // 1000 - 1  # mic starts at 100 ms


def test_mp4_streams_and_duration(tmp_path: Path, synth: SynthResult) -> None:
    out = tmp_path / "s.mp4"
    _export(synth.path, out)
    with av.open(str(out)) as c:
        kinds = sorted(s.type for s in c.streams)
        assert kinds == ["audio", "video"]
        assert c.duration is not None
        duration_ms = c.duration / 1000  # microseconds -> ms
        v = c.streams.video[0]
        a = c.streams.audio[0]
        assert v.codec_context.name == "h264" and a.codec_context.name == "aac"
        assert v.codec_context.width > 0
        n_frames = sum(1 for _ in c.decode(video=0))
    assert abs(duration_ms - synth.duration_ms) < 300
    assert n_frames >= synth.duration_ms / 1000 * 10 - 2


def test_markdown_has_every_turn_and_frames(tmp_path: Path, synth: SynthResult) -> None:
    out = tmp_path / "s.md"
    _export(synth.path, out)
    text = out.read_text()
    pos = -1
    for role, said in synth.turns:
        label = "**You**" if role == "user" else "**Assistant**"
        assert said in text
        p = text.index(said)
        assert text.rfind(label, 0, p) > pos  # in order, under the right speaker
        pos = p
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) == 2
    for rel in images:
        assert (out.parent / rel).read_bytes().startswith(b"\xff\xd8")
    assert "first audio 300 ms" in text and "(estimate)" in text


def test_srt_has_every_turn(tmp_path: Path, synth: SynthResult) -> None:
    out = tmp_path / "s.srt"
    _export(synth.path, out)
    cues = out.read_text().strip().split("\n\n")
    texts = [c.splitlines()[2] for c in cues]
    for role, said in synth.turns:
        assert f"{'You' if role == 'user' else 'Assistant'}: {said}" in texts
    for c in cues:
        n, times = c.splitlines()[:2]
        assert n.isdigit()
        assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", times)


def test_canary_nowhere_in_file_or_exports(tmp_path: Path, synth: SynthResult) -> None:
    for ext in ("wav", "mp4", "md", "srt"):
        _export(synth.path, tmp_path / f"c.{ext}")
    files = [synth.path, *tmp_path.rglob("*")]
    for f in files:
        if f.is_file():
            assert CANARY.encode() not in f.read_bytes(), f


def test_bad_arguments_exit_2(
    tmp_path: Path, synth: SynthResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert export_main([str(tmp_path / "missing.voicecam"), "--to", str(tmp_path / "o.wav")]) == 2
    assert "no such file" in capsys.readouterr().err
    junk = tmp_path / "junk.voicecam"
    junk.write_bytes(b"RIFF....WAVEfmt " * 20)
    assert export_main([str(junk), "--to", str(tmp_path / "o.wav")]) == 2
    err = capsys.readouterr().err
    assert "not a VoiceCam session" in err and "Traceback" not in err
    assert export_main([str(synth.path), "--to", str(tmp_path / "o.avi")]) == 2
    assert "unknown format" in capsys.readouterr().err
    assert export_main([str(synth.path), "--to", str(tmp_path / "nodir" / "o.wav")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert export_main([str(synth.path)]) == 2  # argparse: --to is required
    truncated = tmp_path / "t.voicecam"
    truncated.write_bytes(synth.path.read_bytes()[:5000])
    assert export_main([str(truncated), "--to", str(tmp_path / "o.srt")]) == 2
    err = capsys.readouterr().err
    assert "truncated" in err or "damaged" in err
    assert not (tmp_path / "o.srt").exists()
