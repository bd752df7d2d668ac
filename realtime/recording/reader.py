"""``SessionFile``: read a session file back (replay, export, re-run, the sessions browser).

Everything a file contains comes back as frozen dataclasses; times are ``*_ms`` floats, the
offset from the start of recording. Any problem with the file (missing, not a session, corrupt,
truncated, values of the wrong type, made by a newer version) raises ``SessionFileError`` with
a sentence naming the file — never ``sqlite3`` errors or tracebacks from bad data.

Not thread-safe: use one ``SessionFile`` per thread. A file still being recorded can be read
(WAL mode); it shows what was committed when each query ran.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Literal

from realtime.core import ProtocolCore
from realtime.events import Event, SessionConfig, Usage
from realtime.recording import schema
from realtime.recording._db import MAX_SESSION_MS, SessionDb
from realtime.recording.errors import SessionFileError
from realtime.recording.records import (
    AudioTrack,
    FrameRecord,
    LatencyRecord,
    MarkRecord,
    MicChunk,
    PlaybackChunk,
    SessionMetadata,
    TimelineEntry,
    TimelineKind,
    TimelineRecord,
    Turn,
    UsageRecord,
    WireRecord,
    _blob,
    _int,
    _pcm,
    _rate,
    _str,
)
from realtime.recording.tracks import assemble_track, resample

__all__ = [
    "MAX_SESSION_MS",
    "AudioTrack",
    "FrameRecord",
    "LatencyRecord",
    "MarkRecord",
    "MicChunk",
    "PlaybackChunk",
    "SessionFile",
    "SessionFileError",
    "SessionMetadata",
    "TimelineEntry",
    "TimelineKind",
    "TimelineRecord",
    "Turn",
    "UsageRecord",
    "WireRecord",
    "resample",
]

# --------------------------------------------------------------------------- the file


#: A microphone chunk stamped up to this late still follows on from the one before.
MIC_GAP_MS = 200


class SessionFile(SessionDb):
    """An open session file. Use as a context manager or call ``close()``.

    ``check=True`` runs SQLite's quick integrity check on open (catches truncation early);
    listings pass ``False`` for speed (damage still surfaces as ``SessionFileError``).
    """

    # -- content -----------------------------------------------------------------------------

    @property
    def duration_ms(self) -> float:
        """Length of the session: to the clean end, or to the last record after a crash."""
        md = self.metadata
        last = md.start_mono_ns if md.end_mono_ns is None else max(md.start_mono_ns, md.end_mono_ns)
        for table in ("wire", "frames", "turns", "latency", "usage", "marks"):
            v = self._q(f"SELECT MAX(t_ns) FROM {table}")[0][0]
            if isinstance(v, int):
                last = max(last, v)
        for table in ("mic", "playback"):
            v = self._q(
                f"SELECT MAX(t_ns + (length(pcm) / 2) * 1000000000 / rate_hz) FROM {table} "
                "WHERE rate_hz > 0"
            )[0][0]
            if isinstance(v, int):
                last = max(last, v)
        try:
            return max(0.0, self._ms(last))
        except ValueError as exc:
            raise self._err(f"damaged record ({exc})") from None

    def wire_messages(self, direction: Literal["in", "out"] | None = None) -> Iterator[WireRecord]:
        def conv(r: tuple[Any, ...]) -> WireRecord:
            d = _str(r[1], "direction")
            if d not in ("in", "out"):
                raise ValueError(f"direction {d!r}")
            p = r[3]
            if r[2]:
                payload: str | bytes = _blob(p, "binary message")
            else:
                payload = p if isinstance(p, str) else _blob(p, "message").decode("utf-8")
            return WireRecord(self._ms(r[0]), "in" if d == "in" else "out", payload)

        where = "" if direction is None else f" WHERE direction = '{direction}'"
        yield from self._rows(
            "SELECT t_ns, direction, is_binary, payload FROM wire" + where + " ORDER BY t_ns, id",
            conv,
            "message",
        )

    def mic_chunks(self, raw: bool = False) -> Iterator[MicChunk]:
        def conv(r: tuple[Any, ...]) -> MicChunk:
            return MicChunk(self._ms(r[0]), _rate(r[1]), bool(_int(r[2], "raw")), _pcm(r[3]))

        yield from self._rows(
            f"SELECT t_ns, rate_hz, raw, pcm FROM mic WHERE raw = {int(raw)} ORDER BY t_ns, id",
            conv,
            "microphone audio",
        )

    def playback_chunks(self) -> Iterator[PlaybackChunk]:
        def conv(r: tuple[Any, ...]) -> PlaybackChunk:
            return PlaybackChunk(
                self._ms(r[0]),
                _str(r[1], "item id"),
                _rate(r[2]),
                _int(r[3], "position"),
                _pcm(r[4]),
            )

        yield from self._rows(
            "SELECT t_ns, item_id, rate_hz, position_ms, pcm FROM playback ORDER BY t_ns, id",
            conv,
            "reply audio",
        )

    def frames(self, sent: bool | None = None) -> Iterator[FrameRecord]:
        def conv(r: tuple[Any, ...]) -> FrameRecord:
            return FrameRecord(
                self._ms(r[0]),
                bool(_int(r[1], "sent")),
                _str(r[2], "reason"),
                _blob(r[3], "jpeg"),
            )

        where = "" if sent is None else f" WHERE sent = {int(sent)}"
        yield from self._rows(
            "SELECT t_ns, sent, reason, jpeg FROM frames" + where + " ORDER BY t_ns, id",
            conv,
            "frame",
        )

    def _play_spans(self) -> dict[str, tuple[float, float]]:
        spans: dict[str, tuple[float, float]] = {}
        for c in self.playback_chunks():
            lo, hi = spans.get(c.item_id, (c.t_ms, c.t_ms))
            spans[c.item_id] = (min(lo, c.t_ms), max(hi, c.t_ms + c.duration_ms))
        return spans

    def turns(self) -> list[Turn]:
        """Transcript turns in speaking order."""
        spans = self._play_spans()

        def conv(r: tuple[Any, ...]) -> Turn:
            role = _str(r[1], "role")
            if role not in ("user", "assistant"):
                raise ValueError(f"role {role!r}")
            t = self._ms(r[0])
            item_id = _str(r[2], "item id")
            end_known = self._ms(r[5]) if r[5] is not None else None
            if r[4] is not None:
                start = self._ms(r[4])
            else:  # no speech start recorded (push-to-talk): from the turn's end if known
                start = t if end_known is None else min(t, end_known)
            end = end_known if end_known is not None else max(t, start)
            if role == "assistant" and item_id in spans:
                start, end = spans[item_id]
            return Turn(
                0,
                "user" if role == "user" else "assistant",
                _str(r[3], "text"),
                item_id,
                t,
                start,
                max(start, end),
                _str(r[6], "source"),
                _str(r[7], "status"),
            )

        turns = list(
            self._rows(
                "SELECT t_ns, role, item_id, text, t_start_ns, t_end_ns, source, status "
                "FROM turns ORDER BY id",
                conv,
                "turn",
            )
        )
        turns.sort(key=lambda t: (t.start_ms, t.t_ms))
        return [
            Turn(i, t.role, t.text, t.item_id, t.t_ms, t.start_ms, t.end_ms, t.source, t.status)
            for i, t in enumerate(turns)
        ]

    def latencies(self) -> list[LatencyRecord]:
        def conv(r: tuple[Any, ...]) -> LatencyRecord:
            v = r[3]
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
                raise ValueError("latency value")
            return LatencyRecord(
                self._ms(r[0]), _str(r[1], "item id"), _str(r[2], "metric"), float(v)
            )

        return list(
            self._rows(
                "SELECT t_ns, item_id, metric, value_ms FROM latency ORDER BY t_ns, id",
                conv,
                "latency",
            )
        )

    def usage(self) -> list[UsageRecord]:
        cols = ", ".join(schema.USAGE_FIELDS)

        def conv(r: tuple[Any, ...]) -> UsageRecord:
            counts = [_int(v, "token count") for v in r[2 : 2 + len(schema.USAGE_FIELDS)]]
            cost = r[-1]
            if cost is not None and (
                not isinstance(cost, int | float)
                or isinstance(cost, bool)
                or not math.isfinite(cost)
            ):
                raise ValueError("cost")
            return UsageRecord(
                self._ms(r[0]),
                _str(r[1], "response id"),
                Usage(*counts),
                None if cost is None else float(cost),
            )

        return list(
            self._rows(
                f"SELECT t_ns, response_id, {cols}, cost_usd FROM usage ORDER BY t_ns, id",
                conv,
                "usage",
            )
        )

    def marks(self) -> list[MarkRecord]:
        def conv(r: tuple[Any, ...]) -> MarkRecord:
            return MarkRecord(self._ms(r[0]), _str(r[1], "kind"), _str(r[2], "detail"))

        return list(
            self._rows("SELECT t_ns, kind, detail FROM marks ORDER BY t_ns, id", conv, "mark")
        )

    @property
    def total_cost_usd(self) -> float | None:
        """Sum of the known per-response costs; ``None`` if none is known."""
        costs = [u.cost_usd for u in self.usage() if u.cost_usd is not None]
        return sum(costs) if costs else None

    def first_question(self) -> str:
        for t in self.turns():
            if t.role == "user" and t.text.strip():
                return t.text.strip()
        return ""

    def table_counts(self) -> dict[str, int]:
        return {t: int(self._q(f"SELECT count(*) FROM {t}")[0][0]) for t in schema.TABLES}

    # -- audio -------------------------------------------------------------------------------

    def mic_track(self, rate_hz: int | None = None, raw: bool = False) -> AudioTrack:
        """The microphone as one track from offset 0 (each chunk placed at its timestamp).

        Capture is continuous, so a chunk up to ``MIC_GAP_MS`` late follows on from the one
        before (a busy engine thread stamps late, then catches up); a longer gap is a real break
        in capture (mute, device lost) and is kept."""
        chunks = ((c.t_ms, c.rate_hz, c.pcm) for c in self.mic_chunks(raw))
        return self._track(chunks, rate_hz, gap_ms=MIC_GAP_MS)

    def playback_track(self, rate_hz: int | None = None) -> AudioTrack:
        """The reply audio as the user heard it, from offset 0 (gaps over 30 ms are kept: pauses
        between replies and underruns are real)."""
        chunks = ((c.t_ms, c.rate_hz, c.pcm) for c in self.playback_chunks())
        return self._track(chunks, rate_hz, gap_ms=30)

    def _track(
        self, chunks: Iterator[tuple[float, int, bytes]], rate_hz: int | None, gap_ms: int
    ) -> AudioTrack:
        try:
            return assemble_track(chunks, rate_hz, gap_ms)
        except ValueError as exc:
            raise self._err(f"damaged audio timestamps ({exc})") from None

    # -- timeline and replay -----------------------------------------------------------------

    def timeline(self, *, include_wire: bool = False) -> list[TimelineEntry]:
        """Everything in time order (turns at their start). Audio chunks included; wire messages
        only if asked (they are many)."""
        entries: list[TimelineEntry] = []
        entries += [TimelineEntry(c.t_ms, "mic", c) for c in self.mic_chunks()]
        entries += [TimelineEntry(c.t_ms, "playback", c) for c in self.playback_chunks()]
        entries += [TimelineEntry(f.t_ms, "frame", f) for f in self.frames()]
        entries += [TimelineEntry(t.start_ms, "turn", t) for t in self.turns()]
        entries += [TimelineEntry(x.t_ms, "latency", x) for x in self.latencies()]
        entries += [TimelineEntry(u.t_ms, "usage", u) for u in self.usage()]
        entries += [TimelineEntry(m.t_ms, "mark", m) for m in self.marks()]
        if include_wire:
            entries += [TimelineEntry(w.t_ms, "wire", w) for w in self.wire_messages()]
        entries.sort(key=lambda e: e.t_ms)
        return entries

    def session_config(self) -> SessionConfig:
        md = self.metadata
        return SessionConfig(model=md.model, voice=md.voice)

    def default_core(self) -> ProtocolCore:
        """A fresh core for the recorded protocol: Gemini Live for ``backend == "gemini"``
        (or ``provider`` metadata ``"gemini"``), else OpenAI Realtime (OpenAI, the offline
        server and ws:// servers speak it)."""
        provider = self.metadata.values.get("provider", self.metadata.backend)
        if provider == "gemini":
            from realtime.gemini import GeminiCore

            return GeminiCore()
        from realtime.openai import OpenAICore

        return OpenAICore()

    def replay_events(self, core: ProtocolCore | None = None) -> list[tuple[float, Event]]:
        """Feed the received wire messages, in order, through ``core`` (a fresh one; default
        ``default_core()``) and return the events it produces with the time each message
        arrived."""
        if core is None:
            core = self.default_core()
        core.start(self.session_config())
        core.messages()
        core.events()
        out: list[tuple[float, Event]] = []
        for w in self.wire_messages("in"):
            core.receive(w.payload)
            out += [(w.t_ms, e) for e in core.events()]
            core.messages()
        return out
