"""One re-run session: the recorded user side fed into a ``ConversationCore`` in real time.

A re-run is a front end of ``app.core.ConversationCore``, like the headless CLI: the recorded
inputs go into the core (mic audio, talk presses, frames, typed text) at their original times
(``app.rerun_plan.plan_inputs``), and the core decides what is sent and keeps the turns,
latency and usage the new recording stores. Reply audio is recorded as received (there is no
speaker here). ``rerun_core`` builds the core for a turn-taking choice; ``run_rerun`` drives one
session through it until the input is done and the last answers have finished.

The spend limit holds here too (``app.core_budget``): once the next turn would pass it no more
audio or frames are sent, and each response's cost goes to the day's total through the shared
performer (``app.day_spend_effect``).

Threads: everything runs on the one asyncio loop of ``run_rerun``'s caller.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from app import core_budget
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
from app.rerun_plan import TurnsMode, plan_inputs
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
from realtime.recording.reader import SessionFile
from realtime.recording.resilient import ResilientRecorder
from video.feed import SentFrame
from video.pacing import Reason

__all__ = ["rerun_core", "run_rerun"]

_REASONS = {r.value for r in Reason}


class _Resamplers:
    """Input audio at any recorded rate → ``out_hz``, one streaming resampler per rate."""

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
