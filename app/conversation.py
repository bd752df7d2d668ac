"""The engine-thread front end of ``app.core.ConversationCore``: the I/O around the pure core.

Wiring: microphone (``AudioPort``: capture → echo cancellation → VAD) → core → session; frames
(``FrameFeed``) → core → session; session events → core → player, recorder; every change → the
model's subscribers (``publish``). All decisions (barge-in, truncation, modes, turns, latency)
are the core's; this class only moves data and performs the core's effects, in order.

Threads: ``app.assistant.Assistant`` owns the engine thread (one asyncio loop) and the public,
thread-safe API; this class is NOT thread-safe: every method runs on the engine loop.
Blocking steps (starting the audio device, the camera, the offline server) run in the loop's
executor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from app.core import ConversationCore
from app.day_spend import DaySpend
from app.day_spend_effect import perform_add_day_spend
from app.effects import (
    AddDaySpend,
    BackendCrashed,
    CameraProblem,
    ClearPlayback,
    ConnectFailed,
    Connecting,
    Effect,
    Ended,
    EndPlaybackItem,
    FrameReady,
    Input,
    LoadingProgress,
    MarkSpeech,
    Play,
    PlaybackCleared,
    PlayerReport,
    PollFrame,
    PressTalk,
    Record,
    RequestSnapshot,
    Send,
    SetAudioMode,
    StartInput,
    StopRequested,
    Tick,
)
from app.frames import FrameFeed
from app.model import Loading, Meters, ModelEvent
from app.played_audio import PlayedAudio
from app.ports import (
    AudioPort,
    ConnectSpec,
    PacedAudio,
    RecorderPort,
    SessionPort,
    WaitsForSession,
)
from app.recording import perform_record
from app.state import ConversationState as S
from app.transcript import TranscriptHistory
from app.until_stopped import unless_stopped
from audio.events import Backchannel, BargeIn, MicAudio, VoiceStarted
from realtime.events import (
    AppendAudio,
    AppendImage,
    Closed,
    ProtocolViolation,
    Reconnecting,
    ServerError,
)

log = logging.getLogger(__name__)
#: What the microphone says; dropped while sending is paused (device events still count, and
#: so does the end of speech: a turn in progress when the pause came ends with what was sent).
_MIC_EVENTS = (MicAudio, VoiceStarted, BargeIn, Backchannel)

#: Audio pump period: the core's ``Tick``, and the microphone drain unless the audio port asks
#: for less (``PacedAudio``: the engine batches two 10 ms blocks while no reply plays).
TICK_S = 0.01
#: A drain is due this much before its period is over (sleeps overshoot; a 20 ms period must
#: not become 30 ms).
_PERIOD_SLACK_S = 0.005
#: Frame pump period.
FRAME_TICK_S = 0.05


class Conversation:
    """Engine-thread conversation. Create, ``await run()``; feed intents with ``feed()``."""

    def __init__(
        self,
        spec: ConnectSpec,
        core: ConversationCore,
        audio: AudioPort | None,
        frames: FrameFeed | None,
        *,
        publish: Callable[[ModelEvent], None],
        recorder: RecorderPort | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        day_spend: DaySpend | None = None,
    ) -> None:
        """``day_spend``: today's total that each response's cost is added to (the spend
        limit's daily budget, ``app.day_spend``); None: not kept."""
        self.spec = spec
        self.core = core
        self.audio = audio
        self.frames = frames
        self.publish = publish
        self.recorder = recorder
        self.clock = clock
        self.day_spend = day_spend
        self.session: SessionPort | None = None
        self.last_meters: Meters | None = None
        self._stop = asyncio.Event()
        # Reply audio is recorded as the player reports it played (exact for cut-off replies).
        self._played_audio = PlayedAudio() if audio is not None else None
        self._recorder_failures: set[str] = set()
        #: The privacy pause (``Assistant.pause_sending``): set from any thread; while True no
        #: microphone audio and no frame is handed to the core or sent (checked per block and
        #: again at the socket).
        self.sending_paused = False

    # ------------------------------------------------------------------ feeding the core
    async def feed(self, item: Input) -> None:
        """Give ``item`` to the core (after a fresh ``PlayerReport``) and perform its effects."""
        now = self.clock()
        if self.audio is not None:
            await self._perform(self.core.handle(self._player_report(), now))
        await self._perform(self.core.handle(item, now))

    def _player_report(self) -> PlayerReport:
        audio = self.audio
        assert audio is not None
        watched = self.core.watched_items()
        audible = {i: t for i in watched if (t := audio.first_audible_ns(i)) is not None}
        return PlayerReport(playing=bool(audio.is_playing), first_audible_ns=audible)

    async def _perform(self, effects: list[Effect]) -> None:
        for effect in effects:
            try:
                await self._perform_one(effect)
            except Exception:  # one failed effect must not end the conversation
                log.exception("effect %s failed", type(effect).__name__)

    async def _perform_one(self, effect: Effect) -> None:
        audio, frames, rec = self.audio, self.frames, self.recorder
        if isinstance(effect, Send):
            if self.sending_paused and isinstance(effect.command, AppendAudio | AppendImage):
                return  # the block in flight when the pause came: not sent either
            if self.session is not None:
                try:
                    await self.session.send(effect.command)
                except Exception as exc:  # the event pump reports the close
                    log.debug("send %s failed: %s", type(effect.command).__name__, exc)
        elif isinstance(effect, Play):
            if audio is not None:
                audio.play(effect.item_id, effect.pcm16, effect.rate_hz)
            if self._played_audio is not None:
                self._played_audio.received(effect.item_id, effect.pcm16, effect.rate_hz)
            elif rec is not None:
                try:
                    rec.record_reply(
                        effect.item_id,
                        effect.pcm16,
                        effect.rate_hz,
                        effect.position_ms,
                        self.clock(),
                    )
                except Exception:
                    self._recorder_failed("record_reply")
        elif isinstance(effect, ClearPlayback):
            if audio is not None and not effect.done_by_engine:
                audio.clear_playback()
                item = effect.item_id
                await self._perform(
                    self.core.handle(
                        PlaybackCleared(item, audio.played_ms(item) if item else 0), self.clock()
                    )
                )
            if effect.item_id and self._played_audio is not None:
                self._played_audio.cut(effect.item_id)
                self._record_played()
        elif isinstance(effect, EndPlaybackItem):
            if audio is not None and not effect.cut:
                audio.end_item(effect.item_id)
            if self._played_audio is not None:
                self._played_audio.complete(effect.item_id)
        elif isinstance(effect, SetAudioMode):
            if audio is not None:
                audio.set_mode(effect.mode)
        elif isinstance(effect, PressTalk):
            if audio is not None:
                (audio.talk_press if effect.pressed else audio.talk_release)()
        elif isinstance(effect, StartInput):
            if isinstance(audio, WaitsForSession):
                audio.on_session_ready()
        elif isinstance(effect, MarkSpeech):
            if frames is not None:
                if effect.started:
                    frames.speech_started(effect.t_ns)
                else:
                    frames.speech_stopped(effect.t_ns)
        elif isinstance(effect, RequestSnapshot):
            if frames is not None:
                frames.request_snapshot(self.clock())
        elif isinstance(effect, PollFrame):
            await self._poll_frame()
        elif isinstance(effect, AddDaySpend):
            problem = perform_add_day_spend(self.day_spend, effect)  # on the loop, on purpose
            if problem is not None:
                await self._perform(self.core.handle(problem, self.clock()))
        elif isinstance(effect, Record):
            self._record(effect)
        else:
            self.publish(effect)

    def _record(self, effect: Record) -> None:
        """One recording effect. A recorder must not raise (``RecorderPort``); if one does
        anyway, the conversation goes on and the failure is logged once per kind."""
        rec = self.recorder
        if rec is None:
            return
        try:
            perform_record(rec, effect)
        except Exception:
            self._recorder_failed(type(effect).__name__)

    def _recorder_failed(self, what: str) -> None:
        if what not in self._recorder_failures:
            self._recorder_failures.add(what)
            log.exception("the recorder failed on %s (the conversation goes on)", what)

    def _record_played(self) -> None:
        """Hand the recorder the reply audio played since the last call."""
        if self._played_audio is None or self.audio is None or self.recorder is None:
            return
        try:
            played = self._played_audio.take(self.audio)
        except Exception as exc:  # a recording detail must not end the conversation
            log.warning("played audio not recorded: %s", exc)
            return
        try:
            for s in played:
                self.recorder.record_playback(s.item_id, s.pcm16, s.rate_hz, s.position_ms, s.t_ns)
        except Exception:
            self._recorder_failed("record_playback")

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Connect, then pump audio, frames and events until ``stop()`` or the end."""
        loop = asyncio.get_running_loop()
        await self.feed(Connecting())
        try:
            if self.audio is not None:
                self.audio.set_send_rate(self.spec.input_rate_hz)
                await loop.run_in_executor(None, self.audio.start)
                self.audio.set_mode(self.core.mode)
            if self.frames is not None:
                await loop.run_in_executor(None, self.frames.start)

            def progress(step: int, total: int, what: str) -> None:
                item = LoadingProgress(Loading(step, total, what))
                asyncio.run_coroutine_threadsafe(self.feed(item), loop)

            await loop.run_in_executor(None, self.spec.prepare, progress)
            await self.feed(LoadingProgress(Loading(1, 1, "ready")))
            history = TranscriptHistory(self.core.transcript)  # reconnects replay the same turns
            self.session = self.spec.make_session(self.recorder, history)
            connected = await unless_stopped(self._connect(self.session), self._stop)
            if connected is None:  # stopped while connecting: the handshake was cancelled
                await self._teardown()
                await self.feed(Ended())
                return
        except Exception as exc:  # connect errors carry a person-actionable message
            # said to the user through the state (the CLI's "error:" line, the window's status)
            log.info("connect failed: %s", exc)
            await self.feed(ConnectFailed(str(exc) or type(exc).__name__))
            await self._teardown()
            return
        pumps = [
            asyncio.ensure_future(self._pump_events()),
            asyncio.ensure_future(self._pump_audio()),
        ]
        if self.frames is not None:
            pumps.append(asyncio.ensure_future(self._pump_frames()))
        for pump in pumps:
            pump.add_done_callback(_report_pump_failure)
        stopper = asyncio.ensure_future(self._stop.wait())
        done, _ = await asyncio.wait([pumps[0], stopper], return_when=asyncio.FIRST_COMPLETED)
        if stopper in done and self.session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.session.close(), 5)
        for task in (*pumps, stopper):
            task.cancel()
        for task in (*pumps, stopper):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._teardown()
        await self.feed(Ended())

    async def _connect(self, session: SessionPort) -> bool:
        await session.connect(self.core.session_config())
        return True

    async def stop(self) -> None:
        """The user ends the conversation (the close that follows is not an error)."""
        await self.feed(StopRequested())
        self._stop.set()

    async def _teardown(self) -> None:
        if self.audio is not None:
            with contextlib.suppress(Exception):
                self.audio.clear_playback()
            self._record_played()
            with contextlib.suppress(Exception):
                self.audio.stop()
        if self.frames is not None:
            with contextlib.suppress(Exception):
                await asyncio.get_running_loop().run_in_executor(None, self.frames.stop)

    # ------------------------------------------------------------------ pumps
    async def _pump_events(self) -> None:
        assert self.session is not None
        async for ev in self.session.events():
            if isinstance(ev, ProtocolViolation):
                log.warning("protocol violation: %s", ev.reason)
            elif isinstance(ev, ServerError):
                log.info("server error %s: %s", ev.code, ev.message)  # the front ends say it
            elif isinstance(ev, Reconnecting):
                crash = self.spec.recent_crash()
                if crash:
                    await self.feed(BackendCrashed(crash))
            await self.feed(ev)
            if isinstance(ev, Closed):
                break

    async def _pump_audio(self) -> None:
        tick = 0
        loop = asyncio.get_running_loop()
        paced = self.audio if isinstance(self.audio, PacedAudio) else None
        last = -1.0
        while True:
            if self.audio is not None and (
                paced is None
                or loop.time() - last >= paced.process_period_ms / 1000 - _PERIOD_SLACK_S
            ):
                last = loop.time()
                for ev in self.audio.process():
                    if self.sending_paused and isinstance(ev, _MIC_EVENTS):
                        continue  # drained and dropped: nothing piles up to send on resume
                    await self.feed(ev)
            await self.feed(Tick())
            tick += 1
            if self.audio is not None and tick % 5 == 0:
                self._record_played()
                with contextlib.suppress(Exception):  # the GUI polls the latest value
                    self.last_meters = self.audio.meters()
            await asyncio.sleep(TICK_S)

    async def _pump_frames(self) -> None:
        while True:
            if self.core.ready:
                await self._poll_frame()
            await asyncio.sleep(FRAME_TICK_S)

    async def _poll_frame(self) -> None:
        frames = self.frames
        if frames is None or self.sending_paused:
            return
        for message in frames.error_messages():
            await self.feed(CameraProblem(message))
        try:
            if frames.redactor is not None:  # face blurring takes ~75 ms: not on this loop
                loop = asyncio.get_running_loop()
                sent = await loop.run_in_executor(None, frames.poll, self.clock())
            else:
                sent = frames.poll(self.clock())
        except Exception as exc:  # a bad frame must not end the conversation
            log.warning("frame not sent: %s", exc)
            return
        if sent is not None:
            await self.feed(FrameReady(sent))

    @property
    def state(self) -> S:
        return self.core.state


def _report_pump_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("conversation pump failed", exc_info=task.exception())
