"""The talk control per mode, without Qt: which assistant commands a press/release sends."""

from __future__ import annotations

from typing import Any

from app.gui.talk_control import TalkControl
from app.model import Mode, State


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return lambda *args: self.calls.append((name, args))


def control(connected: bool = True, mode: Mode = Mode.HANDS_FREE):  # type: ignore[no-untyped-def]
    rec = Recorder()
    renders: list[None] = []
    state = {"connected": connected}
    talk = TalkControl(
        rec,  # type: ignore[arg-type]
        connected=lambda: state["connected"],
        selection=lambda: ("local", "local", "joe"),
        on_change=lambda: renders.append(None),
        mode=mode,
    )
    return talk, rec, state, renders


def test_press_while_idle_connects_with_the_selection() -> None:
    talk, rec, _state, _ = control(connected=False)
    talk.press()
    talk.release()
    assert rec.calls == [("connect", ("local", "local", "joe"))]


def test_hands_free_click_disconnects() -> None:
    talk, rec, _state, _ = control()
    talk.press()
    talk.release()
    assert rec.calls == [("disconnect", ())]


def test_push_to_talk_holds_and_renders() -> None:
    talk, rec, _state, renders = control(mode=Mode.PUSH_TO_TALK)
    talk.press()
    assert talk.talking and rec.calls == [("talk_start", ())]
    talk.release()
    assert not talk.talking and rec.calls[-1] == ("talk_end", ())
    assert len(renders) == 2


def test_toggle_flips_and_the_reply_ends_talking() -> None:
    talk, rec, _state, _ = control(mode=Mode.TOGGLE)
    talk.press()
    talk.release()
    assert talk.talking and rec.calls == [("talk_start", ())]
    talk.on_state(State.THINKING, active=True)
    assert not talk.talking


def test_mute_remembers_the_mode_and_a_click_unmutes() -> None:
    talk, rec, _state, _ = control(mode=Mode.TOGGLE)
    talk.toggle_mute()
    assert talk.mode == Mode.MUTE and talk.mode_before_mute == Mode.TOGGLE
    talk.press()
    talk.release()
    assert talk.mode == Mode.TOGGLE
    assert rec.calls == [("set_mode", (Mode.MUTE,)), ("set_mode", (Mode.TOGGLE,))]


def test_changing_mode_while_talking_ends_the_turn() -> None:
    talk, rec, _state, _ = control(mode=Mode.PUSH_TO_TALK)
    talk.press()
    talk.set_mode(Mode.HANDS_FREE)
    assert not talk.talking
    assert rec.calls == [("talk_start", ()), ("talk_end", ()), ("set_mode", (Mode.HANDS_FREE,))]


def test_conversation_ending_stops_talking_and_a_dropped_press_does_nothing() -> None:
    talk, rec, state, _ = control(mode=Mode.PUSH_TO_TALK)
    talk.press()
    state["connected"] = False
    talk.on_state(State.IDLE, active=False)
    assert not talk.talking
    talk.release()  # the conversation ended while held: no talk_end to a dead session
    assert rec.calls == [("talk_start", ())]
