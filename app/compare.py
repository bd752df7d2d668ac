"""Comparing two recorded sessions side by side (``voicecam rerun``'s report): exchanges (a user
turn and the answer to it), per-turn first-audio latency and cost, in two columns."""

from __future__ import annotations

import itertools
import statistics
import textwrap
from dataclasses import dataclass, field

from realtime.recording.reader import SessionFile

__all__ = ["Exchange", "compare", "exchanges"]


@dataclass(frozen=True)
class Exchange:
    """A user turn and what the assistant answered to it."""

    user: str
    assistant: str
    first_audio_ms: float | None
    cost_usd: float | None


@dataclass
class _Draft:
    """An exchange being gathered: the assistant's parts and the times they were recorded."""

    user: str
    assistant: list[str] = field(default_factory=list)
    t_ms: list[float] = field(default_factory=list)
    first_audio_ms: float | None = None
    cost_usd: float | None = None


def exchanges(sf: SessionFile) -> list[Exchange]:
    lat: dict[str, float] = {}
    for x in sf.latencies():
        if x.metric == "first_audio_ms" or (x.metric == "first_text_ms" and x.item_id not in lat):
            lat[x.item_id] = x.value_ms
    turns = sf.turns()
    usage = sorted(sf.usage(), key=lambda u: u.t_ms)
    out: list[_Draft] = []
    for t in turns:
        if t.role == "user" or not out:
            out.append(_Draft(t.text if t.role == "user" else ""))
        if t.role == "assistant":
            cur = out[-1]
            cur.assistant.append(t.text.strip() or "(audio without transcript)")
            cur.t_ms.append(t.t_ms)
            if cur.first_audio_ms is None and t.item_id in lat:
                cur.first_audio_ms = lat[t.item_id]
    # usage belongs to the exchange whose assistant turn was recorded at (or before) it
    for u in usage:
        owner = None
        for ex in out:
            if any(tt <= u.t_ms + 1.0 for tt in ex.t_ms):
                owner = ex
        if owner is not None and u.cost_usd is not None:
            owner.cost_usd = (owner.cost_usd or 0.0) + u.cost_usd
    return [
        Exchange(e.user.strip(), " ".join(e.assistant), e.first_audio_ms, e.cost_usd) for e in out
    ]


def _cost(usd: float | None, backend: str, free: bool = False) -> str:
    if free or backend in ("local", "offline"):
        return "free"
    return "cost ?" if usd is None else f"${usd:.4f}"


def _side(ex: Exchange | None, backend: str, width: int, free: bool = False) -> list[str]:
    if ex is None:
        return ["(no turn)"]
    lines = textwrap.wrap(
        f"You: {ex.user or '(no transcript)'}", width, subsequent_indent="     "
    ) or [""]
    lines += textwrap.wrap(
        f"AI:  {ex.assistant or '(no answer)'}", width, subsequent_indent="     "
    ) or [""]
    lat = "—" if ex.first_audio_ms is None else f"{ex.first_audio_ms:.0f} ms"
    lines.append(f"     first audio {lat} · {_cost(ex.cost_usd, backend, free)}")
    return lines


def compare(original: SessionFile, rerun: SessionFile, width: int = 100) -> str:
    """Side-by-side transcripts, per-turn latency and cost of two sessions."""
    a, b = exchanges(original), exchanges(rerun)
    ma, mb = original.metadata, rerun.metadata
    col = max(30, (width - 3) // 2)
    head_a = f"{ma.backend}/{ma.model}" if ma.model else ma.backend
    head_b = f"{mb.backend}/{mb.model}" if mb.model else mb.backend
    rows = [f"{'ORIGINAL ' + head_a:<{col}} | RE-RUN {head_b}", "-" * col + "-+-" + "-" * col]
    for n, (ea, eb) in enumerate(itertools.zip_longest(a, b), 1):
        la = _side(ea, ma.backend, col, ma.values.get("free") is True)
        lb = _side(eb, mb.backend, col, mb.values.get("free") is True)
        rows.append(f"{'Turn ' + str(n):<{col}} |")
        for x, y in itertools.zip_longest(la, lb, fillvalue=""):
            rows.append(f"{x:<{col}} | {y}")
        rows.append(" " * col + " |")

    def summary(ex: list[Exchange], sf: SessionFile) -> str:
        lats = [e.first_audio_ms for e in ex if e.first_audio_ms is not None]
        med = f"{statistics.median(lats):.0f} ms" if lats else "—"
        free = sf.metadata.values.get("free") is True
        return (
            f"{len(ex)} turns · median first audio {med} · "
            f"total {_cost(sf.total_cost_usd, sf.metadata.backend, free)}"
        )

    rows.append(f"{summary(a, original):<{col}} | {summary(b, rerun)}")
    return "\n".join(rows)
