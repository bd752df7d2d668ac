"""``voicecam rerun FILE --backend X``: the same conversation, another model — an eval.

Sends the recorded user side of a session — microphone audio, the frames that were sent, typed
messages — to another backend with the original timing (real time), records the new session
like any other, and prints a side-by-side comparison of the transcripts, per-turn latency and
cost.

Turn taking (``--turns``):

* ``original`` (default when the recording has user turns): the model's own turn detection is
  off and each user turn is opened/closed (``ActivityStart``/``ActivityEnd``) where it started and
  ended in the original. Both runs then answer the same questions — deterministic with the
  offline server.
* ``server``: the backend's voice activity detection decides, as in a live conversation.

Reply audio is recorded as received (there is no speaker here). ``rerun_main(argv)`` is the CLI
entry: exit 0 done, 2 bad argument/unreadable file/unknown backend, 1 when the backend failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.compare import Exchange, compare, exchanges
from app.ports import SessionPort
from dsp.resample import StreamResampler
from realtime.events import (
    ActivityEnd,
    ActivityStart,
    AppendAudio,
    AppendImage,
    AudioDelta,
    Closed,
    Command,
    ResponseDone,
    ResponseStarted,
    SendText,
    ServerError,
    SessionConfig,
    TurnComplete,
    TurnDetection,
)
from realtime.recording.errors import SessionFileError
from realtime.recording.reader import SessionFile
from realtime.recording.resilient import ResilientRecorder

__all__ = [
    "Exchange",
    "Input",
    "compare",
    "exchanges",
    "has_voice_turns",
    "plan_inputs",
    "rerun_main",
    "run_rerun",
]

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


# --------------------------------------------------------------------------- running


class _Resamplers:
    def __init__(self, out_hz: int) -> None:
        self.out_hz = out_hz
        self._by_rate: dict[int, StreamResampler] = {}

    def __call__(self, pcm: bytes, rate_hz: int) -> bytes:
        if rate_hz == self.out_hz:
            return pcm
        r = self._by_rate.get(rate_hz)
        if r is None:
            r = self._by_rate[rate_hz] = StreamResampler(rate_hz, self.out_hz)
        out: bytes = r.process(pcm)
        return out


async def run_rerun(
    original: Path,
    session_factory: Callable[[ResilientRecorder], SessionPort],
    recorder: ResilientRecorder,
    *,
    input_rate_hz: int,
    config: SessionConfig,
    turns: TurnsMode,
    tail_s: float = 20.0,
    quiet_s: float = 2.0,
    log: Callable[[str], None] = lambda s: None,
) -> None:
    """Drive one session (``session_factory(recorder)`` → an unconnected RealtimeSession-like
    object) with the user side of ``original``, recording into ``recorder``."""
    with SessionFile(original) as sf:
        inputs = plan_inputs(sf, turns)
    session = session_factory(recorder)
    await session.connect(config)
    wait_ready = getattr(session, "wait_ready", None)
    if wait_ready is not None and not await wait_ready(30.0):
        raise RuntimeError("the backend did not confirm the session")
    resample = _Resamplers(input_rate_hz)
    active = 0
    last_activity = time.monotonic()
    errors: list[str] = []
    received_ms: dict[str, float] = {}

    async def consume() -> None:
        nonlocal active, last_activity
        async for ev in session.events():
            now = time.monotonic_ns()
            last_activity = time.monotonic()
            recorder.on_event(ev, now)
            if isinstance(ev, ResponseStarted):
                active += 1
            elif isinstance(ev, ResponseDone | TurnComplete):
                active = max(0, active - 1)
            elif isinstance(ev, AudioDelta):
                pos = received_ms.get(ev.item_id, 0.0)
                received_ms[ev.item_id] = pos + len(ev.pcm) / 2 / ev.rate_hz * 1000
                recorder.record_reply(ev.item_id, ev.pcm, ev.rate_hz, round(pos), now)
            elif isinstance(ev, ServerError):
                errors.append(ev.message)
                log(f"  backend error: {ev.message}")
            elif isinstance(ev, Closed):
                break

    consumer = asyncio.create_task(consume())
    t0 = time.monotonic()
    try:
        for item in inputs:
            delay = t0 + item.t_ms / 1000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if consumer.done():
                break
            now = time.monotonic_ns()
            cmd: Command | None = None
            if item.kind == "audio":
                pcm = resample(item.pcm, item.rate_hz)
                recorder.record_mic(item.pcm, item.rate_hz, now)
                cmd = AppendAudio(pcm, input_rate_hz) if pcm else None
            elif item.kind == "frame":
                recorder.record_frame(item.jpeg, now, True, item.reason or "rerun")
                cmd = AppendImage(item.jpeg)
            elif item.kind == "text":
                recorder.record_user_text(item.text, now)
                cmd = SendText(item.text)
            elif item.kind == "start":
                cmd = ActivityStart()
            else:
                recorder.on_user_speech_end(now)
                cmd = ActivityEnd()
                last_activity = time.monotonic()
            if cmd is not None:
                await session.send(cmd)
        # let the last answers finish: until nothing is in progress and the line is quiet
        deadline = time.monotonic() + tail_s
        while time.monotonic() < deadline and not consumer.done():
            if active == 0 and time.monotonic() - last_activity >= quiet_s:
                break
            await asyncio.sleep(0.05)
    finally:
        await session.close()
        try:
            await asyncio.wait_for(consumer, 10)
        except (TimeoutError, asyncio.CancelledError):
            consumer.cancel()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="voicecam rerun",
        description="Send a recorded session's user audio, frames and text to another backend "
        "with the original timing; record it and compare transcripts, latency and cost.",
    )
    p.add_argument("file", help="a recorded session (*.voicecam)")
    p.add_argument(
        "--backend",
        required=True,
        help="local, openai, gemini, or a ws://HOST:PORT/v1/realtime URL",
    )
    p.add_argument("--model", default="", help="model (default: the backend's default)")
    p.add_argument("--voice", default="", help="voice (default: the backend's default)")
    p.add_argument(
        "--turns",
        choices=("original", "server"),
        default=None,
        help="who decides when the user's turn ends (default: original)",
    )
    p.add_argument(
        "--out-dir",
        default=None,
        help="folder for the new recording (default: the sessions folder)",
    )
    p.add_argument(
        "--tail",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="longest wait for the last answer after the input ends",
    )
    p.add_argument("--width", type=int, default=110, help="comparison width in characters")
    return p


def rerun_main(argv: Sequence[str] | None = None) -> int:
    """``voicecam rerun FILE --backend X``. Returns the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    src = Path(args.file)
    try:
        with SessionFile(src) as sf:
            md = sf.metadata
            voice_turns = has_voice_turns(sf)
            instructions = md.values.get("instructions")
            n_inputs = sum(1 for _ in sf.mic_chunks()) + sum(1 for _ in sf.frames(sent=True))
            duration_ms = sf.duration_ms
    except SessionFileError as exc:
        print(f"voicecam rerun: error: {exc}", file=sys.stderr)
        return 2
    if n_inputs == 0 and not voice_turns:
        print(
            f"voicecam rerun: error: {src}: the recording has no user audio, frames or text "
            "to send",
            file=sys.stderr,
        )
        return 2
    out_dir = Path(args.out_dir) if args.out_dir else None
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        print(f"voicecam rerun: error: {out_dir}: not a folder", file=sys.stderr)
        return 2
    from app.backends import BackendError
    from app.compose import build_backend, build_recorder, resolve_settings
    from app.config import SettingsError

    try:
        settings = resolve_settings(
            {"backend": args.backend, "model": args.model or None, "voice": args.voice or None}
        )
        backend = build_backend(settings, reconnect=False)
    except (BackendError, SettingsError) as exc:
        print(f"voicecam rerun: error: {exc}", file=sys.stderr)
        return 2
    turns: TurnsMode = args.turns or ("original" if voice_turns else "server")
    if turns == "original" and not voice_turns:
        print(
            "voicecam rerun: the recording has no user voice turns; using --turns server",
            file=sys.stderr,
        )
        turns = "server"
    detection = TurnDetection(mode="none") if turns == "original" else TurnDetection()
    config = SessionConfig(
        model=backend.model,
        voice=backend.voice,
        instructions=instructions if isinstance(instructions, str) else "",
        turn_detection=detection,
    )
    print(
        f"Re-running {src.name} ({duration_ms / 1000:.0f} s, recorded on {md.backend}/"
        f"{md.model}) on {backend.name}/{backend.model}, turns: {turns}",
        flush=True,
    )
    recorder: ResilientRecorder | None = None
    try:
        backend.prepare(lambda k, n, what: print(f"  loading {k}/{n}: {what}", flush=True))
        recorder = build_recorder(
            settings, backend, directory=out_dir, rerun_of=src.name, turns=turns
        )
        rec = recorder

        def factory(r: ResilientRecorder) -> SessionPort:
            from realtime.session import RealtimeSession, secret_values

            endpoint = backend.endpoint()
            for secret in secret_values(endpoint):
                r.add_secret(secret)
            return RealtimeSession(backend.core(), endpoint, recorder=r)

        asyncio.run(
            run_rerun(
                src,
                factory,
                rec,
                input_rate_hz=backend.input_rate_hz,
                config=config,
                turns=turns,
                tail_s=args.tail,
                log=lambda s: print(s, flush=True),
            )
        )
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr)
        return 130
    except Exception as exc:  # SessionError and friends carry person-actionable messages
        print(f"voicecam rerun: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if recorder is not None:
            recorder.close()
        backend.close()
    status = recorder.status
    if status.error is not None or status.path is None:
        print(f"voicecam rerun: {status.error}", file=sys.stderr)
        return 1
    print(f"Recorded the re-run to {status.path}\n")
    with SessionFile(src) as a, SessionFile(status.path) as b:
        print(compare(a, b, args.width))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(rerun_main())
