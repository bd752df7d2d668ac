"""The records a session file holds, as ``SessionFile`` returns them (frozen dataclasses),
and the value checks the reader applies to every column it reads.

Times are ``*_ms`` floats: the offset from the start of recording. Audio is PCM16 mono.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from realtime.events import Usage

Int16Array = npt.NDArray[np.int16]


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class SessionMetadata:
    schema_version: int
    backend: str
    model: str
    voice: str
    app_version: str
    started_at: dt.datetime | None
    start_mono_ns: int
    #: None when the recording did not finish cleanly (crash, still recording).
    end_mono_ns: int | None
    #: Every metadata key as stored (JSON values).
    values: Mapping[str, object] = field(default_factory=dict)

    def get_int(self, key: str) -> int | None:
        v = self.values.get(key)
        return v if isinstance(v, int) and not isinstance(v, bool) else None


@dataclass(frozen=True)
class WireRecord:
    t_ms: float
    direction: Literal["in", "out"]
    payload: str | bytes


@dataclass(frozen=True)
class MicChunk:
    t_ms: float
    rate_hz: int
    raw: bool
    pcm: bytes

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) / 2 / self.rate_hz * 1000.0


@dataclass(frozen=True)
class PlaybackChunk:
    t_ms: float
    item_id: str
    rate_hz: int
    position_ms: int
    pcm: bytes

    @property
    def duration_ms(self) -> float:
        return len(self.pcm) / 2 / self.rate_hz * 1000.0


@dataclass(frozen=True)
class FrameRecord:
    t_ms: float
    sent: bool
    reason: str
    jpeg: bytes


@dataclass(frozen=True)
class Turn:
    """One transcript turn. ``start_ms``/``end_ms`` span the speech (user) or the reply as
    played (assistant, from the playback track when recorded)."""

    index: int
    role: Literal["user", "assistant"]
    text: str
    item_id: str
    t_ms: float
    start_ms: float
    end_ms: float
    source: str
    status: str


@dataclass(frozen=True)
class LatencyRecord:
    t_ms: float
    item_id: str
    metric: str
    value_ms: float


@dataclass(frozen=True)
class UsageRecord:
    t_ms: float
    response_id: str
    usage: Usage
    cost_usd: float | None


@dataclass(frozen=True)
class MarkRecord:
    t_ms: float
    kind: str
    detail: str


@dataclass(frozen=True)
class AudioTrack:
    """A mono PCM16 track starting at session offset 0 (silence where nothing was recorded)."""

    samples: Int16Array
    rate_hz: int

    @property
    def duration_ms(self) -> float:
        return len(self.samples) / self.rate_hz * 1000.0


TimelineKind = Literal["wire", "mic", "playback", "frame", "turn", "latency", "usage", "mark"]
TimelineRecord = (
    WireRecord
    | MicChunk
    | PlaybackChunk
    | FrameRecord
    | Turn
    | LatencyRecord
    | UsageRecord
    | MarkRecord
)


@dataclass(frozen=True)
class TimelineEntry:
    t_ms: float
    kind: TimelineKind
    record: TimelineRecord


# --------------------------------------------------------------------------- value checks


def _int(v: object, what: str) -> int:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    raise ValueError(f"{what} is not an integer")


def _str(v: object, what: str) -> str:
    if isinstance(v, str):
        return v
    raise ValueError(f"{what} is not text")


def _blob(v: object, what: str) -> bytes:
    if isinstance(v, bytes):
        return v
    raise ValueError(f"{what} is not binary data")


def _rate(v: object) -> int:
    r = _int(v, "sample rate")
    if not 1000 <= r <= 384_000:
        raise ValueError(f"sample rate {r} Hz is implausible")
    return r


def _pcm(v: object) -> bytes:
    b = _blob(v, "audio")
    if len(b) % 2:
        raise ValueError("audio has an odd number of bytes")
    return b
