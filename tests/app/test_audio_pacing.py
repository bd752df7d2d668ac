"""Issue 16 item 4: the conversation drains an audio port that says how often it needs it
(``app.ports.PacedAudio``: the engine asks for 20 ms while only listening) at that cadence,
and every tick otherwise. Ticks are counted through ``meters()``, which the pump reads every
5 ticks, so nothing here depends on how fast the machine is."""

from __future__ import annotations

import threading
import time
from typing import Any

from app.assistant import Assistant
from app.modes import ConversationOptions, Mode
from app.ports import PacedAudio
from app.state import ConversationState as S
from tests.app.fakes import FakeAudio, FakeSpec

T = 20.0


class PacedFakeAudio(FakeAudio):
    """Counts ``process()`` and ``meters()`` calls; the test sets the period it asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.period_ms = 10
        self.processed = 0
        self.metered = 0
        self._lock = threading.Lock()

    @property
    def process_period_ms(self) -> int:
        return self.period_ms

    def process(self) -> list[Any]:
        with self._lock:
            self.processed += 1
        return super().process()

    def meters(self) -> Any:
        with self._lock:
            self.metered += 1
        return super().meters()

    def counts(self) -> tuple[int, int]:
        with self._lock:
            return self.processed, self.metered


def wait_ticks(audio: PacedFakeAudio, meter_reads: int) -> tuple[int, int]:
    """Wait until the pump has read the meters ``meter_reads`` more times (5 ticks each)."""
    p0, m0 = audio.counts()
    deadline = time.monotonic() + T
    while audio.counts()[1] < m0 + meter_reads and time.monotonic() < deadline:
        time.sleep(0.01)
    p1, m1 = audio.counts()
    assert m1 >= m0 + meter_reads, "the audio pump stalled"
    return p1 - p0, (m1 - m0) * 5


def test_a_paced_port_is_drained_at_its_period_and_a_plain_one_every_tick() -> None:
    audio = PacedFakeAudio()
    assert isinstance(audio, PacedAudio)
    a = Assistant(FakeSpec(name="openai"), audio, None, ConversationOptions(mode=Mode.HANDS_FREE))
    try:
        a.start()
        assert a.wait_for(lambda s: s.state == S.LISTENING, T) is not None
        processed, ticks = wait_ticks(audio, 4)
        assert processed >= ticks - 5, "10 ms period: drained on (nearly) every tick"
        audio.period_ms = 60_000  # far longer than the test: at most the one already due
        wait_ticks(audio, 1)
        processed, ticks = wait_ticks(audio, 6)
        assert ticks >= 30 and processed == 0
        audio.period_ms = 10
        wait_ticks(audio, 1)
        processed, ticks = wait_ticks(audio, 4)
        assert processed >= ticks - 5
    finally:
        a.close()
