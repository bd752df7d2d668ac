"""Per-turn latency waterfall, measured on the client with ``time.monotonic_ns()``.

Marks of one turn (all monotonic nanoseconds, ``None`` until seen):

1. ``speech_end_ns`` — end of the user's speech (local VAD end, push-to-talk release, server
   ``speech_stopped`` arrival, or the moment a typed message was sent);
2. ``commit_ns`` — the turn closed on the wire (``input_audio_buffer.committed`` received, or our
   own commit/activityEnd sent);
3. ``first_byte_ns`` — the first reply audio (or text) delta received;
4. ``first_audible_ns`` — the first reply sample reached the speaker (the audio engine's device
   timestamp for that item).

``LatencyTracker`` is owned by the engine thread; ``TurnLatency`` values are immutable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class TurnLatency:
    turn: int
    speech_end_ns: int | None = None
    commit_ns: int | None = None
    first_byte_ns: int | None = None
    first_audible_ns: int | None = None
    item_id: str = ""

    @staticmethod
    def _ms(a: int | None, b: int | None) -> float | None:
        if a is None or b is None:
            return None
        return (b - a) / 1e6

    @property
    def to_commit_ms(self) -> float | None:
        return self._ms(self.speech_end_ns, self.commit_ns)

    @property
    def to_first_byte_ms(self) -> float | None:
        start = self.commit_ns if self.commit_ns is not None else self.speech_end_ns
        return self._ms(start, self.first_byte_ns)

    @property
    def to_audible_ms(self) -> float | None:
        return self._ms(self.first_byte_ns, self.first_audible_ns)

    @property
    def total_ms(self) -> float | None:
        """End of user speech → first audible reply sample (or first byte if not yet audible)."""
        end = self.first_audible_ns if self.first_audible_ns is not None else self.first_byte_ns
        return self._ms(self.speech_end_ns, end)

    def describe(self) -> str:
        """One line: ``"820 ms: commit 120 · first byte 450 · audible 250"``."""

        def f(v: float | None) -> str:
            return "–" if v is None else f"{v:.0f}"

        total = self.total_ms
        head = "latency –" if total is None else f"latency {total:.0f} ms"
        return (
            f"{head}: commit {f(self.to_commit_ms)} · first byte {f(self.to_first_byte_ms)}"
            f" · audible {f(self.to_audible_ms)}"
        )


class LatencyTracker:
    """Collects one ``TurnLatency`` per user turn. Marks after the first are ignored."""

    def __init__(self) -> None:
        self._turns: list[TurnLatency] = []
        self._open: TurnLatency | None = None

    def speech_ended(self, t_ns: int, override: bool = True) -> None:
        """Starts a new turn unless the current one has seen no reply yet (then moves its end).

        ``override=False`` (the server's late ``speech_stopped``) keeps an end already marked
        locally for the current turn."""
        if self._open is not None and self._open.first_byte_ns is None:
            if override or self._open.speech_end_ns is None:
                self._open = replace(self._open, speech_end_ns=t_ns, commit_ns=None)
            return
        self._close()
        self._open = TurnLatency(turn=len(self._turns) + 1, speech_end_ns=t_ns)

    def committed(self, t_ns: int) -> None:
        if self._open is not None and self._open.commit_ns is None:
            self._open = replace(self._open, commit_ns=t_ns)

    def first_byte(self, t_ns: int, item_id: str = "") -> None:
        if self._open is not None and self._open.first_byte_ns is None:
            self._open = replace(self._open, first_byte_ns=t_ns, item_id=item_id)

    def audible(self, t_ns: int | None) -> None:
        if t_ns is not None and self._open is not None and self._open.first_audible_ns is None:
            self._open = replace(self._open, first_audible_ns=t_ns)

    @property
    def waiting_for_audible(self) -> str | None:
        """Item id whose first audible sample is still unknown, if any."""
        o = self._open
        if o is not None and o.first_byte_ns is not None and o.first_audible_ns is None:
            return o.item_id or None
        return None

    @property
    def current(self) -> TurnLatency | None:
        return self._open

    def _close(self) -> None:
        if self._open is not None:
            self._turns.append(self._open)
            self._open = None

    def turns(self) -> tuple[TurnLatency, ...]:
        """Finished turns plus the open one (last)."""
        return (*self._turns, *(() if self._open is None else (self._open,)))

    def last_complete(self) -> TurnLatency | None:
        for t in reversed(self.turns()):
            if t.first_byte_ns is not None:
                return t
        return None
