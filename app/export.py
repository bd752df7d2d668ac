"""Export a recorded session: stereo WAV, MP4 (frames + mixed audio), Markdown, SRT.

``voicecam export FILE --to out.wav|out.mp4|out.md|out.srt`` — ``export_main(argv)`` is the
CLI entry (exit 0 ok, 2 for a bad argument or unreadable file, 1 for a write failure).

* WAV: 16-bit stereo at 24 kHz (``--rate``), user (microphone) left, assistant (reply as played)
  right, both placed on the session clock so they line up as they happened.
* MP4: H.264 video of the camera frames (each shown until the next; sent and preview frames),
  AAC audio of both sides mixed; written with PyAV.
* Markdown: the transcript with the frames sent to the model as images (written to
  ``<name>_frames/`` next to the .md), per-turn latency and cost.
* SRT: one subtitle per turn for both speakers, in time order, never overlapping.

Everything comes from the session file, which never holds a key; text is scrubbed once more.
Files are written to a temporary name and renamed, so a failed export leaves nothing half done.
Qt-free; call from a worker thread in the GUI.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import wave
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

from realtime.recording.errors import SessionFileError
from realtime.recording.reader import FrameRecord, SessionFile, Turn
from realtime.recording.scrub import Scrubber

FORMATS = (".wav", ".mp4", ".md", ".srt")
DEFAULT_RATE_HZ = 24000


class ExportError(Exception):
    """The export could not be written (message names the file and the reason)."""


# --------------------------------------------------------------------------- helpers


def fmt_ms(ms: float, sep: str = ".") -> str:
    """``H:MM:SS.mmm`` style clock (``sep=","`` for SRT)."""
    ms = max(0, round(ms))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, milli = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{milli:03d}"


def short_clock(ms: float) -> str:
    s = max(0, int(ms // 1000))
    return f"{s // 60}:{s % 60:02d}"


@contextlib.contextmanager
def _atomic(out: Path, suffix: str = "") -> Iterator[Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=suffix or out.suffix, dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


BLOCK_S = 10  # export audio in blocks of this many seconds (bounded extra memory)


def tracks(sf: SessionFile, rate_hz: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(user, assistant) int16 tracks at ``rate_hz`` from offset 0, and the export length in
    samples (the longer track or the session's duration; shorter tracks end in silence)."""
    user = sf.mic_track(rate_hz).samples
    bot = sf.playback_track(rate_hz).samples
    n = max(len(user), len(bot), round(sf.duration_ms * rate_hz / 1000))
    return user, bot, n


def _block(track: np.ndarray, start: int, stop: int) -> np.ndarray:
    out = np.zeros(stop - start, np.int32)
    part = track[start:stop]
    out[: len(part)] = part
    return out


def mixed_blocks(sf: SessionFile, rate_hz: int) -> Iterator[np.ndarray]:
    """Both sides mixed (int16), in blocks of ``BLOCK_S`` seconds."""
    user, bot, n = tracks(sf, rate_hz)
    step = BLOCK_S * rate_hz
    for start in range(0, n, step):
        stop = min(n, start + step)
        mix = _block(user, start, stop) + _block(bot, start, stop)
        yield np.clip(mix, -32768, 32767).astype(np.int16)


# --------------------------------------------------------------------------- WAV


def export_wav(sf: SessionFile, out: Path, rate_hz: int = DEFAULT_RATE_HZ) -> None:
    user, bot, n = tracks(sf, rate_hz)
    step = BLOCK_S * rate_hz
    with _atomic(out) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate_hz)
        for start in range(0, n, step):
            stop = min(n, start + step)
            stereo = np.empty((stop - start, 2), "<i2")
            stereo[:, 0] = _block(user, start, stop)
            stereo[:, 1] = _block(bot, start, stop)
            w.writeframes(stereo.tobytes())


# --------------------------------------------------------------------------- MP4


def _decode(jpeg: bytes) -> np.ndarray | None:
    import cv2

    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return img if img is not None and img.ndim == 3 else None


def export_mp4(
    sf: SessionFile,
    out: Path,
    fps: int = 10,
    rate_hz: int = DEFAULT_RATE_HZ,
    max_side: int = 1280,
    progress: Callable[[float], None] | None = None,
) -> None:
    """``progress(fraction)`` (0–1, on this thread) about once a second of video encoded."""
    import av
    import cv2

    frames: list[tuple[float, np.ndarray]] = []
    for f in sf.frames():
        img = _decode(f.jpeg)
        if img is not None:
            frames.append((f.t_ms, img))
    if frames:
        h, w = frames[0][1].shape[:2]
        scale = min(1.0, max_side / max(h, w))
        w, h = max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)
    else:
        w, h = 320, 240
    _, _, n_audio = tracks(sf, rate_hz)
    duration_ms = max(sf.duration_ms, n_audio / rate_hz * 1000, 1000 / fps)
    n_video = max(1, int(np.ceil(duration_ms * fps / 1000)))
    black = np.zeros((h, w, 3), np.uint8)
    with _atomic(out) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        vs = container.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "veryfast", "crf": "23"}
        aus = container.add_stream("aac", rate=rate_hz, layout="mono")
        k = 0
        current: np.ndarray = black
        for i in range(n_video):
            t = i * 1000 / fps
            while k < len(frames) and frames[k][0] <= t:
                img = frames[k][1]
                current = img if img.shape[:2] == (h, w) else cv2.resize(img, (w, h))
                k += 1
            if progress is not None and i % fps == 0:
                progress(0.9 * i / n_video)  # the video is most of the work
            vf = av.VideoFrame.from_ndarray(current, format="bgr24")
            vf.pts = i
            for packet in vs.encode(vf):
                container.mux(packet)
        for packet in vs.encode():
            container.mux(packet)
        pts = 0
        for block in mixed_blocks(sf, rate_hz):
            samples = block.astype(np.float32) / 32768.0
            for i in range(0, len(samples), 1024):
                chunk = np.ascontiguousarray(samples[i : i + 1024].reshape(1, -1))
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                af.sample_rate = rate_hz
                af.pts = pts
                pts += chunk.shape[1]
                for packet in aus.encode(af):
                    container.mux(packet)
        for packet in aus.encode():
            container.mux(packet)
    if progress is not None:
        progress(1.0)


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
        with _atomic(out) as tmp:
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
    with _atomic(out) as tmp:
        tmp.write_text("\n".join(cues), encoding="utf-8")


# --------------------------------------------------------------------------- entry points

EXPORTERS: dict[str, Callable[[SessionFile, Path], object]] = {
    ".wav": export_wav,
    ".mp4": export_mp4,
    ".md": export_markdown,
    ".srt": export_srt,
}


def export(
    session: str | os.PathLike[str],
    out: str | os.PathLike[str],
    progress: Callable[[float], None] | None = None,
) -> Path:
    """Export ``session`` to ``out`` (format from the suffix). Raises ``SessionFileError`` for an
    unreadable session, ``ExportError`` for a bad target or a failed write. ``progress``:
    called with the fraction done while an MP4 is encoded (the slow one)."""
    out_p = Path(out)
    fmt = out_p.suffix.lower()
    if fmt not in EXPORTERS:
        raise ExportError(f"{out_p}: unknown export format (use one of {', '.join(FORMATS)})")
    if out_p.exists() and out_p.resolve() == Path(session).resolve():
        raise ExportError(f"{out_p}: refusing to overwrite the session file itself")
    with SessionFile(session) as sf:
        try:
            if fmt == ".mp4" and progress is not None:
                export_mp4(sf, out_p, progress=progress)
            else:
                EXPORTERS[fmt](sf, out_p)
        except SessionFileError:
            raise
        except (OSError, ValueError, RuntimeError) as exc:
            raise ExportError(f"{out_p}: export failed ({exc})") from None
    return out_p


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="voicecam export",
        description="Export a recorded session to WAV (user left, assistant right), MP4, "
        "Markdown or SRT.",
    )
    p.add_argument("file", help="a recorded session (*.voicecam)")
    p.add_argument(
        "--to",
        required=True,
        metavar="OUT",
        help="output file: out.wav, out.mp4, out.md or out.srt",
    )
    return p


def export_main(argv: Sequence[str] | None = None) -> int:
    """``voicecam export FILE --to OUT``. Returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    out = Path(args.to)
    if out.suffix.lower() not in EXPORTERS:
        parser.print_usage(sys.stderr)
        print(
            f"voicecam export: error: {out}: unknown format {out.suffix or '(none)'!r}; use "
            f"one of {', '.join(FORMATS)}",
            file=sys.stderr,
        )
        return 2
    if out.parent != Path("") and not out.parent.is_dir():
        print(f"voicecam export: error: {out.parent}: no such folder", file=sys.stderr)
        return 2
    try:
        export(args.file, out)
    except SessionFileError as exc:
        print(f"voicecam export: error: {exc}", file=sys.stderr)
        return 2
    except ExportError as exc:
        print(f"voicecam export: error: {exc}", file=sys.stderr)
        return 1
    extra = ""
    if out.suffix.lower() == ".md":
        extra = f" (frames in {out.with_name(out.stem + '_frames')})"
    print(f"Exported {args.file} to {out}{extra}")
    return 0
