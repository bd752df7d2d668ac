"""Duck at once, decide after — through the WIRED engine on the real PulseAudio rig (issue 16).

``AudioEngine(judge_interruptions=True)`` as the app builds it (``app.compose.build_audio``), a
long reply playing on the virtual speaker, each shared clip fed into the virtual microphone:

* every backchannel clip: the reply plays to its end, a ``Backchannel`` is reported and no user
  turn starts (no ``VoiceStarted``, no ``BargeIn``; the mic audio of it is silence);
* every interrupt clip: one ``BargeIn`` for the reply, truncated to what was heard, and the
  held voice start reaches the app after it;
* the reply's own echo (speaker looped into the microphone) changes nothing.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import Backchannel, BargeIn, MicAudio, VoiceStarted
from dsp.snippet_stt import SnippetTranscriber
from tests.audio.helpers import load
from tests.audio.room import TURNS, turn_clips
from tests.audio.runner import EngineRunner
from tests.audio.test_pulse import _attenuate_loopback
from tests.fixtures.pulse import PulseServer

pytestmark = [pytest.mark.pulse, pytest.mark.models]

LEAD_S = 2.0  # the reply plays alone first


def reply() -> np.ndarray:
    return np.concatenate([load(f"q0{i}_piper.wav", 24000) for i in (1, 2)])


def reply_ms() -> int:
    return len(reply()) * 1000 // 24000


def wired(transcriber: SnippetTranscriber) -> AudioEngine:
    cfg = AudioConfig(input_device="pulse", output_device="pulse")
    return AudioEngine(cfg, judge_interruptions=True, transcriber=transcriber)


def wait_until(pred: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not pred():  # type: ignore[operator]
        time.sleep(0.05)


def after(run: EngineRunner, t0: int, kind: type) -> list[object]:
    return [ev for t, ev in list(run.events) if t >= t0 and isinstance(ev, kind)]


#: Each of the six words once, the voices alternating (suite time: each clip waits for a whole
#: reply). All twelve clips are measured by ``bench/bench_audio.py --only 10``.
BACKCHANNELS = [
    str(m["file"])
    for m in turn_clips("backchannel")
    if ("piper" in str(m["file"])) == (int(str(m["file"])[11:13]) % 2 == 1)
]
INTERRUPTS = [str(m["file"]) for m in turn_clips("interrupt")]


@pytest.mark.parametrize("clip", BACKCHANNELS)
def test_backchannel_leaves_the_reply_playing_to_its_end_and_is_no_turn(
    pulse_server: PulseServer, snippet_transcriber: SnippetTranscriber, clip: str
) -> None:
    eng = wired(snippet_transcriber)
    total = reply_ms()
    with EngineRunner(eng) as run:
        run.wait_for(MicAudio)
        t_play = time.monotonic_ns()
        run.call(lambda: eng.play("r", reply().tobytes(), 24000))
        run.call(lambda: eng.end_item("r"))
        time.sleep(LEAD_S)
        pulse_server.play_to_mic(TURNS / clip, wait=False)
        time.sleep(1.0)
        wait_until(lambda: not run.call(lambda: eng.is_playing), total / 1000 + 8)
        played = run.call(lambda: eng.played_ms("r"))
        monitor = run.call(lambda: eng.interruptions)
    assert not after(run, t_play, BargeIn), "a backchannel does not stop the reply"
    assert not after(run, t_play, VoiceStarted), "a backchannel is not a user turn"
    nods = after(run, t_play, Backchannel)
    assert len(nods) == 1 and nods[0].text, nods  # type: ignore[attr-defined]
    assert monitor is not None and monitor.ducks >= 1, "it was ducked at once"
    assert played >= total - 20, f"the reply played to its end: {played} of {total} ms"


@pytest.mark.parametrize("clip", INTERRUPTS)
def test_interruption_stops_the_reply_at_what_was_heard(
    pulse_server: PulseServer, snippet_transcriber: SnippetTranscriber, clip: str
) -> None:
    eng = wired(snippet_transcriber)
    with EngineRunner(eng) as run:
        run.wait_for(MicAudio)
        t_play = time.monotonic_ns()
        run.call(lambda: eng.play("r", reply().tobytes(), 24000))
        run.call(lambda: eng.end_item("r"))
        time.sleep(LEAD_S)
        pulse_server.play_to_mic(TURNS / clip, wait=False)
        run.wait_for(BargeIn, timeout=10.0, after=t_play)
        time.sleep(1.0)
        playing = run.call(lambda: eng.is_playing)
        played = run.call(lambda: eng.played_ms("r"))
    events = [ev for t, ev in list(run.events) if t >= t_play]
    stops = [ev for ev in events if isinstance(ev, BargeIn)]
    assert len(stops) == 1 and stops[0].item_id == "r"
    assert not playing
    assert LEAD_S * 1000 - 200 <= stops[0].played_ms <= played, "truncated to what was heard"
    assert played < reply_ms() - 1000
    # the interruption's voice start was held while judging, then reached the app
    starts = [i for i, ev in enumerate(events) if isinstance(ev, VoiceStarted)]
    assert starts and starts[-1] > events.index(stops[0])


def test_echo_of_the_reply_changes_nothing(
    pulse_server: PulseServer, snippet_transcriber: SnippetTranscriber
) -> None:
    loop = pulse_server.load_module(
        "module-loopback",
        "source=speaker.monitor",
        "sink=micfeed",
        "latency_msec=60",
        "source_dont_move=true",
        "sink_dont_move=true",
    )
    try:
        _attenuate_loopback(pulse_server, loop, percent=40)
        eng = wired(snippet_transcriber)
        total = reply_ms()
        with EngineRunner(eng) as run:
            run.wait_for(MicAudio)
            t_play = time.monotonic_ns()
            run.call(lambda: eng.play("r", reply().tobytes(), 24000))
            run.call(lambda: eng.end_item("r"))
            time.sleep(1.0)
            wait_until(lambda: not run.call(lambda: eng.is_playing), total / 1000 + 8)
            played = run.call(lambda: eng.played_ms("r"))
            monitor = run.call(lambda: eng.interruptions)
        for kind in (BargeIn, Backchannel, VoiceStarted):
            assert not after(run, t_play, kind), kind.__name__
        assert monitor is not None and monitor.ducks == 0, "the echo never ducked the reply"
        assert played >= total - 20
    finally:
        pulse_server.unload_module(loop)
