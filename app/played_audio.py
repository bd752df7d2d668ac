"""Reply audio as actually played, for the session recording.

The player knows how much of each reply item reached the device (``played_ms``, underruns not
counted) and when its first sample was audible (``first_audible_ns``); the conversation knows the
audio it received. ``PlayedAudio`` joins the two: each ``take()`` returns the slices played since
the last call, with their position in the item and the time they were heard, so a recording
holds exactly what the user heard — an interrupted reply ends where playback stopped.

Engine thread only (the same thread that calls the audio engine's playback methods).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol


class PlaybackPosition(Protocol):
    def played_ms(self, item_id: str) -> int: ...
    def first_audible_ns(self, item_id: str) -> int | None: ...


@dataclass(frozen=True)
class PlayedSlice:
    item_id: str
    pcm16: bytes
    rate_hz: int
    position_ms: int  # where in the item this slice starts
    t_ns: int  # when its first sample was audible (monotonic ns)


@dataclass
class _Item:
    rate_hz: int
    pcm: bytearray = field(default_factory=bytearray)
    taken_bytes: int = 0
    complete: bool = False  # all of its audio has arrived
    cut: bool = False  # playback of it stopped for good (barge-in)


class PlayedAudio:
    """Received reply audio per item, released as it is played. Keeps at most ``max_items``."""

    def __init__(self, max_items: int = 4) -> None:
        self._items: OrderedDict[str, _Item] = OrderedDict()
        self._max_items = max_items

    def received(self, item_id: str, pcm16: bytes, rate_hz: int) -> None:
        item = self._items.get(item_id)
        if item is None:
            item = self._items[item_id] = _Item(rate_hz)
            while len(self._items) > self._max_items:
                self._items.popitem(last=False)
        if not item.cut:
            item.pcm += pcm16

    def complete(self, item_id: str) -> None:
        """All audio of ``item_id`` has arrived; it is forgotten once all of it was played."""
        if item_id in self._items:
            self._items[item_id].complete = True

    def cut(self, item_id: str) -> None:
        """Playback of ``item_id`` stopped for good; the next ``take()`` releases what was
        played of it and forgets the rest."""
        if item_id in self._items:
            self._items[item_id].cut = True

    def take(self, player: PlaybackPosition) -> list[PlayedSlice]:
        """The audio played since the last call, oldest item first."""
        out: list[PlayedSlice] = []
        for item_id, item in list(self._items.items()):
            first = player.first_audible_ns(item_id)
            bytes_per_ms = item.rate_hz * 2 / 1000
            if first is not None:
                played = int(player.played_ms(item_id) * bytes_per_ms) // 2 * 2
                played = min(len(item.pcm), played)
                if played > item.taken_bytes:
                    position_ms = round(item.taken_bytes / bytes_per_ms)
                    chunk = bytes(item.pcm[item.taken_bytes : played])
                    t_ns = first + position_ms * 1_000_000
                    out.append(PlayedSlice(item_id, chunk, item.rate_hz, position_ms, t_ns))
                    item.taken_bytes = played
            if item.cut or (item.complete and item.taken_bytes >= len(item.pcm)):
                del self._items[item_id]
        return out
