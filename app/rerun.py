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

A re-run is a front end of ``app.core.ConversationCore``, like the headless CLI
(``app.rerun_session`` drives it); this module is the command line around it.

The spend limit holds here too (``app.core_budget``): the saved session and day budgets, or
``--budget USD`` for this run; once the next turn would pass it, no more audio or frames are sent,
the run says so, and what it cost is added to the day's total like any conversation's.
``rerun_main(argv)`` is the CLI entry: exit 0 done, 2 bad argument/unreadable file/unknown
backend, 1 when the backend failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from app.compare import Exchange, compare, exchanges
from app.ports import SessionPort
from app.rerun_plan import Input, TurnsMode, has_voice_turns, plan_inputs
from app.rerun_session import rerun_core, run_rerun
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
    "rerun_core",
    "rerun_main",
    "run_rerun",
]


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
    p.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="USD",
        help="spend limit for this re-run in US dollars (default: the saved session budget)",
    )
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
    from app.compose import (
        build_backend,
        build_budget,
        build_day_spend,
        build_recorder,
        resolve_settings,
    )
    from app.config import SettingsError

    if args.budget is not None and not 0 < args.budget < 1e6:
        print("voicecam rerun: error: --budget must be above 0 US dollars", file=sys.stderr)
        return 2
    try:
        settings = resolve_settings(
            {
                "backend": args.backend,
                "model": args.model or None,
                "voice": args.voice or None,
                "budget_session_usd": args.budget,
            }
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
    day_spend = None if backend.free else build_day_spend()
    core = rerun_core(
        backend,
        instructions=instructions if isinstance(instructions, str) else "",
        turns=turns,
        free=backend.free,
        limits=build_budget(settings),
        day_spent_usd=day_spend.today_usd() if day_spend is not None else 0.0,
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
                core,
                turns=turns,
                tail_s=args.tail,
                log=lambda s: print(s, flush=True),
                day_spend=day_spend,
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
