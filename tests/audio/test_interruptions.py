"""Duck at once, decide after — on every shared backchannel and interrupt clip (piper and espeak),
spoken over a long reply in a simulated room (real AEC3, real player, real Whisper tiny)."""

from __future__ import annotations

import numpy as np
import pytest

from audio.interruption_judge import Duck, Hold, Interrupt, Reason, Restore
from dsp.snippet_stt import SnippetTranscriber
from tests.audio.room import MS, RATE, Room, clip, reply_speech, turn_clips

pytestmark = pytest.mark.models

REPLY_S = 8


def talk_over(meta: dict[str, object], transcriber: SnippetTranscriber) -> tuple[Room, int]:
    r = Room(transcriber)
    r.play("reply", reply_speech(REPLY_S))
    r.run(None, 250)  # the reply plays alone for 2.5 s first
    t_speech = r.t_ns + int(meta["speech_start_ms"]) * MS  # type: ignore[call-overload]
    r.run(clip(str(meta["file"])), REPLY_S * 100)
    return r, t_speech


# Known limit: Whisper tiny reads espeak's hummed "Mm-hmm" over a faint ducked echo as
# "And then, then." (both listens); the reply then stops as for an interruption.
_HUM = pytest.mark.xfail(reason="Whisper tiny misreads espeak's hummed Mm-hmm", strict=False)
BACKCHANNELS = [
    pytest.param(m, marks=_HUM, id=str(m["file"]))
    if m["file"] == "backchannel03_espeak.wav"
    else pytest.param(m, id=str(m["file"]))
    for m in turn_clips("backchannel")
]
INTERRUPTS = turn_clips("interrupt")


@pytest.mark.parametrize("meta", BACKCHANNELS)
def test_backchannel_lets_the_reply_play_to_its_end(
    meta: dict[str, object], snippet_transcriber: SnippetTranscriber
) -> None:
    r, t_speech = talk_over(meta, snippet_transcriber)
    kinds = [type(a) for a in r.actions]
    assert Interrupt not in kinds, [a for a in r.actions if isinstance(a, Interrupt)]
    assert kinds[0] is Duck and r.actions[0].t_ns - t_speech <= 50 * MS
    restores = [a for a in r.actions if isinstance(a, Restore)]
    assert len(restores) == 1 and restores[0].reason is Reason.BACKCHANNEL
    assert restores[0].phrase, "the backchannel's words are reported for the transcript"
    # the whole reply reached the speaker, nothing skipped
    assert r.player.played_ms("reply") == REPLY_S * 1000
    assert not r.player.is_playing and r.player.gain == 1.0


@pytest.mark.parametrize("meta", INTERRUPTS, ids=[str(m["file"]) for m in INTERRUPTS])
def test_interruption_stops_the_reply_and_reports_what_was_heard(
    meta: dict[str, object], snippet_transcriber: SnippetTranscriber
) -> None:
    r, t_speech = talk_over(meta, snippet_transcriber)
    stops = [a for a in r.actions if isinstance(a, Interrupt)]
    assert len(stops) == 1
    stop = stops[0]
    assert stop.item_id == "reply"
    assert stop.reason in (Reason.WORDS, Reason.TOO_LONG)
    hold = next(a for a in r.actions if isinstance(a, Hold))
    assert hold.t_ns - t_speech <= 200 * MS  # silent well inside the 300 ms deadline
    # what was heard: the 2.5 s alone plus the ducked part up to the hold, never more
    assert 2500 <= stop.played_ms <= 2500 + (hold.t_ns - t_speech) // MS + 700
    assert r.player.played_ms("reply") == stop.played_ms
    out = np.concatenate(r.out)
    after = out[(stop.t_ns - 1_000_000_000) // MS * RATE // 1000 + 160 :]
    assert not after.any(), "nothing plays after the interruption"
