"""``MicHold``: the voice reaches the backend only once the judge calls it an interruption."""

from __future__ import annotations

from audio.events import Backchannel, BargeIn, MicAudio, VoiceStarted, VoiceStopped
from audio.interruption_judge import Interrupt, Reason, Restore
from audio.mic_hold import MicHold

VOICE = b"\x10\x20" * 160


def mic(t: int) -> MicAudio:
    return MicAudio(VOICE, VOICE, 16000, t)


def test_interruption_releases_the_held_voice_after_the_barge_in() -> None:
    h = MicHold()
    held = [VoiceStarted(1, 0), mic(1), mic(2)]
    assert h.filter(held[:2], [], deciding=True, now_ns=1) == []
    assert h.filter(held[2:], [], deciding=True, now_ns=2) == []
    stop = Interrupt(3, 1, Reason.WORDS, "stop", item_id="a1", played_ms=2500)
    out = h.filter([mic(3)], [stop], deciding=False, now_ns=3)
    assert out == [BargeIn(3, "a1", 2500), *held, mic(3)], "nothing of the interruption is lost"


def test_backchannel_is_reported_and_reaches_the_backend_only_as_silence() -> None:
    h = MicHold()
    h.filter([VoiceStarted(1, 0), mic(1)], [], deciding=True, now_ns=1)
    nod = Restore(2, 1, Reason.BACKCHANNEL, 40.0, phrase="mhm", text=" Mhm.")
    out = h.filter([mic(2)], [nod], deciding=False, now_ns=2)
    assert out[0] == Backchannel(2, "Mhm.")
    audio = out[1:]
    assert all(isinstance(e, MicAudio) for e in audio), "no voice start: not a turn"
    assert [len(e.pcm16_16k) for e in audio] == [len(VOICE)] * 2, "the audio clock goes on"
    assert not any(any(e.pcm16_16k) or any(e.pcm16_send) for e in audio), "only silence"
    # the voice detector's end of that voice is swallowed too, then the mic is itself again
    out = h.filter([mic(3), VoiceStopped(3, 10)], [], deciding=False, now_ns=3)
    assert out == [MicAudio(bytes(len(VOICE)), bytes(len(VOICE)), 16000, 3)]
    assert h.filter([VoiceStarted(4, 20), mic(4)], [], deciding=False, now_ns=4) == [
        VoiceStarted(4, 20),
        mic(4),
    ]


def test_a_cough_that_never_started_a_voice_turn_passes_untouched() -> None:
    h = MicHold()
    cough = Restore(1, 0, Reason.TOO_SHORT, 40.0)
    assert h.filter([mic(1)], [cough], deciding=False, now_ns=1) == [mic(1)]


def test_a_judge_reset_elsewhere_releases_what_it_held() -> None:
    h = MicHold()
    h.filter([mic(1)], [], deciding=True, now_ns=1)
    assert h.filter([mic(2)], [], deciding=False, now_ns=2) == [mic(1), mic(2)]
