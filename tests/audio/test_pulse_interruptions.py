"""Duck at once, decide after — on the real PulseAudio rig (``-m pulse``, ``-m models``).

The monitor is attached after the engine's echo canceller (tests/audio/monitor_hook.py, as
engine.py will call it). With a long reply playing on the virtual speaker: the reply's own echo
(speaker looped into the microphone) never ducks it; a backchannel fed into the microphone
leaves it playing; an interruption stops it at what was heard.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import MicAudio
from audio.interruption_judge import Duck, Interrupt, Reason, Restore
from dsp.snippet_stt import SnippetTranscriber
from tests.audio.helpers import load
from tests.audio.monitor_hook import MonitorHook
from tests.audio.room import TURNS
from tests.audio.runner import EngineRunner
from tests.audio.test_pulse import _attenuate_loopback
from tests.fixtures.pulse import PulseServer

pytestmark = [pytest.mark.pulse, pytest.mark.models]


def long_reply() -> np.ndarray:
    return np.concatenate([load(f"q0{i}_piper.wav", 24000) for i in (1, 2, 3, 6, 7)])


def engine() -> AudioEngine:
    cfg = AudioConfig(input_device="pulse", output_device="pulse", barge_in=False)
    return AudioEngine(cfg)


def test_echo_of_the_reply_never_ducks_it(
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
        eng = engine()
        hook = MonitorHook(eng, snippet_transcriber)
        with EngineRunner(eng) as run:
            run.wait_for(MicAudio)
            run.call(lambda: eng.play("r", long_reply().tobytes(), 24000))
            run.call(lambda: eng.end_item("r"))
            time.sleep(9.0)
            played = run.call(lambda: eng.played_ms("r"))
        assert played > 8000, "the reply played on"
        assert hook.actions == [], [a for _t, a in hook.actions]
    finally:
        pulse_server.unload_module(loop)


@pytest.mark.parametrize(
    ("clip", "kind"),
    [
        ("backchannel02_piper.wav", "backchannel"),
        ("backchannel04_espeak.wav", "backchannel"),
        ("interrupt01_espeak.wav", "interrupt"),
        ("interrupt04_piper.wav", "interrupt"),
    ],
)
def test_backchannel_passes_and_interruption_stops(
    pulse_server: PulseServer, snippet_transcriber: SnippetTranscriber, clip: str, kind: str
) -> None:
    eng = engine()
    hook = MonitorHook(eng, snippet_transcriber)
    with EngineRunner(eng) as run:
        run.wait_for(MicAudio)
        run.call(lambda: eng.play("r", long_reply().tobytes(), 24000))
        run.call(lambda: eng.end_item("r"))
        time.sleep(2.0)
        pulse_server.play_to_mic(TURNS / clip, wait=False)
        time.sleep(4.5)
        playing = run.call(lambda: eng.is_playing)
        played = run.call(lambda: eng.played_ms("r"))
    acts = [a for _t, a in hook.actions]
    assert acts and isinstance(acts[0], Duck), acts
    stops = [a for a in acts if isinstance(a, Interrupt)]
    if kind == "backchannel":
        assert not stops, stops
        restores = [a for a in acts if isinstance(a, Restore)]
        assert restores and restores[0].reason is Reason.BACKCHANNEL
        assert playing and played > 4000, "the reply goes on after the backchannel"
    else:
        assert len(stops) == 1 and stops[0].item_id == "r"
        assert not playing
        assert 2000 <= stops[0].played_ms <= played <= 3500, "truncated to what was heard"
