"""Talk modes as a pure state machine (no clock: times come in as arguments).

``TalkGate`` decides whether microphone audio goes out and turns key presses and VAD decisions
into ``VoiceStarted``/``VoiceStopped`` events:

* hands-free: VAD start/stop become the events; audio flows always (or only while talking when
  ``send_only_speech``);
* push-to-talk: ``press`` starts, ``release`` stops; VAD is ignored;
* toggle: each ``press`` (or ``toggle``) flips; ``release`` is ignored;
* mute: nothing flows, no events.

Changing mode while talking ends the turn (``VoiceStopped``). Engine thread only.
"""

from __future__ import annotations

from audio.config import TalkMode
from audio.events import VoiceStarted, VoiceStopped

GateEvent = VoiceStarted | VoiceStopped


class TalkGate:
    def __init__(
        self, mode: TalkMode = TalkMode.HANDS_FREE, send_only_speech: bool = False
    ) -> None:
        self.mode = mode
        self.send_only_speech = send_only_speech
        self.talking = False

    @property
    def mic_open(self) -> bool:
        """Whether microphone audio should be emitted right now."""
        if self.mode is TalkMode.MUTE:
            return False
        if self.mode is TalkMode.HANDS_FREE and not self.send_only_speech:
            return True
        return self.talking

    def _start(self, t_ns: int, sample: int) -> list[GateEvent]:
        if self.talking:
            return []
        self.talking = True
        return [VoiceStarted(t_ns, sample)]

    def _stop(self, t_ns: int, sample: int) -> list[GateEvent]:
        if not self.talking:
            return []
        self.talking = False
        return [VoiceStopped(t_ns, sample)]

    def set_mode(self, mode: TalkMode, t_ns: int, sample: int = -1) -> list[GateEvent]:
        events = self._stop(t_ns, sample) if mode is not self.mode else []
        self.mode = mode
        return events

    def press(self, t_ns: int, sample: int = -1) -> list[GateEvent]:
        """Talk key down (push-to-talk starts; toggle flips)."""
        if self.mode is TalkMode.PUSH_TO_TALK:
            return self._start(t_ns, sample)
        if self.mode is TalkMode.TOGGLE:
            return self._stop(t_ns, sample) if self.talking else self._start(t_ns, sample)
        return []

    def release(self, t_ns: int, sample: int = -1) -> list[GateEvent]:
        """Talk key up (push-to-talk stops)."""
        if self.mode is TalkMode.PUSH_TO_TALK:
            return self._stop(t_ns, sample)
        return []

    def vad_start(self, t_ns: int, sample: int = -1) -> list[GateEvent]:
        return self._start(t_ns, sample) if self.mode is TalkMode.HANDS_FREE else []

    def vad_stop(self, t_ns: int, sample: int = -1) -> list[GateEvent]:
        return self._stop(t_ns, sample) if self.mode is TalkMode.HANDS_FREE else []
