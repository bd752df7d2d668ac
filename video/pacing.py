"""Which frames go to the model, and why — a pure decision class.

:class:`Pacer` has no clock, thread or I/O: every call carries the current time (monotonic ns)
and the caller (``video.feed.VideoFeed``, or a test with a simulated clock) feeds it speech events
and offers it the newest frame. Each :meth:`Pacer.offer` returns a :class:`Decision` with a
:class:`Reason` — sent or not — so the GUI can say why a frame did or didn't go out.

Policies (:class:`Policy`):

- ``on-speech`` (default): a fresh frame as soon as the user starts speaking (Gemini 2.5 only
  covers activity by default: video sent during silence may be ignored), then one every
  ``speech_interval_s`` while they speak; nothing during silence.
- ``continuous``: a frame every ``continuous_interval_s`` (never more than 1 fps).
- ``on-change``: a frame when the perceptual hash moved by ``change_threshold`` bits or more since
  the last frame sent, and at least every ``change_max_interval_s`` even if nothing changed.
- ``snapshot``: nothing until the user asks ("look at this"); then one high-detail frame with the
  next question.
- ``change-or-request``: for models that bill every frame of a turn again on every later turn
  (the cloud providers): while the user speaks, a frame only when the picture changed by
  ``change_threshold`` bits or more since the last frame sent (the first one always counts as a
  change), at most one per ``speech_interval_s``; no heartbeat and nothing during silence; and
  any time on request ("look at this"). An unchanged view says ``unchanged`` — the model still
  has it.

Rules for every policy: at most one frame per ``min_interval_s`` (≥ 1 s; a snapshot is exempt),
never a frame older than ``max_frame_age_s``, never the same frame twice, and at most
``budget_per_minute`` frames in any 60 s window (snapshots included — the budget is a hard cost
cap). A snapshot request (:meth:`Pacer.request_snapshot`) works under every policy: the next frame
offered while the user speaks (or at the next speech start) goes out as a snapshot.
"""

from __future__ import annotations

import collections
import enum
from dataclasses import dataclass

__all__ = ["Decision", "Pacer", "PacerConfig", "Policy", "Reason"]

_NS = 1_000_000_000
_MINUTE_NS = 60 * _NS


class Policy(enum.StrEnum):
    ON_SPEECH = "on-speech"
    CONTINUOUS = "continuous"
    ON_CHANGE = "on-change"
    SNAPSHOT = "snapshot"
    CHANGE_OR_REQUEST = "change-or-request"

    @property
    def needs_fingerprint(self) -> bool:
        """Offers must carry a perceptual hash (``video.perceptual.dhash``)."""
        return self in (Policy.ON_CHANGE, Policy.CHANGE_OR_REQUEST)


class Reason(enum.StrEnum):
    # sent
    SPEECH_START = "speech-start"
    WHILE_SPEAKING = "while-speaking"
    INTERVAL = "interval"
    CHANGED = "changed"
    HEARTBEAT = "heartbeat"
    SNAPSHOT = "snapshot"
    # not sent
    SILENT = "silent"
    TOO_SOON = "too-soon"
    UNCHANGED = "unchanged"
    BUDGET = "budget"
    STALE = "stale"
    ALREADY_SENT = "already-sent"
    WAITING_FOR_QUESTION = "waiting-for-question"
    NOT_REQUESTED = "not-requested"
    NO_FRAME = "no-frame"
    CAMERA_OFF = "camera-off"

    @property
    def text(self) -> str:
        """A short sentence for people (status bar, thumbnail tooltip)."""
        return _REASON_TEXT[self]


_REASON_TEXT = {
    Reason.SPEECH_START: "fresh frame as you started speaking",
    Reason.WHILE_SPEAKING: "periodic frame while you speak",
    Reason.INTERVAL: "continuous mode tick",
    Reason.CHANGED: "the scene changed",
    Reason.HEARTBEAT: "nothing changed for a while; refreshing",
    Reason.SNAPSHOT: "high-detail snapshot you asked for",
    Reason.SILENT: "not sent: you are not speaking",
    Reason.TOO_SOON: "not sent: too soon after the last frame",
    Reason.UNCHANGED: "not sent: the scene has not changed",
    Reason.BUDGET: "not sent: frames-per-minute budget reached",
    Reason.STALE: "not sent: the newest frame is too old",
    Reason.ALREADY_SENT: "not sent: this frame was already sent",
    Reason.WAITING_FOR_QUESTION: "snapshot ready: it goes out with your next question",
    Reason.NOT_REQUESTED: "not sent: snapshot mode sends only when you ask",
    Reason.NO_FRAME: "not sent: no frame from the camera",
    Reason.CAMERA_OFF: "not sent: camera is off",
}


@dataclass(frozen=True)
class PacerConfig:
    """Pacing settings (seconds, frames, bits). Validated on construction."""

    policy: Policy = Policy.ON_SPEECH
    speech_interval_s: float = 3.0
    continuous_interval_s: float = 1.0
    change_threshold: int = 10
    change_max_interval_s: float = 10.0
    min_interval_s: float = 1.0
    max_frame_age_s: float = 1.0
    budget_per_minute: int = 30

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy", Policy(self.policy))
        if self.min_interval_s < 1.0:
            raise ValueError(
                f"min_interval_s must be >= 1.0 (at most 1 fps), got {self.min_interval_s}"
            )
        for field in ("speech_interval_s", "continuous_interval_s", "change_max_interval_s"):
            if getattr(self, field) < self.min_interval_s:
                raise ValueError(f"{field} must be >= min_interval_s ({self.min_interval_s} s)")
        if not 1 <= self.change_threshold <= 64:
            raise ValueError(f"change_threshold must be 1..64 bits, got {self.change_threshold}")
        if self.max_frame_age_s <= 0:
            raise ValueError(f"max_frame_age_s must be > 0, got {self.max_frame_age_s}")
        if self.budget_per_minute < 1:
            raise ValueError(f"budget_per_minute must be >= 1, got {self.budget_per_minute}")


@dataclass(frozen=True)
class Decision:
    """The pacer's answer for one offered frame."""

    send: bool
    reason: Reason
    t_ns: int  # the time the decision was made
    seq: int = 0  # the frame offered (0 when there was none)
    snapshot: bool = False  # encode at snapshot size/quality
    detail: str = ""  # extra human detail ("3/30 in the last minute", "12 bits changed")

    @property
    def text(self) -> str:
        return f"{self.reason.text} ({self.detail})" if self.detail else self.reason.text


class Pacer:
    """Pure frame pacer. Not thread-safe: call from one thread (the feed's)."""

    def __init__(self, config: PacerConfig | None = None) -> None:
        self.config = config or PacerConfig()
        self._speaking = False
        self._speech_start_pending = False
        self._snapshot_armed = False
        self._last_sent_ns: int | None = None
        self._last_seq: tuple[int, int] | None = None  # (seq, frame_t_ns) of the last frame sent
        self._last_hash: int | None = None
        self._sent: collections.deque[int] = collections.deque()
        self._now = 0

    # -- events ------------------------------------------------------------------

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def snapshot_armed(self) -> bool:
        return self._snapshot_armed

    def speech_started(self, t_ns: int) -> None:
        """The user started speaking (local VAD or the server's speech-started event)."""
        self._tick(t_ns)
        self._speaking = True
        self._speech_start_pending = True

    def speech_stopped(self, t_ns: int) -> None:
        self._tick(t_ns)
        self._speaking = False
        self._speech_start_pending = False

    def request_snapshot(self, t_ns: int) -> None:
        """ "Look at this": the next frame offered while the user speaks goes out as a snapshot."""
        self._tick(t_ns)
        self._snapshot_armed = True

    def cancel_snapshot(self) -> None:
        self._snapshot_armed = False

    def scene_reset(self) -> None:
        """Forget the last frame sent (camera turned off/on, source switched)."""
        self._last_hash = None
        self._last_seq = None

    def sent_in_last_minute(self, now_ns: int) -> int:
        self._tick(now_ns)
        self._expire()
        return len(self._sent)

    # -- decisions ---------------------------------------------------------------

    def no_frame(self, now_ns: int, reason: Reason = Reason.NO_FRAME) -> Decision:
        """Record that there was nothing to offer (no frame, camera off)."""
        self._tick(now_ns)
        return Decision(False, reason, self._now)

    def offer(
        self, now_ns: int, seq: int, frame_t_ns: int, fingerprint: int | None = None
    ) -> Decision:
        """Should this frame (mailbox ``seq``, captured at ``frame_t_ns``) go to the model now?

        ``fingerprint`` (a :func:`video.perceptual.dhash`) is required by the policies whose
        ``needs_fingerprint`` is true (``on-change``, ``change-or-request``). A
        ``send=True`` decision is recorded as sent: call ``offer`` only when you will send.
        """
        cfg = self.config
        now = self._tick(now_ns)
        if self._last_seq == (seq, frame_t_ns):
            return Decision(False, Reason.ALREADY_SENT, now, seq)
        age = now - frame_t_ns
        if age > cfg.max_frame_age_s * _NS:
            return Decision(False, Reason.STALE, now, seq, detail=f"{age / _NS:.1f} s old")

        snapshot = False
        detail = ""
        reason: Reason
        if self._snapshot_armed and self._speaking:
            reason, snapshot = Reason.SNAPSHOT, True
        elif self._snapshot_armed and cfg.policy is Policy.SNAPSHOT:
            return Decision(False, Reason.WAITING_FOR_QUESTION, now, seq)
        elif cfg.policy is Policy.SNAPSHOT:
            return Decision(False, Reason.NOT_REQUESTED, now, seq)
        elif cfg.policy is Policy.ON_SPEECH:
            if not self._speaking:
                return Decision(False, Reason.SILENT, now, seq)
            if self._speech_start_pending:
                reason = Reason.SPEECH_START
            elif self._since_last(now) >= cfg.speech_interval_s * _NS:
                reason = Reason.WHILE_SPEAKING
            else:
                return Decision(False, Reason.TOO_SOON, now, seq)
        elif cfg.policy is Policy.CONTINUOUS:
            if self._since_last(now) < cfg.continuous_interval_s * _NS:
                return Decision(False, Reason.TOO_SOON, now, seq)
            reason = Reason.INTERVAL
        elif cfg.policy is Policy.CHANGE_OR_REQUEST:
            if fingerprint is None:
                raise ValueError(f"{cfg.policy} needs a fingerprint (video.perceptual.dhash)")
            if not self._speaking:
                return Decision(False, Reason.SILENT, now, seq)
            if self._last_hash is not None:
                bits = (fingerprint ^ self._last_hash).bit_count()
                detail = f"{bits} of 64 bits differ"
                if bits < cfg.change_threshold:
                    return Decision(False, Reason.UNCHANGED, now, seq, detail=detail)
            if not self._speech_start_pending and (
                self._since_last(now) < cfg.speech_interval_s * _NS
            ):
                return Decision(False, Reason.TOO_SOON, now, seq, detail=detail)
            reason = Reason.CHANGED
        else:  # ON_CHANGE
            if fingerprint is None:
                raise ValueError("on-change needs a fingerprint (video.perceptual.dhash)")
            if self._last_hash is None:
                reason = Reason.CHANGED
            else:
                bits = (fingerprint ^ self._last_hash).bit_count()
                detail = f"{bits} of 64 bits differ"
                if bits >= cfg.change_threshold:
                    reason = Reason.CHANGED
                elif self._since_last(now) >= cfg.change_max_interval_s * _NS:
                    reason = Reason.HEARTBEAT
                else:
                    return Decision(False, Reason.UNCHANGED, now, seq, detail=detail)

        if not snapshot and self._since_last(now) < cfg.min_interval_s * _NS:
            return Decision(False, Reason.TOO_SOON, now, seq, detail=detail)
        self._expire()
        if len(self._sent) >= cfg.budget_per_minute:
            wait = (self._sent[0] + _MINUTE_NS - now) / _NS
            return Decision(
                False,
                Reason.BUDGET,
                now,
                seq,
                detail=f"{cfg.budget_per_minute}/min used; next in {wait:.1f} s",
            )

        self._sent.append(now)
        self._last_sent_ns = now
        self._last_seq = (seq, frame_t_ns)
        if fingerprint is not None:
            self._last_hash = fingerprint
        if reason is Reason.SPEECH_START or cfg.policy is Policy.CHANGE_OR_REQUEST:
            self._speech_start_pending = False
        if snapshot:
            self._snapshot_armed = False
            self._speech_start_pending = False
        return Decision(True, reason, now, seq, snapshot=snapshot, detail=detail)

    # -- helpers -----------------------------------------------------------------

    def _tick(self, t_ns: int) -> int:
        self._now = max(self._now, t_ns)  # time never goes backwards here
        return self._now

    def _since_last(self, now: int) -> float:
        return float("inf") if self._last_sent_ns is None else float(now - self._last_sent_ns)

    def _expire(self) -> None:
        while self._sent and self._sent[0] <= self._now - _MINUTE_NS:
            self._sent.popleft()
