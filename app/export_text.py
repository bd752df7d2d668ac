"""Text exports of a recorded session: Markdown and SRT.

* Markdown (``export_markdown``): the transcript with the frames sent to the model as images
  (written to ``<name>_frames/`` next to the .md), per-turn latency and cost. The text and the
  frames folder appear together or not at all.
* SRT (``export_srt``): one subtitle per turn for both speakers, in time order, never
  overlapping (``srt_times``).

The session file never holds a key; its text is scrubbed once more (``Scrubber``) on the way
out. Qt-free; call from a worker thread in the GUI.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from app.export_common import atomic_output, fmt_ms, short_clock
from realtime.recording.reader import FrameRecord, SessionFile, Turn
from realtime.recording.scrub import Scrubber

__all__ = ["LATENCY_LABELS", "export_markdown", "export_srt", "srt_times"]


# --------------------------------------------------------------------------- Markdown


def _turn_costs(sf: SessionFile, turns: Sequence[Turn]) -> dict[int, float | None]:
    """Usage records attributed to the assistant turn recorded at (or just before) them."""
    costs: dict[int, float | None] = {}
    assistants = sorted((t for t in turns if t.role == "assistant"), key=lambda t: t.t_ms)
    for u in sf.usage():
        owner = None
        for t in assistants:
            if t.t_ms <= u.t_ms + 1.0:
                owner = t
        if owner is None:
            continue
        prev = costs.get(owner.index)
        if u.cost_usd is None:
            costs.setdefault(owner.index, None)
        else:
            costs[owner.index] = (prev or 0.0) + u.cost_usd
    return costs


def _fmt_cost(usd: float | None, backend: str) -> str:
    if backend in ("local", "offline"):
        return "free (offline)"
    if usd is None:
        return "unknown"
    return f"${usd:.4f} (estimate)"


LATENCY_LABELS = {
    "first_audio_ms": "first audio",
    "first_text_ms": "first text",
    "first_played_ms": "heard after",
    "speech_end_to_commit_ms": "commit",
    "total_ms": "total",
}


def export_markdown(sf: SessionFile, out: Path) -> Path:
    """Write ``out`` and the sent frames into ``<stem>_frames/`` beside it; returns that folder."""
    scrub = Scrubber()
    md = sf.metadata
    turns = sf.turns()
    frames = list(sf.frames(sent=True))
    lat: dict[str, list[str]] = {}
    for x in sf.latencies():
        label = LATENCY_LABELS.get(x.metric, x.metric)
        lat.setdefault(x.item_id, []).append(f"{label} {x.value_ms:.0f} ms")
    costs = _turn_costs(sf, turns)
    frame_dir = out.with_name(f"{out.stem}_frames")
    started = md.started_at.strftime("%Y-%m-%d %H:%M UTC") if md.started_at else "unknown date"
    lines = [
        f"# VoiceCam session, {started}",
        "",
        f"- Backend: {md.backend or '?'} · model: {md.model or '?'}"
        + (f" · voice: {md.voice}" if md.voice else ""),
        f"- Duration: {short_clock(sf.duration_ms)} · turns: {len(turns)} · frames sent: "
        f"{len(frames)} · cost: {_fmt_cost(sf.total_cost_usd, md.backend)}",
        f"- Recorded by VoiceCam {md.app_version}"
        + ("" if md.end_mono_ns is not None else " (recording did not finish cleanly)"),
        "",
        "## Transcript",
        "",
    ]
    items: list[tuple[float, int, Turn | FrameRecord]] = [(t.start_ms, 1, t) for t in turns]
    items += [(f.t_ms, 0, f) for f in frames]
    items.sort(key=lambda x: (x[0], x[1]))
    written: list[tuple[str, bytes]] = []
    for _, _, item in items:
        if isinstance(item, FrameRecord):
            name = f"frame_{len(written) + 1:03d}_{round(item.t_ms):08d}ms.jpg"
            written.append((name, item.jpeg))
            reason = f" ({item.reason})" if item.reason else ""
            lines += [
                f"![Frame sent at {short_clock(item.t_ms)}{reason}]({frame_dir.name}/{name})",
                "",
            ]
            continue
        who = "You" if item.role == "user" else "Assistant"
        head = f"**{who}** · {short_clock(item.start_ms)}"
        if item.source == "text":
            head += " · typed"
        if item.status not in ("completed", ""):
            head += f" · {item.status}"
        if item.role == "assistant":
            head += "".join(f" · {x}" for x in lat.get(item.item_id, []))
            if item.index in costs:
                head += f" · {_fmt_cost(costs[item.index], md.backend)}"
        text = scrub.text(item.text.strip()) or "(no transcript)"
        lines += [head, "", *(f"> {line}" for line in text.splitlines()), ""]
    body = "\n".join(lines).rstrip() + "\n"
    # All or nothing: the frames go to a hidden staging folder and the text to a temporary
    # file; only when both are complete do they take their names (a full disk leaves nothing).
    staging: Path | None = None
    try:
        if written:
            out.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{frame_dir.name}.", dir=out.parent))
            for name, data in written:
                (staging / name).write_bytes(data)
        with atomic_output(out) as tmp:
            tmp.write_text(body, encoding="utf-8")
            if staging is not None:
                _put_folder(staging, frame_dir)
                staging = None
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return frame_dir


def _put_folder(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``, replacing an earlier export's folder of that name."""
    old: Path | None = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- SRT


def srt_times(spans: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """Cue times (ms) for turns given as (start, end) ms, in time order: each lasts at least
    1 s, but never past the next cue's start, so the two speakers' cues never overlap (a player
    shows one cue at a time). Starts are made strictly increasing (1 ms apart at worst)."""
    starts: list[int] = []
    for start, _ in spans:
        starts.append(max(round(start), starts[-1] + 1) if starts else max(0, round(start)))
    times = []
    for i, (start, (_, end)) in enumerate(zip(starts, spans, strict=True)):
        stop = max(round(end), start + 1000)
        if i + 1 < len(starts):
            stop = min(stop, starts[i + 1])
        times.append((start, stop))
    return times


def export_srt(sf: SessionFile, out: Path) -> None:
    scrub = Scrubber()
    turns = sorted(sf.turns(), key=lambda t: t.start_ms)  # stable: same start keeps file order
    times = srt_times([(t.start_ms, t.end_ms) for t in turns])
    cues = []
    for n, (t, (start, end)) in enumerate(zip(turns, times, strict=True), 1):
        who = "You" if t.role == "user" else "Assistant"
        text = scrub.text(t.text.strip()) or "(no transcript)"
        cues.append(f"{n}\n{fmt_ms(start, ',')} --> {fmt_ms(end, ',')}\n{who}: {text}\n")
    with atomic_output(out) as tmp:
        tmp.write_text("\n".join(cues), encoding="utf-8")
