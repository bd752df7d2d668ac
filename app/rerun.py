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

A re-run is a front end of ``app.core.ConversationCore``, like the headless CLI: the recorded
inputs go into the core (mic audio, talk presses, frames, typed text) at their original times,
and the core decides what is sent and keeps the turns, latency and usage the new recording
stores. Reply audio is recorded as received (there is no speaker here).

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
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from app import core_budget
from app.compare import Exchange, compare, exchanges
from app.core import Backend, ConversationCore
from app.day_spend import DaySpend
from app.day_spend_effect import perform_add_day_spend
from app.effects import (
    AddDaySpend,
    Connecting,
    Ended,
    FrameReady,
    Play,
    Record,
    Send,
    StopRequested,
    Talk,
    TypeText,
)
from app.effects import Input as CoreInput
from app.model import BudgetChanged, Mode
from app.modes import ConversationOptions
from app.ports import ConnectSpec, SessionPort
from app.pricing import CostMeter, PriceTable
from app.recording import perform_record
from app.rerun_plan import Input, TurnsMode, has_voice_turns, plan_inputs
from audio.events import MicAudio
from dsp.resample import StreamResampler
from realtime.budget import Limits
from realtime.events import (
    Closed,
    ResponseDone,
    ResponseStarted,
    ServerError,
    TurnComplete,
)
from realtime.recording.errors import SessionFileError
from realtime.recording.reader import SessionFile
from realtime.recording.resilient import ResilientRecorder
from video.feed import SentFrame
from video.pacing import Reason

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

_REASONS = {r.value for r in Reason}


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


def rerun_core(
    backend: ConnectSpec,
    *,
    instructions: str,
    turns: TurnsMode,
    free: bool,
    limits: Limits | None = None,
    day_spent_usd: float = 0.0,
) -> ConversationCore:
    """The conversation core a re-run drives: ``original`` turns are push-to-talk turns (the
    backend's own detection off), ``server`` turns hands-free with the provider's detection.
    ``limits``: the spend limits (none by default), ``day_spent_usd`` today's earlier spend."""
    options = ConversationOptions(
        instructions=instructions,
        voice=backend.voice,
        mode=Mode.PUSH_TO_TALK if turns == "original" else Mode.HANDS_FREE,
        turn_detection="client" if turns == "original" else "server",
    )
    spec = Backend(
        name=backend.name,
        provider=backend.provider,
        model=backend.model,
        input_rate_hz=backend.input_rate_hz,
        voice=backend.voice,
    )
    cost = CostMeter(PriceTable.load(), backend.model, free=free)
    meter = core_budget.new_meter(cost, backend.provider, limits, day_spent_usd)
    return ConversationCore(spec, options, cost, has_player=False, budget=meter)


class _Front:
    """Feeds the core and performs its effects: commands on the session, the recording.

    There is no speaker: reply audio is recorded as received (``record_reply``). Each
    response's cost goes to ``day_spend`` (if kept); a change of budget level is ``log``ged."""

    def __init__(
        self,
        core: ConversationCore,
        recorder: ResilientRecorder,
        day_spend: DaySpend | None = None,
        log: Callable[[str], None] = lambda s: None,
    ) -> None:
        self.core = core
        self.recorder = recorder
        self.session: SessionPort | None = None
        self.day_spend = day_spend
        self.log = log

    async def feed(self, item: CoreInput, now: int | None = None) -> None:
        for effect in self.core.handle(item, time.monotonic_ns() if now is None else now):
            if isinstance(effect, Send):
                if self.session is not None:
                    await self.session.send(effect.command)
            elif isinstance(effect, Play):
                self.recorder.record_reply(
                    effect.item_id,
                    effect.pcm16,
                    effect.rate_hz,
                    effect.position_ms,
                    time.monotonic_ns(),
                )
            elif isinstance(effect, Record):
                perform_record(self.recorder, effect)
            elif isinstance(effect, AddDaySpend):
                problem = perform_add_day_spend(self.day_spend, effect)
                if problem is not None:
                    self.log(f"  {problem.message}")
                    await self.feed(problem)  # the core's notice, as in a live conversation
            elif isinstance(effect, BudgetChanged) and effect.status.message:
                self.log(f"  budget: {effect.status.message}")
            # the rest (playback, frame polling, model events) has nothing to act on here


async def run_rerun(
    original: Path,
    session_factory: Callable[[ResilientRecorder], SessionPort],
    recorder: ResilientRecorder,
    core: ConversationCore,
    *,
    turns: TurnsMode,
    tail_s: float = 20.0,
    quiet_s: float = 2.0,
    ready_timeout_s: float = 30.0,
    log: Callable[[str], None] = lambda s: None,
    day_spend: DaySpend | None = None,
) -> None:
    """Drive one session (``session_factory(recorder)`` → an unconnected RealtimeSession-like
    object) through ``core`` with the user side of ``original``, recording into ``recorder``:
    the mic audio and talk presses (``original`` turns), frames and typed text go in as the
    core's inputs at their original times; the core decides what is sent and recorded."""
    with SessionFile(original) as sf:
        inputs = plan_inputs(sf, turns)
    front = _Front(core, recorder, day_spend, log)
    session = front.session = session_factory(recorder)
    await front.feed(Connecting())
    await session.connect(core.session_config())
    to16 = _Resamplers(16000)
    to_send = _Resamplers(core.backend.input_rate_hz)
    active = 0
    last_activity = time.monotonic()

    async def consume() -> None:
        nonlocal active, last_activity
        async for ev in session.events():
            last_activity = time.monotonic()
            if isinstance(ev, ResponseStarted):
                active += 1
            elif isinstance(ev, ResponseDone | TurnComplete):
                active = max(0, active - 1)
            elif isinstance(ev, ServerError):
                log(f"  backend error: {ev.message}")
            await front.feed(ev)
            if isinstance(ev, Closed):
                break

    consumer = asyncio.create_task(consume())
    try:
        ready_by = time.monotonic() + ready_timeout_s
        while not core.ready:
            if consumer.done() or time.monotonic() > ready_by:
                raise RuntimeError("the backend did not confirm the session")
            await asyncio.sleep(0.01)
        t0 = time.monotonic()
        for item in inputs:
            delay = t0 + item.t_ms / 1000 - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if consumer.done():
                break
            now = time.monotonic_ns()
            if item.kind == "audio":
                pcm16 = to16(item.pcm, item.rate_hz)
                send = to_send(item.pcm, item.rate_hz)
                if pcm16 or send:
                    await front.feed(MicAudio(pcm16, send, core.backend.input_rate_hz, now), now)
            elif item.kind == "frame":
                # the original's reason (a frame without one counts as the pacer's interval)
                reason = Reason(item.reason) if item.reason in _REASONS else Reason.INTERVAL
                frame = SentFrame(item.jpeg, now, reason, 0, 0, False, sent_ns=now)
                await front.feed(FrameReady(frame), now)
            elif item.kind == "text":
                await front.feed(TypeText(item.text), now)
            else:
                await front.feed(Talk(item.kind == "start"), now)
                last_activity = time.monotonic()
        # let the last answers finish: until nothing is in progress and the line is quiet
        deadline = time.monotonic() + tail_s
        while time.monotonic() < deadline and not consumer.done():
            if active == 0 and time.monotonic() - last_activity >= quiet_s:
                break
            await asyncio.sleep(0.05)
    finally:
        await front.feed(StopRequested())
        await session.close()
        try:
            await asyncio.wait_for(consumer, 10)
        except (TimeoutError, asyncio.CancelledError):
            consumer.cancel()
        await front.feed(Ended())


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
