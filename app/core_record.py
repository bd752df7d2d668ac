"""The recording half of ``ConversationCore``: the one turn model, written out.

The recorder derives nothing: the core tells it each finished turn of its transcript
(``RecordTurn``), the latency waterfall of each answered turn (``RecordLatency``) and each
response's usage (``RecordUsage``). Pure functions over the core they are given; see
``app.core`` for the contract.

When things are written:

* a user turn once its text is final (a final input transcription, the end of the reply for
  providers that send none, a typed message), with the times the user spoke: the earliest of the
  local VAD start / push-to-talk press / provider ``SpeechStarted``, and the first of local VAD
  end / push-to-talk release / provider ``SpeechStopped`` / ``InputCommitted``;
* a reply when it is over: played out, cut off after its response finished, or cancelled;
  ``interrupted`` when the user cut it; replies still open when the conversation ends are
  written ``incomplete``. It starts at its first audible sample (else its first byte);
* the latency figures with the reply (``LATENCY_METRICS``, ms from the end of the user's turn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.effects import RecordLatency, RecordTurn
from app.latency import TurnLatency

if TYPE_CHECKING:
    from app.core import ConversationCore

#: The recorded latency figures, each in ms from the end of the user's turn (``app.latency``):
#: the turn closed on the wire; the first reply byte (audio or text); the first reply sample heard.
LATENCY_METRICS = ("speech_end_to_commit_ms", "first_audio_ms", "first_played_ms")

#: How many of the newest turns are checked for a newly final user turn.
_SCAN = 8


def speech_started(core: ConversationCore, t_ns: int) -> None:
    """The user started speaking (local or provider VAD, a talk press)."""
    if core._user_start_ns is None or core._user_end_ns is not None:
        core._user_start_ns = t_ns
    core._user_end_ns = None


def speech_ended(core: ConversationCore, t_ns: int) -> None:
    """The user's turn ended (the first end reported wins)."""
    if core._user_end_ns is None:
        core._user_end_ns = t_ns


def committed(core: ConversationCore, item_id: str) -> None:
    """The provider closed the user's turn as ``item_id``: keep its times for a transcription
    that arrives after the reply (OpenAI transcribes asynchronously)."""
    if item_id:
        core._user_times[item_id] = (core._user_start_ns, core._user_end_ns)
        if len(core._user_times) > 16:
            core._user_times.pop(next(iter(core._user_times)))


def response_over(core: ConversationCore) -> None:
    """A response finished: the next user turn has new times."""
    core._user_start_ns = None
    core._user_end_ns = None


def user_turns(core: ConversationCore) -> None:
    """Write user turns that became final since the last call."""
    if core.transcript.version == core._recorded_version:
        return
    core._recorded_version = core.transcript.version
    now = core._now
    for t in core.transcript.turns()[-_SCAN:]:
        if t.role != "user" or t.partial or not t.text or t.seq in core._recorded:
            continue
        core._recorded.add(t.seq)
        if t.typed:
            core._emit(RecordTurn("user", t.text, t.item_id, now, now, now, "text", "completed"))
        else:
            start, end = core._user_times.pop(t.item_id, (core._user_start_ns, core._user_end_ns))
            core._emit(RecordTurn("user", t.text, t.item_id, now, start, end, "voice", "completed"))


def replies(core: ConversationCore, status: str) -> None:
    """Write the replies that are over (``status`` of their response, or ``"incomplete"``) and
    the latency of the turn they answer."""
    lat = core.latency.current
    for t in core.transcript.turns()[-_SCAN:]:
        if t.role != "assistant" or t.seq in core._recorded or not t.text:
            continue
        if t.partial and status != "incomplete":
            continue  # a newer response still streaming
        core._recorded.add(t.seq)
        start = core._first_byte_ns.pop(t.item_id, None)
        if lat is not None and lat.item_id == t.item_id and lat.first_audible_ns is not None:
            start = lat.first_audible_ns
        final = "interrupted" if t.interrupted or status == "cancelled" else status
        core._emit(
            RecordTurn("assistant", t.text, t.item_id, core._now, start, None, "voice", final)
        )
    if lat is not None:
        latency(core, lat)
    if len(core._first_byte_ns) > 64:  # replies that never got a transcript
        core._first_byte_ns.clear()


def latency(core: ConversationCore, lat: TurnLatency) -> None:
    """Write the waterfall of one turn once (when it has a reply)."""
    if lat.turn in core._recorded_latency or lat.first_byte_ns is None:
        return
    end = lat.speech_end_ns
    if end is None:
        return
    core._recorded_latency.add(lat.turn)
    values = (
        lat.to_commit_ms,
        (lat.first_byte_ns - end) / 1e6,
        None if lat.first_audible_ns is None else (lat.first_audible_ns - end) / 1e6,
    )
    t = lat.first_audible_ns or lat.first_byte_ns
    for metric, value in zip(LATENCY_METRICS, values, strict=True):
        if value is not None:
            core._emit(RecordLatency(lat.item_id, metric, value, t))
