"""Truthful under load: the status says when the audio struggles, and stops saying it after."""

from __future__ import annotations

from app.model import NoticeChanged
from audio.errors import AudioDeviceError
from audio.events import AudioHealthChanged
from tests.app.test_core import Driver

BUSY = "audio is struggling: sound dropped out (the computer is busy) (3 dropouts)"


def notices(out: list[object]) -> list[str]:
    return [e.message for e in out if isinstance(e, NoticeChanged)]


def test_struggling_audio_shows_on_the_status_line_until_it_recovers() -> None:
    d = Driver()
    d.connect()
    assert notices(d.feed(AudioHealthChanged(True, BUSY))) == [BUSY]
    assert d.core.notice == BUSY
    assert notices(d.feed(AudioHealthChanged(False, ""))) == [""]


def test_recovery_does_not_hide_another_notice() -> None:
    d = Driver()
    d.connect()
    d.feed(AudioHealthChanged(True, BUSY))
    lost = AudioDeviceError("audio device lost (no audio from the device): pick another")
    d.feed(lost)
    assert not notices(d.feed(AudioHealthChanged(False, "")))
    assert d.core.notice == lost.message
