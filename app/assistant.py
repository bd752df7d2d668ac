"""The Qt-free assistant: one engine thread running the conversation, a thread-safe API.

Threads::

    caller (GUI / CLI thread)            engine thread ("voicecam-engine", one asyncio loop)
    ─────────────────────────            ──────────────────────────────────────────────────
    start(), stop(), push_to_talk() ──►  loop.call_soon_threadsafe → Conversation.feed(intent)
    snapshot(), meters(), preview() ◄──  immutable AssistantSnapshot swapped under a lock
    subscriber(event: ModelEvent)   ◄──  called ON THE ENGINE THREAD: keep them cheap, marshal
                                         to your own thread (the GUI queues them: app/gui/events.py)

Every public method returns at once (``stop(wait=True)`` and ``close()`` wait for the engine, with
a timeout). Nothing here imports Qt. The thread and its loop are ``app.engine_thread``'s
``EngineThread``; the snapshot value and how it follows the core are ``app.assistant_snapshot``.

Subscribers (``subscribe(callback)``) receive every ``app.model.ModelEvent`` the conversation
core emits (``StateChanged``, ``TurnUpdated``, ``SpendChanged`` …) plus ``TranscriptReset`` at
each start and ``ModeChanged``/``CameraChanged`` for changes made while idle, ON THE ENGINE
THREAD (or the caller's thread while idle). ``snapshot()`` is already updated when they run.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace

from app import core_budget, effects
from app.assistant_snapshot import AssistantSnapshot, after_event, first_snapshot
from app.conversation import Conversation
from app.core import Backend, ConversationCore
from app.day_spend import DaySpend
from app.engine_thread import EngineThread
from app.frames import FrameFeed, SentFrame
from app.model import (
    CameraChanged,
    Meters,
    ModeChanged,
    ModelEvent,
    ModelListener,
    TranscriptReset,
)
from app.modes import ConversationOptions, Mode
from app.ports import AudioPort, ConnectSpec, RecorderPort
from app.pricing import CostMeter, PriceTable
from app.subscribers import Subscribers
from realtime.budget import Limits
from video.frame import Frame

__all__ = ["Assistant", "AssistantSnapshot"]


class Assistant:
    """Orchestrates one conversation at a time. See the module docstring for the threads."""

    def __init__(
        self,
        spec: ConnectSpec | None = None,
        audio: AudioPort | None = None,
        frames: FrameFeed | None = None,
        options: ConversationOptions | None = None,
        *,
        recorder: RecorderPort | None = None,
        prices: PriceTable | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        budget: Limits | None = None,
        day_spend: DaySpend | None = None,
    ) -> None:
        """``budget``: the spend limits (``app.day_spend.budget_limits``; default none);
        ``day_spend``: today's total, read at each start and added to after each response."""
        self._spec = spec
        self._audio = audio
        self._frames = frames
        self._options = options or ConversationOptions()
        self._recorder = recorder
        self._prices = prices
        self._clock = clock
        self._budget = budget or Limits()
        self._day_spend = day_spend
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._subscribers = Subscribers()
        self._engine = EngineThread()
        self._conv: Conversation | None = None
        self._run_future: Future[None] | None = None
        self._mode = self._options.mode
        self._paused = False
        self._snap = AssistantSnapshot(
            mode=self._mode,
            camera_on=frames is not None and frames.enabled,
            backend=spec.name if spec else "",
            model=spec.model if spec else "",
        )

    # ------------------------------------------------------------------ engine thread
    @property
    def _loop(self) -> asyncio.AbstractEventLoop | None:
        """The engine loop once started (tests watch it for crashes), else None."""
        return self._engine.started_loop

    @property
    def on_engine_thread(self) -> bool:
        return self._engine.is_current

    # ------------------------------------------------------------------ configuration (idle)
    def configure(
        self,
        spec: ConnectSpec | None = None,
        audio: AudioPort | None = None,
        frames: FrameFeed | None = None,
        options: ConversationOptions | None = None,
        recorder: RecorderPort | None = None,
        budget: Limits | None = None,
        day_spend: DaySpend | None = None,
    ) -> None:
        """Replace parts before the next ``start()``. Raises RuntimeError while connected
        (the budget alone may change while connected: ``set_budget``)."""
        if self._run_future is not None and not self._run_future.done():
            raise RuntimeError("stop the conversation before changing backend, devices or options")
        if spec is not None:
            self._spec = spec
        if audio is not None:
            self._audio = audio
        if frames is not None:
            self._frames = frames
        if options is not None:
            self._options = options
            self._mode = options.mode
        if recorder is not None:
            self._recorder = recorder
        if budget is not None:
            self._budget = budget
        if day_spend is not None:
            self._day_spend = day_spend

    @property
    def spec(self) -> ConnectSpec | None:
        return self._spec

    # ------------------------------------------------------------------ public API (any thread)
    def start(self) -> None:
        """Start a conversation (connect). No-op while one is running."""
        if self._spec is None:
            raise RuntimeError("no backend configured: call configure(spec=...) first")
        if self._run_future is not None and not self._run_future.done():
            return
        loop = self._engine.loop()
        spec = self._spec
        prices = self._prices or PriceTable.load()
        cost = CostMeter(prices, spec.model, free=spec.free)
        backend = Backend(
            name=spec.name,
            provider=spec.provider,
            model=spec.model,
            input_rate_hz=spec.input_rate_hz,
            voice=spec.voice,
            session_cap_s=spec.session_cap_s,
        )
        options = replace(self._options, mode=self._mode)
        day = self._day_spend
        meter = core_budget.new_meter(
            cost, spec.provider, self._budget, day.today_usd() if day is not None else 0.0
        )
        core = ConversationCore(
            backend, options, cost, has_player=self._audio is not None, budget=meter
        )
        conv = Conversation(
            spec,
            core,
            self._audio,
            self._frames,
            publish=self._publish,
            recorder=self._recorder,
            clock=self._clock,
            day_spend=day,
        )
        conv.sending_paused = self._paused
        self._conv = conv
        with self._lock:
            self._snap = first_snapshot(
                core,
                mode=self._mode,
                camera_on=self._frames is not None and self._frames.enabled,
                backend=spec.name,
                model=spec.model,
                free=spec.free,
            )
        self._deliver(TranscriptReset())
        self._run_future = asyncio.run_coroutine_threadsafe(conv.run(), loop)
        problem = day.take_problem() if day is not None else ""
        if problem:  # a damaged daily total: said, not hidden
            self._feed(effects.DaySpendProblem(problem))

    def stop(self, wait: bool = True, timeout_s: float = 10.0) -> None:
        """End the conversation (clean close). ``wait``: block until it has ended."""
        conv, fut = self._conv, self._run_future
        if conv is None or fut is None or fut.done():
            return
        self._engine.submit(conv.stop)
        if wait and not self.on_engine_thread:
            with contextlib.suppress(Exception):
                fut.result(timeout_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop and end the engine thread. The assistant cannot be used afterwards."""
        self.stop(wait=True, timeout_s=timeout_s)
        self._engine.close(timeout_s)

    def push_to_talk(self, pressed: bool) -> None:
        """Talk control pressed/released (push-to-talk holds; toggle flips on press)."""
        self._feed(effects.Talk(pressed))

    def set_mode(self, mode: Mode | str) -> None:
        mode = Mode(mode)
        self._mode = mode
        if not self.running():
            with self._lock:
                self._snap = replace(self._snap, mode=mode)
            self._deliver(ModeChanged(mode))
            return
        self._feed(effects.SetMode(mode))

    def mute(self, on: bool = True) -> None:
        if not self.running():
            self.set_mode(Mode.MUTE if on else self._options.mode)
            return
        self._feed(effects.Mute(on))

    def pause_sending(self, on: bool) -> None:
        """The privacy pause: while on, no microphone audio and no frame leaves the machine
        (typed messages still do). Takes effect at once, from any thread: the engine checks it
        before each audio block and again before each send, so at most the block being
        handed over when it is called is still sent. Kept for the next conversation too."""
        self._paused = on
        conv = self._conv
        if conv is not None:
            conv.sending_paused = on

    @property
    def sending_paused(self) -> bool:
        return self._paused

    def set_camera(self, on: bool) -> None:
        """Camera (or screen) on/off; off stops the source: no old frame is sent or shown."""
        frames = self._frames
        if frames is None:
            return

        def apply() -> None:
            frames.set_enabled(on)
            with self._lock:
                self._snap = replace(self._snap, camera_on=on)
            self._deliver(CameraChanged(on))

        running = self._run_future is not None and not self._run_future.done()
        if running:
            loop = self._engine.loop()
            loop.call_soon_threadsafe(lambda: loop.run_in_executor(None, apply))
        else:
            frames.enabled = on
            with self._lock:
                self._snap = replace(self._snap, camera_on=on)

    def set_budget(self, limits: Limits) -> None:
        """New spend limits: for the next conversation, and at once for the running one
        (raising a reached limit lets audio and frames go again)."""
        self._budget = limits
        self._feed(effects.SetBudget(limits))

    def look_at_this(self) -> None:
        """Send a high-detail snapshot of the camera with the next question."""
        self._feed(effects.LookAtThis())

    def send_text(self, text: str) -> None:
        """A typed message in the same conversation (interrupts a reply being played)."""
        self._feed(effects.TypeText(text))

    def snapshot(self) -> AssistantSnapshot:
        with self._lock:
            return self._snap

    def meters(self) -> Meters | None:
        """Latest audio meters (the audio engine's ``Meters``) or None; cheap."""
        conv = self._conv
        return None if conv is None else conv.last_meters

    def preview_frame(self) -> Frame | None:
        """Newest camera frame (``video.frame.Frame``: BGR ndarray, t_ns, seq) or None."""
        return None if self._frames is None else self._frames.preview()

    def sent_frames(self) -> tuple[SentFrame, ...]:
        return () if self._frames is None else self._frames.sent_frames()

    def subscribe(self, listener: ModelListener) -> None:
        """Call ``listener(event)`` for every ``ModelEvent`` (see the module docstring)."""
        self._subscribers.subscribe(listener)

    def unsubscribe(self, listener: ModelListener) -> None:
        self._subscribers.unsubscribe(listener)

    def wait_for(
        self, predicate: Callable[[AssistantSnapshot], bool], timeout_s: float
    ) -> AssistantSnapshot | None:
        """Block (not on the engine thread) until ``predicate(snapshot())``; None on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not predicate(self._snap):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.5))
            return self._snap

    def running(self) -> bool:
        return self._run_future is not None and not self._run_future.done()

    # ------------------------------------------------------------------ internals
    def _feed(self, item: effects.Intent) -> None:
        """Hand a user intent to the running conversation's core (engine thread)."""
        conv = self._conv
        if conv is None or not self.running():
            return
        self._engine.submit(lambda: conv.feed(item))

    def _publish(self, event: ModelEvent) -> None:
        """Called by the conversation (engine thread) for each change the core reports."""
        conv = self._conv
        if conv is None:
            return
        with self._cond:
            self._snap = after_event(self._snap, conv.core, event, self.sent_frames())
            self._cond.notify_all()
        self._deliver(event)

    def _deliver(self, event: ModelEvent) -> None:
        self._subscribers.publish(event)
