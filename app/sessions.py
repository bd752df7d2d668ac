"""Recorded sessions for a browser UI (a Qt-free facade over ``realtime.recording``).

- ``list_sessions(folder)`` — one ``SessionSummary`` per ``*.voicecam`` file, newest first
  (unreadable files too, with ``error`` set);
- ``delete_session(path)``;
- ``load_replay(path)`` — everything a replay view needs, decoded: the audio mix (user's
  microphone + the reply as it was played), the frames sent to the model, the turns.

All of them open files: call them from a worker thread. Errors are ``SessionFileError`` with a
message a person can act on (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from realtime.recording.batch_writer import default_sessions_dir
from realtime.recording.errors import SessionFileError
from realtime.recording.listing import SessionSummary, list_sessions

__all__ = [
    "REPLAY_RATE_HZ",
    "ReplayData",
    "ReplayTurn",
    "SessionFileError",
    "SessionSummary",
    "default_sessions_dir",
    "delete_session",
    "list_sessions",
    "load_replay",
]

#: The replay mix's sample rate (Hz): the providers' output rate.
REPLAY_RATE_HZ = 24000


@dataclass(frozen=True)
class ReplayTurn:
    """One transcript turn of a recording; times in ms from the session start."""

    role: str
    text: str
    start_ms: float
    end_ms: float


@dataclass(frozen=True, eq=False)
class ReplayData:
    """A decoded session, ready to replay (immutable; safe to hand between threads)."""

    path: Path
    title: str
    duration_ms: float
    #: int16 mono mix at ``REPLAY_RATE_HZ``.
    audio: npt.NDArray[np.int16]
    #: When each sent frame went to the model (ms from the start), ascending.
    frame_times: tuple[float, ...]
    #: The sent frames, JPEG.
    frames: tuple[bytes, ...]
    turns: tuple[ReplayTurn, ...]


def delete_session(path: str | Path) -> None:
    """Delete a session file and its entries in the folder's search index (worker thread).
    Raises ``SessionFileError``."""
    from app.session_search import session_index
    from realtime.recording.listing import delete_session as delete_file

    p = Path(path)
    try:
        index = session_index(p.parent)
    except SessionFileError:
        index = None  # the next sync drops its entries
    delete_file(p, index)


def load_replay(path: str | Path) -> ReplayData:
    """Read and decode a session file (worker thread). Raises ``SessionFileError``."""
    from realtime.recording.reader import SessionFile

    with SessionFile(Path(path)) as sf:
        md = sf.metadata
        mic = sf.mic_track(REPLAY_RATE_HZ).samples.astype(np.int32)
        out = sf.playback_track(REPLAY_RATE_HZ).samples.astype(np.int32)
        n = max(len(mic), len(out))
        mix = np.zeros(n, dtype=np.int32)
        mix[: len(mic)] += mic
        mix[: len(out)] += out
        audio = np.clip(mix, -32768, 32767).astype(np.int16)
        sent = list(sf.frames(sent=True)) or list(sf.frames())
        turns = tuple(
            ReplayTurn(t.role, t.text, float(t.start_ms), float(t.end_ms)) for t in sf.turns()
        )
        duration = max(sf.duration_ms, len(audio) / REPLAY_RATE_HZ * 1000.0)
        started = md.started_at.strftime("%Y-%m-%d %H:%M") if md.started_at else ""
        title = " · ".join(x for x in (started, md.backend, md.model) if x)
        return ReplayData(
            Path(path),
            title,
            duration,
            audio,
            tuple(f.t_ms for f in sent),
            tuple(f.jpeg for f in sent),
            turns,
        )
