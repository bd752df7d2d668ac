"""PlayedAudio releases exactly the reply audio the player reports as played."""

from __future__ import annotations

from app.played_audio import PlayedAudio

RATE = 24000
MS = RATE * 2 // 1000  # bytes per ms


class Player:
    def __init__(self) -> None:
        self.played: dict[str, int] = {}
        self.first: dict[str, int] = {}

    def played_ms(self, item_id: str) -> int:
        return self.played.get(item_id, 0)

    def first_audible_ns(self, item_id: str) -> int | None:
        return self.first.get(item_id)


def _audio(ms: int, value: int) -> bytes:
    return bytes([value, 0]) * (ms * MS // 2)


def test_slices_follow_the_played_position_and_are_timed_from_the_first_sample():
    tracker, player = PlayedAudio(), Player()
    tracker.received("a", _audio(300, 1) + _audio(300, 2), RATE)
    assert tracker.take(player) == []  # nothing audible yet
    player.first["a"] = 5_000_000_000
    player.played["a"] = 200
    [s1] = tracker.take(player)
    assert (s1.position_ms, len(s1.pcm16), s1.t_ns) == (0, 200 * MS, 5_000_000_000)
    player.played["a"] = 450
    [s2] = tracker.take(player)
    assert (s2.position_ms, len(s2.pcm16), s2.t_ns) == (200, 250 * MS, 5_200_000_000)
    assert s2.pcm16[:2] == b"\x01\x00" and s2.pcm16[-2:] == b"\x02\x00"
    assert tracker.take(player) == []


def test_a_cut_reply_ends_where_playback_stopped():
    tracker, player = PlayedAudio(), Player()
    tracker.received("a", _audio(1000, 1), RATE)
    player.first["a"], player.played["a"] = 0, 120
    tracker.take(player)
    player.played["a"] = 340
    tracker.cut("a")
    tracker.received("a", _audio(500, 1), RATE)  # late audio of a cut reply is never played
    [last] = tracker.take(player)
    assert last.position_ms + len(last.pcm16) // MS == 340
    player.played["a"] = 900  # even if a stale position came later
    assert tracker.take(player) == []


def test_a_complete_reply_is_released_whole_then_forgotten():
    tracker, player = PlayedAudio(), Player()
    tracker.received("a", _audio(400, 3), RATE)
    tracker.complete("a")
    player.first["a"], player.played["a"] = 0, 400
    [whole] = tracker.take(player)
    assert len(whole.pcm16) == 400 * MS
    tracker.received("b", _audio(100, 4), RATE)
    player.first["b"], player.played["b"] = 10, 100
    assert [s.item_id for s in tracker.take(player)] == ["b"]


def test_played_position_never_exceeds_what_was_received():
    tracker, player = PlayedAudio(), Player()
    tracker.received("a", _audio(100, 1), RATE)
    player.first["a"], player.played["a"] = 0, 10_000
    [s] = tracker.take(player)
    assert len(s.pcm16) == 100 * MS
