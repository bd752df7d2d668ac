"""``MicHold``: the microphone's events wait while the interruption judge decides.

While a reply plays and ``audio.interruptions.InterruptionMonitor`` is deciding whether the user
is interrupting or only nodding along, nothing of the user's voice may reach the backend: with
server voice detection (OpenAI, Gemini, the offline server) the audio alone would start a turn.
So ``Capture`` passes every batch's events through :meth:`MicHold.filter`:

* while the judge decides, the events are held (nothing is lost);
* an ``Interrupt`` releases them behind a ``BargeIn`` (the reply is already cleared): the real
  interruption's first syllable reaches the backend;
* a ``Restore`` (backchannel, cough, no words) releases them *neutralised*: ``VoiceStarted`` and
  ``VoiceStopped`` dropped, ``MicAudio`` replaced by the same length of silence (the backend's
  audio clock stays continuous; its voice detection hears nothing), plus a ``Backchannel`` event
  for a backchannel. Neutralising goes on until the voice detector's ``VoiceStopped`` of that voice.

Chosen over cancelling the server's turn afterwards: a cancelled server turn has already
committed the user's audio into the conversation (OpenAI) or interrupted the reply (Gemini), and
the offline server would already have answered it. Engine thread only; pure (no clock, no I/O).
"""

from __future__ import annotations

from audio.events import AudioEvent, Backchannel, BargeIn, MicAudio, VoiceStarted, VoiceStopped
from audio.interruption_judge import Interrupt, JudgeAction, Reason, Restore

__all__ = ["MicHold"]


class MicHold:
    """Held events of one undecided voice over a reply (see the module docstring)."""

    def __init__(self) -> None:
        self._held: list[AudioEvent] = []
        #: after a restore: neutralise until the voice detector ends that voice
        self.swallowing = False
        self.released = 0
        self.neutralised = 0

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def reset(self) -> None:
        """A new stream: drop the hold (its audio belonged to the old stream)."""
        self._held.clear()
        self.swallowing = False

    def filter(
        self,
        events: list[AudioEvent],
        actions: list[JudgeAction],
        deciding: bool,
        now_ns: int,
    ) -> list[AudioEvent]:
        """This batch's events, after the judge's ``actions`` of the same batch.

        ``deciding``: the judge still decides after this batch."""
        out: list[AudioEvent] = []
        for a in actions:
            if isinstance(a, Interrupt):
                out.append(BargeIn(now_ns, a.item_id, a.played_ms))
                out.extend(self._held)
                self.released += len(self._held)
                self._held.clear()
                self.swallowing = False
            elif isinstance(a, Restore) and (self._held or a.reason is Reason.BACKCHANNEL):
                if a.reason is Reason.BACKCHANNEL:
                    out.append(Backchannel(now_ns, a.text.strip() or a.phrase))
                held, self._held = self._held, []
                self.swallowing = any(isinstance(e, VoiceStarted) for e in held) and not any(
                    isinstance(e, VoiceStopped) for e in held
                )
                out.extend(self._neutralise(held))
        if deciding:
            self._held.extend(events)
            return out
        if self._held:  # the judge was reset (reply cleared elsewhere): nothing to hide
            out.extend(self._held)
            self._held.clear()
        if self.swallowing:
            if any(isinstance(e, VoiceStopped) for e in events):
                self.swallowing = False
            return out + self._neutralise(events)
        return out + events

    def _neutralise(self, events: list[AudioEvent]) -> list[AudioEvent]:
        out: list[AudioEvent] = []
        for e in events:
            if isinstance(e, VoiceStarted | VoiceStopped):
                self.neutralised += 1
                continue
            if isinstance(e, MicAudio):
                e = MicAudio(
                    bytes(len(e.pcm16_16k)), bytes(len(e.pcm16_send)), e.send_rate_hz, e.t_ns
                )
            out.append(e)
        return out
