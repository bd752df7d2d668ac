"""Client end of turn through the real engine on a real PulseAudio server (``-m pulse``).

The shared turn clips are played into the virtual microphone in real time; the engine runs the
turn model on its worker thread, as in the app. Positions are judged on the captured stream
(sample indexes, the clip found in it by cross-correlation), so a stall of this shared machine
cannot blur them.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from audio.client_turns import ClientTurnEnd, turn_transcriber
from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.events import MicAudio, StreamOpened, VoiceStarted, VoiceStopped
from dsp.end_of_turn import Reason, policy_for
from dsp.pcm import read_wav
from dsp.text_end import TextEndScorer
from tests.audio.runner import EngineRunner
from tests.audio.test_client_turns import ENTRIES, TURNS
from tests.audio.test_pulse import best_lag
from tests.fixtures.pulse import PulseServer

pytestmark = [
    pytest.mark.pulse,
    pytest.mark.skipif(not ENTRIES, reason="shared turn clips not present"),
]


def _turns_of(
    pulse_server: PulseServer, name: str, turns: ClientTurnEnd | None = None
) -> tuple[list, list, int, ClientTurnEnd]:
    """Play ``name`` into the mic; the starts, stops, the clip's offset in the captured 16 kHz
    stream and the detector (unless given: medium patience as the app builds it, with the
    words)."""
    turns = turns or ClientTurnEnd("medium", words=turn_transcriber(), scorer=TextEndScorer())
    engine = AudioEngine(
        AudioConfig(input_device="pulse", output_device="pulse"), end_of_turn=turns
    )
    with EngineRunner(engine) as run:
        run.wait_for(StreamOpened)
        run.wait_for(MicAudio)
        time.sleep(0.5)  # the model loads on the worker meanwhile
        pulse_server.play_to_mic(TURNS / name)  # returns when the clip has played
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and (not run.of(VoiceStopped) or talking(run)):
            time.sleep(0.05)
        time.sleep(1.5)  # anything after the end would show up here
    captured = np.frombuffer(b"".join(m.pcm16_16k for m in run.of(MicAudio)), dtype=np.int16)
    src = np.frombuffer(read_wav(TURNS / name)[0], dtype=np.int16)
    lag = best_lag(captured.astype(float), src.astype(float))
    return run.of(VoiceStarted), run.of(VoiceStopped), lag, turns


def talking(run: EngineRunner) -> bool:
    return len(run.of(VoiceStarted)) > len(run.of(VoiceStopped))


def test_a_paused_question_is_committed_once_after_its_real_end(
    pulse_server: PulseServer,
) -> None:
    entry = next(e for e in ENTRIES if e["file"] == "paused08_piper.wav")
    starts, stops, lag, turns = _turns_of(pulse_server, entry["file"])
    assert len(starts) == 1 and len(stops) == 1, "the pause did not end the turn"
    end_ms = (stops[0].sample16 - lag) / 16
    assert end_ms >= entry["speech_end_ms"] - 60, "after its real end"
    assert any(d.reason is Reason.ACOUSTIC_INCOMPLETE for d in turns.decisions)


def test_a_complete_question_is_committed_after_a_short_silence(
    pulse_server: PulseServer,
) -> None:
    entry = next(e for e in ENTRIES if e["file"] == "complete02_piper.wav")
    starts, stops, lag, turns = _turns_of(pulse_server, entry["file"])
    assert len(starts) == 1 and len(stops) == 1
    end_ms = (stops[0].sample16 - lag) / 16
    assert entry["speech_end_ms"] - 60 <= end_ms <= entry["speech_end_ms"] + 100
    last = turns.decisions[-1]
    policy = policy_for("medium")
    assert last.reason is Reason.COMPLETE
    assert last.silence_ms <= policy.checkpoint_ms + 2 * policy.recheck_ms


def test_at_high_patience_the_words_hold_a_pause_after_a_final_sounding_phrase(
    pulse_server: PulseServer,
) -> None:
    """ "Can you tell me | what colour the mug is?": the model alone hears a finished question
    at the pause (tests/audio/test_client_turns.py shows it in audio time); live, with the words
    transcribed on their own worker from the pause on, the turn is not cut either: the words
    hold it, or their verdict comes after the voice is back and is dropped."""
    entry = next(e for e in ENTRIES if e["file"] == "paused02_piper.wav")
    words = turn_transcriber()
    words.load()
    scorer = TextEndScorer()
    scorer.load()
    turns = ClientTurnEnd("low", words=words, scorer=scorer)
    starts, stops, lag, turns = _turns_of(pulse_server, entry["file"], turns)
    assert len(starts) == 1 and len(stops) == 1, "the pause did not end the turn"
    assert (stops[0].sample16 - lag) / 16 >= entry["speech_end_ms"] - 60
    last = turns.decisions[-1]
    assert last.reason is Reason.COMPLETE, turns.decisions  # the words of the whole question
