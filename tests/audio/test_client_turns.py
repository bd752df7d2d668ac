"""Semantic end of turn on the client (``audio.client_turns``) through the audio engine.

The shared turn clips are fed into a fake duplex stream faster than real time; the turn model
runs inline (``InlineExecutor``), so every decision is taken at its audio-time checkpoint and the
same clip always gives the same events. The real Smart Turn model is used (loaded once per
process by ``SharedTurnModel``); a scripted judge checks the decision flow on its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from audio.client_turns import (
    MIN_JUDGED_MS,
    ClientTurnEnd,
    InlineExecutor,
    SharedTurnModel,
    text_cue,
    turn_transcriber,
)
from audio.config import AudioConfig, TalkMode
from audio.engine import AudioEngine
from audio.events import AudioEvent, DeviceWarning, VoiceStarted, VoiceStopped
from dsp.end_of_turn import Reason, policy_for
from dsp.pcm import read_wav
from dsp.resample import resample
from dsp.snippet_stt import SnippetTranscriber
from dsp.text_end import TextEndScorer
from dsp.turn_model import TurnModelMissing
from tests.audio.fakes import FakeClock, FakeFactory
from tests.audio.helpers import drive

TURNS = Path(__file__).resolve().parents[2].parent / "shared" / "media" / "turns"
ENTRIES = json.loads((TURNS / "turns.json").read_text()) if TURNS.is_dir() else []
COMPLETE = [e for e in ENTRIES if e["kind"] == "complete"]
#: The paused clips whose pause the model hears as a hesitation (the others' first halves
#: sound finished to it: the bench counts those cuts, ``bench/bench_audio.py`` section 9).
HESITATIONS = [e for e in ENTRIES if e["file"].startswith("paused08_")]
MS = 1_000_000

pytestmark = pytest.mark.skipif(not ENTRIES, reason="shared turn clips not present")


def clip(name: str, rate: int = 48000) -> np.ndarray:
    pcm, r = read_wav(TURNS / name)
    return np.frombuffer(resample(pcm, r, rate), dtype=np.int16)


def run_clip(
    name: str, turns: ClientTurnEnd, pad_ms: int = 3000, **cfg: object
) -> tuple[list[AudioEvent], int]:
    """Events of ``name`` through a fake engine with ``turns``; and the clip's t0 (ns)."""
    clock = FakeClock()
    factory = FakeFactory(clock)
    engine = AudioEngine(AudioConfig(**cfg), factory, clock=clock, end_of_turn=turns)  # type: ignore[arg-type]
    engine.start()
    engine.process()
    t0 = clock()
    events, _ = drive(engine, factory.stream, clip(name), pad_blocks=pad_ms // 10)
    engine.stop()
    return events, t0


def of(events: list[AudioEvent], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


@pytest.fixture(scope="module")
def model() -> SharedTurnModel:
    judge = SharedTurnModel()
    judge.model()
    return judge


@pytest.mark.parametrize("entry", COMPLETE, ids=[e["file"] for e in COMPLETE])
def test_a_complete_question_is_committed_after_a_short_silence(
    entry: dict, model: SharedTurnModel
) -> None:
    turns = ClientTurnEnd("medium", model, executor=InlineExecutor())
    events, t0 = run_clip(entry["file"], turns)
    starts, stops = of(events, VoiceStarted), of(events, VoiceStopped)
    assert len(starts) == 1 and len(stops) == 1, "one turn"
    end_ms = (stops[0].t_ns - t0) / MS
    assert entry["speech_end_ms"] - 60 <= end_ms <= entry["speech_end_ms"] + 100
    last = turns.decisions[-1]
    policy = policy_for("medium")
    assert last.reason in (Reason.COMPLETE, Reason.CAP)
    # sooner than the plain 500 ms stop delay: at a checkpoint, well before the cap
    assert last.silence_ms <= policy.checkpoint_ms + 2 * policy.recheck_ms < policy.cap_ms


@pytest.mark.parametrize("entry", HESITATIONS, ids=[e["file"] for e in HESITATIONS])
def test_a_hesitation_is_waited_through_and_the_question_committed_once_after_its_end(
    entry: dict, model: SharedTurnModel
) -> None:
    turns = ClientTurnEnd("medium", model, executor=InlineExecutor())
    events, t0 = run_clip(entry["file"], turns)
    starts, stops = of(events, VoiceStarted), of(events, VoiceStopped)
    assert len(starts) == 1 and len(stops) == 1, "the pause did not end the turn"
    assert (stops[0].t_ns - t0) / MS >= entry["speech_end_ms"] - 60, "after its real end"
    assert any(d.reason is Reason.ACOUSTIC_INCOMPLETE for d in turns.decisions)


def test_the_plain_stop_delay_cuts_the_same_hesitation(model: SharedTurnModel) -> None:
    """Baseline: without the turn model the 500 ms stop delay ends the turn in the pause."""
    entry = HESITATIONS[0]
    clock = FakeClock()
    factory = FakeFactory(clock)
    engine = AudioEngine(AudioConfig(vad_stop_ms=500), factory, clock=clock)
    engine.start()
    engine.process()
    events, _ = drive(engine, factory.stream, clip(entry["file"]), pad_blocks=300)
    assert len(of(events, VoiceStopped)) == 2


class ScriptedJudge:
    """P(complete) from a list, one per checkpoint (the decision flow without the model)."""

    def __init__(self, probs: list[float]) -> None:
        self.probs = probs
        self.calls = 0

    def probability(self, audio: np.ndarray) -> float:
        p = self.probs[min(self.calls, len(self.probs) - 1)]
        self.calls += 1
        return p


def _silence_after_speech(turns: ClientTurnEnd, speech_ms: int, silence_ms: int) -> list:
    """Feed ``speech_ms`` of (already detected) speech, then silence, 10 ms at a time."""
    ends = []
    turns.speech(0, new_turn=True)
    turns.feed(bytes(speech_ms * 32))
    turns.pause(turns.position)
    for _ in range(silence_ms // 10):
        turns.feed(bytes(320))
        ended = turns.advance()
        if ended is not None:
            ends.append((ended, turns.position // 16))
    return ends


def test_flow_complete_at_the_checkpoint_unfinished_until_the_cap() -> None:
    policy = policy_for("high")
    done = ClientTurnEnd("high", ScriptedJudge([0.9]), executor=InlineExecutor())
    [(ended, at_ms)] = _silence_after_speech(done, 1000, 3000)
    assert ended.sample == 16000 and ended.decision.reason is Reason.COMPLETE
    assert at_ms - 1000 == policy.checkpoint_ms
    waiting = ClientTurnEnd("high", ScriptedJudge([0.1]), executor=InlineExecutor())
    [(ended, at_ms)] = _silence_after_speech(waiting, 1000, 3000)
    assert ended.decision.reason is Reason.CAP and at_ms - 1000 == policy.cap_ms


class RecordingJudge(ScriptedJudge):
    """A scripted judge that keeps the length (samples) of every audio it was asked about."""

    def __init__(self, probs: list[float]) -> None:
        super().__init__(probs)
        self.lengths: list[int] = []

    def probability(self, audio: np.ndarray) -> float:
        self.lengths.append(int(audio.size))
        return super().probability(audio)


def _batched(batch_ms: int) -> tuple[RecordingJudge, ClientTurnEnd]:
    """1 s of speech then 1.5 s of silence fed in batches of ``batch_ms`` (the capture's 16 kHz
    stream comes in soxr's ~30 ms bursts, a live device's in others)."""
    judge = RecordingJudge([0.1, 0.1, 0.9])
    turns = ClientTurnEnd("medium", judge, executor=InlineExecutor())
    turns.speech(0, new_turn=True)
    turns.feed(bytes(1000 * 32))
    turns.pause(turns.position)
    for _ in range(1500 // batch_ms):
        turns.feed(bytes(batch_ms * 32))
        if turns.advance() is not None:
            break
    return judge, turns


def test_each_checkpoint_judges_its_scheduled_silence_whatever_the_batching() -> None:
    """A checkpoint judges the audio up to exactly its scheduled silence (200, 450, 700 ms at
    medium), not whatever the last batch brought: the same turn gets the same verdicts at the
    same silences in 10 ms and in 30 ms batches, and the re-checks do not slip."""
    policy = policy_for("medium")
    schedule = [policy.checkpoint_ms + n * policy.recheck_ms for n in range(3)]
    runs = [_batched(ms) for ms in (10, 30, 70)]
    for judge, turns in runs:
        assert [d.silence_ms for d in turns.decisions] == schedule
        assert turns.decisions[-1].reason is Reason.COMPLETE
        assert judge.lengths == [16 * (1000 + ms) for ms in schedule]  # voice from sample 0


def test_voice_coming_back_keeps_the_turn_open() -> None:
    judge = ScriptedJudge([0.1, 0.9])
    turns = ClientTurnEnd("medium", judge, executor=InlineExecutor())
    assert _silence_after_speech(turns, 1000, 400) == []  # a hesitation, re-judged once
    turns.speech(turns.position, new_turn=False)
    turns.feed(bytes(500 * 32))
    turns.pause(turns.position)
    for _ in range(30):
        turns.feed(bytes(320))
        if (ended := turns.advance()) is not None:
            break
    assert ended is not None and ended.decision.reason is Reason.COMPLETE


def test_a_short_voice_is_not_judged_and_ends_after_the_plain_stop_delay() -> None:
    judge = ScriptedJudge([0.99])
    turns = ClientTurnEnd("medium", judge, executor=InlineExecutor(), fallback_ms=500)
    [(ended, at_ms)] = _silence_after_speech(turns, MIN_JUDGED_MS - 100, 2000)
    assert ended.decision.reason is Reason.CAP
    assert judge.calls == 0 and at_ms - (MIN_JUDGED_MS - 100) == 500


def test_a_missing_model_is_said_once_and_turns_end_after_the_plain_stop_delay(
    tmp_path: Path,
) -> None:
    class Missing:
        def probability(self, audio: np.ndarray) -> float:
            raise TurnModelMissing(f"The end-of-turn model is missing: {tmp_path}/x.onnx")

    turns = ClientTurnEnd("medium", Missing(), executor=InlineExecutor(), fallback_ms=500)
    events, t0 = run_clip(COMPLETE[0]["file"], turns)
    warnings = of(events, DeviceWarning)
    assert len(warnings) == 1 and "missing" in warnings[0].message
    assert "500 ms of silence" in warnings[0].message
    [stop] = of(events, VoiceStopped)
    assert turns.decisions[-1].reason is Reason.CAP and turns.decisions[-1].silence_ms >= 500
    assert abs((stop.t_ns - t0) / MS - COMPLETE[0]["speech_end_ms"]) <= 100


def test_push_to_talk_is_untouched_by_the_turn_model() -> None:
    judge = ScriptedJudge([0.99])
    turns = ClientTurnEnd("medium", judge, executor=InlineExecutor())
    events, _ = run_clip(COMPLETE[0]["file"], turns, mode=TalkMode.PUSH_TO_TALK)
    assert judge.calls == 1, "only the warm-up at start"
    assert not of(events, VoiceStarted) and not of(events, VoiceStopped)


def test_the_words_hold_a_phrase_that_needs_its_continuation() -> None:
    assert text_cue("Read me the text on.").continuation  # type: ignore[union-attr]
    assert text_cue("So the thing I wanted to ask is...").continuation  # type: ignore[union-attr]
    assert not text_cue("What time is it?").continuation  # type: ignore[union-attr]
    assert not text_cue("Read the sign for me.").continuation  # type: ignore[union-attr]
    assert text_cue("  ") is None


@pytest.fixture(scope="module")
def readers() -> tuple[SnippetTranscriber, TextEndScorer]:
    words = turn_transcriber()
    words.load()
    scorer = TextEndScorer()
    scorer.load()
    return words, scorer


#: Pauses the model alone hears as the end of a finished sentence (both voices; the bench counts
#: every clip: 1 of 16 is still cut with the words at medium patience, where Whisper mishears
#: the first half into another finished sentence).
READ_CLIPS = (
    "paused02_piper.wav",
    "paused03_espeak.wav",
    "paused06_piper.wav",
    "paused07_espeak.wav",
)
READ = [e for e in ENTRIES if e["file"] in READ_CLIPS]


@pytest.mark.parametrize("entry", READ, ids=[e["file"] for e in READ])
def test_with_the_words_a_pause_that_sounds_final_is_waited_through(
    entry: dict, model: SharedTurnModel, readers: tuple[SnippetTranscriber, TextEndScorer]
) -> None:
    """ "Can you tell me | what colour the mug is?": the model alone hears the first half as a
    finished question and cuts the turn; the words ("Can you tell me") are not finished."""
    alone = ClientTurnEnd("low", model, executor=InlineExecutor())
    events, _ = run_clip(entry["file"], alone)
    assert len(of(events, VoiceStopped)) == 2, "the model alone cuts this pause"
    words, scorer = readers
    turns = ClientTurnEnd("low", model, words=words, scorer=scorer, executor=InlineExecutor())
    events, t0 = run_clip(entry["file"], turns)
    stops = of(events, VoiceStopped)
    assert len(of(events, VoiceStarted)) == 1 and len(stops) == 1
    assert (stops[0].t_ns - t0) / MS >= entry["speech_end_ms"] - 60
    assert any(
        d.reason in (Reason.TEXT_INCOMPLETE, Reason.CONTINUATION_WORD) for d in turns.decisions
    )


def test_warming_loads_the_word_readers_too_so_the_first_turn_does_not_wait_for_them() -> None:
    loaded: list[str] = []

    class Words:
        def load(self) -> None:
            loaded.append("words")

        def transcribe(self, pcm16_16k: bytes) -> str:
            return "What is this?"

    class Scorer:
        def load(self) -> None:
            raise RuntimeError("SmolLM2 is missing")  # only logged: its checkpoint says so

        def complete_p(self, text: str) -> float:
            return 0.9

    turns = ClientTurnEnd(
        "medium", ScriptedJudge([0.9]), words=Words(), scorer=Scorer(), executor=InlineExecutor()
    )
    turns.warm()
    assert loaded == ["words"] and turns.warning is None


def test_words_that_cannot_be_read_leave_the_models_verdict_standing() -> None:
    class Deaf:
        def transcribe(self, pcm16_16k: bytes) -> str:
            raise RuntimeError("Whisper tiny could not be loaded")

    turns = ClientTurnEnd("high", ScriptedJudge([0.9]), words=Deaf(), executor=InlineExecutor())
    [(ended, _at_ms)] = _silence_after_speech(turns, 1000, 3000)
    assert ended.decision.reason is Reason.COMPLETE and turns.warning is None


PAUSED = [e for e in ENTRIES if e["kind"] == "paused"]
#: Whisper tiny hears espeak's "What does the sign on the wall" as "Well, it does the side on
#: the wall." (a finished sentence, P 0.40) and Smart Turn agrees: the one cut of 16 the bench
#: reports at medium patience. paused04_espeak is borderline: its first half's transcript flips
#: with the engine's batching ("Read me the text on." holds it; a misheard finished sentence
#: cuts it: passed in the bench's run, failed in this one).
MISHEARD = ("paused01_espeak.wav", "paused04_espeak.wav")


@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            e,
            marks=pytest.mark.xfail(e["file"] in MISHEARD, reason="misheard", strict=False),
        )
        for e in PAUSED
    ],
    ids=[e["file"] for e in PAUSED],
)
def test_at_the_default_patience_a_paused_question_is_committed_once_after_its_real_end(
    entry: dict, model: SharedTurnModel, readers: tuple[SnippetTranscriber, TextEndScorer]
) -> None:
    """Issue 16: in client mode (medium patience, as ``app.compose.build_turn_end`` builds it:
    Smart Turn, the words and SmolLM2), a paused question is committed once, after its end."""
    words, scorer = readers
    turns = ClientTurnEnd("medium", model, words=words, scorer=scorer, executor=InlineExecutor())
    events, t0 = run_clip(entry["file"], turns)
    stops = of(events, VoiceStopped)
    assert len(of(events, VoiceStarted)) == 1 and len(stops) == 1, turns.decisions
    assert (stops[0].t_ns - t0) / MS >= entry["speech_end_ms"] - 60, "after its real end"


def test_the_shared_model_judges_its_three_end_points_in_one_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The client's judge averages the same end points as the server, in one batched call."""
    from pathlib import Path

    from dsp.turn_model import TurnModel

    batches: list[int] = []

    class Session:
        def run(self, _outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
            batches.append(feeds["input_features"].shape[0])
            return [np.full((batches[-1], 1), 0.25, dtype=np.float32)]

    monkeypatch.setattr(SharedTurnModel, "_model", TurnModel(_session=Session(), path=Path("x")))
    p = SharedTurnModel().probability(np.ones(16000, dtype=np.float32))
    assert abs(p - 0.25) < 1e-6 and batches == [3]
