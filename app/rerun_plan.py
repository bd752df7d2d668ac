"""What ``voicecam rerun`` sends: the user side of a recorded session, planned in time order.

``plan_inputs`` reads a ``SessionFile`` (mic audio, the frames that were sent, the user's turns)
and returns ``Input`` values with their time into the session; with ``original`` turns each
recorded voice turn becomes a talk press shortly before it started and a release where it ended.
Pure (reads the file, no I/O of its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from realtime.recording.reader import SessionFile

TurnsMode = Literal["original", "server"]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Input:
    """One thing to send, ``t_ms`` into the session."""

    t_ms: float
    kind: Literal["audio", "frame", "text", "start", "end"]
    pcm: bytes = b""
    rate_hz: int = 0
    jpeg: bytes = b""
    text: str = ""
    reason: str = ""


def plan_inputs(sf: SessionFile, turns: TurnsMode) -> list[Input]:
    """Everything the user side sent, in time order (stable: audio before a turn end at the same
    instant, so the end includes it)."""
    order = {"start": 0, "audio": 1, "frame": 2, "text": 3, "end": 4}
    items: list[Input] = []
    items += [Input(c.t_ms, "audio", pcm=c.pcm, rate_hz=c.rate_hz) for c in sf.mic_chunks()]
    items += [Input(f.t_ms, "frame", jpeg=f.jpeg, reason=f.reason) for f in sf.frames(sent=True)]
    prev_end = 0.0
    for t in sf.turns():
        if t.role != "user":
            continue
        if t.source == "text":
            items.append(Input(t.t_ms, "text", text=t.text))
        elif turns == "original":
            start = max(prev_end, t.start_ms - 300.0)
            items.append(Input(start, "start"))
            items.append(Input(max(t.end_ms, start + 150.0), "end"))
            prev_end = max(t.end_ms, start + 150.0)
    items.sort(key=lambda i: (i.t_ms, order[i.kind]))
    return items


def has_voice_turns(sf: SessionFile) -> bool:
    return any(t.role == "user" and t.source != "text" for t in sf.turns())
