"""One conversation's logic, run on the assistant's engine thread (one asyncio loop).

Wiring: microphone (``AudioPort``: capture → echo cancellation → VAD) → session; frames
(``FrameFeed``) → session; session events → player, transcript, latency, cost; typed text →
session. ``app.assistant.Assistant`` owns the thread and the public, thread-safe API; this class
is NOT thread-safe: every method runs on the engine loop.

Barge-in, local first (``_barge_in``): when the user's voice starts during playback the player is
cleared at once (``audio.clear_playback()``, or the audio engine already did it and reported
``BargeIn``), then for the OpenAI protocol (OpenAI, offline server, ws:// URLs) ``CancelResponse``
and ``Truncate(item_id, played_ms)`` with the position actually played; for Gemini nothing is
sent (it reports ``Interrupted`` itself). Audio still arriving for a cut item is dropped. A
server-reported interruption (``SpeechStarted`` from the provider's VAD, ``Interrupted``) flushes
playback the same way. Each item is truncated at most once and never at 0 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from app.frames import FrameFeed
from app.latency import LatencyTracker
from app.modes import ConversationOptions, Mode
from app.played_audio import PlayedAudio
from app.ports import AudioPort, ConnectSpec, SessionPort, audio_event_kind
from app.pricing import CostMeter
from app.server_events import ServerEvents
from app.state import ConversationState as S
from app.state import StateMachine
from app.transcript import Transcript
from dsp.vad import PreRoll
from realtime.events import (
    ActivityEnd,
    ActivityStart,
    AudioStreamEnd,
    CancelResponse,
    Closed,
    Command,
    SendText,
    ServerError,
    Truncate,
    UpdateSession,
)

log = logging.getLogger(__name__)

#: Called on every observable change: (kind, payload). Kinds: "state", "turn", "usage",
#: "time_left", "frame_sent", "notice", "turn_complete", "error_event".
Notify = Callable[[str, Any], None]

TICK_S = 0.01


class Conversation(ServerEvents):
    """Engine-thread conversation. Create, ``await run()``; control with the other methods."""

    def __init__(
        self,
        spec: ConnectSpec,
        audio: AudioPort | None,
        frames: FrameFeed | None,
        options: ConversationOptions,
        *,
        sm: StateMachine,
        transcript: Transcript,
        latency: LatencyTracker,
        cost: CostMeter,
        notify: Notify,
        recorder: Any = None,
        clock: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.spec = spec
        self.audio = audio
        self.frames = frames
        self.options = options
        self.sm = sm
        self.transcript = transcript
        self.latency = latency
        self.cost = cost
        self.notify = notify
        self.recorder = recorder
        self.clock = clock
        self.session: SessionPort | None = None
        self.mode: Mode = options.mode
        self._mode_before_mute: Mode = (
            options.mode if options.mode != Mode.MUTE else Mode.HANDS_FREE
        )
        self._stop = asyncio.Event()
        self._ready = False
        self._talking = False  # the mic is in an open turn (client VAD / push-to-talk / toggle)
        self._user_voice = False  # local VAD says the user is speaking
        self._preroll = PreRoll(options.preroll_ms, spec.input_rate_hz)
        self._response_active = False
        self._cancel_sent = False
        self._awaiting_drain = False
        self._drain_ticks = 0
        self._last_status = ""
        self._playing_item: str | None = None
        self._received_ms: dict[str, float] = {}
        # Reply audio is recorded as the player reports it played (exact for cut-off replies);
        # a port that cannot say what it played gets the audio recorded as received.
        self._played_audio = (
            PlayedAudio()
            if audio is not None
            and hasattr(audio, "played_ms")
            and hasattr(audio, "first_audible_ns")
            else None
        )
        self._cut_items: set[str] = set()
        self._truncated: set[str] = set()
        self._deadline_ns: int | None = None
        self.time_left_s: float | None = None
        self.completed_turns = 0
        self.last_complete_ns = 0
        self._cancel_sent = False
        self.server_errors: list[ServerError] = []
        self.closed: Closed | None = None
        self.notice = ""
        self.last_meters: Any = None

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Connect, then pump audio, frames and events until ``stop()`` or the end."""
        self._go(S.CONNECTING)
        try:
            if self.audio is not None:
                self.audio.set_send_rate(self.spec.input_rate_hz)
                await asyncio.get_running_loop().run_in_executor(None, self.audio.start)
                self._audio_mode()
            if self.frames is not None:
                await asyncio.get_running_loop().run_in_executor(None, self.frames.start)
            prepare = getattr(self.spec, "prepare", None)
            if prepare is not None:  # e.g. start the offline server (blocking: off the loop)
                loop = asyncio.get_running_loop()

                def progress(step: int, total: int, what: str) -> None:
                    loop.call_soon_threadsafe(self.notify, "loading", (step, total, what))

                await loop.run_in_executor(None, prepare, progress)
                self.notify("loading", (1, 1, "ready"))
            self.session = self.spec.make_session(self._wire_hook())
            config = self.options.session_config(self.spec.model)
            if self.spec.voice and not config.voice:
                from dataclasses import replace

                config = replace(config, voice=self.spec.voice)
            await self.session.connect(config)
        except Exception as exc:  # connect errors carry a person-actionable message
            log.warning("connect failed: %s", exc)
            self._go(S.ERROR, str(exc) or type(exc).__name__)
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
        if self._stop.is_set() or self.sm.state != S.ERROR:
            self._go(S.IDLE)

    def stop(self) -> None:
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

    def _record_played(self) -> None:
        """Hand the recorder the reply audio played since the last call (engine thread)."""
        if self._played_audio is None or self.audio is None:
            return
        try:
            played = self._played_audio.take(self.audio)
        except Exception as exc:  # a recording detail must not end the conversation
            log.warning("played audio not recorded: %s", exc)
            return
        for s in played:
            self._record("record_playback", s.item_id, s.pcm16, s.rate_hz, s.position_ms, s.t_ns)

    def _wire_hook(self) -> Any:
        return self.recorder if hasattr(self.recorder, "on_wire") else None

    def _record(self, method: str, *args: Any) -> None:
        fn = getattr(self.recorder, method, None)
        if fn is not None:
            try:
                fn(*args)
            except Exception:  # the recorder reports its own errors; never break the call
                log.exception("recorder.%s failed", method)

    def _go(self, state: S, message: str = "") -> None:
        if self.sm.state == state and state != S.ERROR:
            return
        if not self.sm.can(state):
            log.debug("ignored transition %s -> %s", self.sm.state, state)
            return
        self.sm.go(state, message)
        self.notify("state", (state, message))

    async def _send(self, cmd: Command) -> None:
        if self.session is None or not self._ready:
            return
        try:
            await self.session.send(cmd)
        except Exception as exc:  # the event pump reports the close; keep the pump alive
            log.debug("send %s failed: %s", type(cmd).__name__, exc)

    # ------------------------------------------------------------------ controls (engine thread)
    async def set_mode(self, mode: Mode) -> None:
        old = self.mode
        if mode == old:
            return
        if mode == Mode.MUTE:
            self._mode_before_mute = old
        if self._talking:
            await self._end_talk(self.clock())
        self.mode = mode
        self._audio_mode()
        if mode == Mode.MUTE and self._ready:
            await self._send(AudioStreamEnd())
        was_server = old == Mode.HANDS_FREE and self.options.turn_detection != "client"
        now_server = mode == Mode.HANDS_FREE and self.options.turn_detection != "client"
        if was_server != now_server and self._ready:
            from dataclasses import replace

            opts = replace(self.options, mode=mode)
            await self._send(UpdateSession(opts.session_config(self.spec.model)))
        self.notify("mode", mode)

    def _audio_mode(self) -> None:
        """Mirror the mode into the audio engine (its talk gate and its local barge-in)."""
        set_mode = getattr(self.audio, "set_mode", None)
        if set_mode is None:
            return
        from audio.config import TalkMode

        try:
            set_mode(TalkMode(self.mode.value))
        except Exception:
            log.exception("audio engine refused mode %s", self.mode)

    def _audio_talk(self, pressed: bool) -> None:
        fn = getattr(self.audio, "talk_press" if pressed else "talk_release", None)
        if fn is not None:
            fn()

    async def mute(self, on: bool) -> None:
        await self.set_mode(Mode.MUTE if on else self._mode_before_mute)

    async def push_to_talk(self, pressed: bool) -> None:
        """Hold-to-talk (``push_to_talk`` mode) or a press of the toggle (``toggle`` mode)."""
        now = self.clock()
        if self.mode in (Mode.PUSH_TO_TALK, Mode.TOGGLE):
            self._audio_talk(pressed)
        if self.mode == Mode.PUSH_TO_TALK:
            if pressed and not self._talking:
                await self._start_talk(now)
            elif not pressed and self._talking:
                await self._end_talk(now)
        elif self.mode == Mode.TOGGLE and pressed:
            if self._talking:
                await self._end_talk(now)
            else:
                await self._start_talk(now)

    async def send_text(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if self._is_playing() or self._response_active:
            await self._barge_in(reason="text")
        now = self.clock()
        if self.frames is not None:  # a typed question gets a fresh frame too, sent first
            self.frames.speech_started(now)
            await self._frame_tick()
            self.frames.speech_stopped(now)
        self.transcript.user_typed(text)
        self._record("record_user_text", text, now)
        self._turn_changed("user", "")
        self.latency.speech_ended(now)
        self.latency.committed(now)
        await self._send(SendText(text=text, respond=True))
        self._go(S.THINKING)

    async def snapshot_frame(self) -> None:
        if self.frames is not None:
            self.frames.request_snapshot(self.clock())
            await self._frame_tick()

    # ------------------------------------------------------------------ mic turns
    async def _start_talk(self, t_ns: int) -> None:
        if self._is_playing() or self._response_active:
            await self._barge_in(reason="talk")
        self._talking = True
        self.transcript.user_started()
        self._turn_changed("user", "")
        await self._send(ActivityStart())
        pre = self._preroll.drain()
        if pre and self.options.client_vad_turns:
            await self._send(self._append(pre))
        self._go(S.USER_SPEAKING)
        if self.frames is not None:
            self.frames.speech_started(t_ns)
            await self._frame_tick()

    async def _end_talk(self, t_ns: int) -> None:
        self._talking = False
        self._record("on_user_speech_end", t_ns)
        if self.frames is not None:
            self.frames.speech_stopped(t_ns)
        self.latency.speech_ended(t_ns)
        await self._send(ActivityEnd())
        self.latency.committed(self.clock())
        self._go(S.THINKING)

    def _append(self, pcm: bytes) -> Command:
        from realtime.events import AppendAudio

        return AppendAudio(pcm=pcm, rate_hz=self.spec.input_rate_hz)

    def _mic_open(self) -> bool:
        if self.mode == Mode.MUTE:
            return False
        if self.mode == Mode.HANDS_FREE and not self.options.client_vad_turns:
            return True  # the provider's VAD listens to everything
        return self._talking

    # ------------------------------------------------------------------ audio pump
    async def _pump_audio(self) -> None:
        tick = 0
        while True:
            if self.audio is not None:
                for ev in self.audio.process():
                    await self._on_audio(ev)
                self._check_playback()
                tick += 1
                if tick % 5 == 0:
                    self._record_played()
                if tick % 5 == 0:  # the GUI polls the latest value; no event per block
                    with contextlib.suppress(Exception):
                        self.last_meters = self.audio.meters()
            if tick % 100 == 0:
                self._update_time_left(self.clock())
            await asyncio.sleep(TICK_S)

    async def _on_audio(self, ev: Any) -> None:
        kind = audio_event_kind(ev) or type(ev).__name__
        if kind == "MicAudio":
            self._record("record_mic", ev.t_ns, ev.pcm16_16k, 16000)
            if not self._ready:
                return
            if self._mic_open():
                await self._send(self._append(ev.pcm16_send))
            elif self.mode != Mode.MUTE:
                self._preroll.push(ev.pcm16_send)
        elif kind == "VoiceStarted":
            self._user_voice = True
            if self.mode == Mode.MUTE or not self._ready:
                return  # (a voice still going on when the session gets ready opens a turn then)
            if self.mode == Mode.HANDS_FREE:
                if self._is_playing():
                    await self._barge_in(reason="voice")
                if self.options.client_vad_turns and not self._talking:
                    await self._start_talk(ev.t_ns)
                elif not self.options.client_vad_turns and self.frames is not None:
                    self.frames.speech_started(ev.t_ns)
        elif kind == "VoiceStopped":
            self._user_voice = False
            if self.options.client_vad_turns and self.mode == Mode.HANDS_FREE and self._talking:
                await self._end_talk(ev.t_ns)
            elif self.mode == Mode.HANDS_FREE and self._ready:
                self.latency.speech_ended(ev.t_ns)
                self._record("on_user_speech_end", ev.t_ns)
                if self.frames is not None:
                    self.frames.speech_stopped(ev.t_ns)
        elif kind == "BargeIn":
            # The engine already cleared playback in the same process() call.
            await self._barge_in(reason="engine", item_id=ev.item_id, played_ms=ev.played_ms)
        elif kind == "AudioDeviceError":
            self.notice = getattr(ev, "message", str(ev))
            self.notify("notice", self.notice)
        elif kind in ("DeviceRecovered", "StreamOpened"):
            if self.notice:
                self.notice = ""
                self.notify("notice", "")
        elif kind == "DeviceWarning":
            self.notice = ev.message
            self.notify("notice", self.notice)

    def _is_playing(self) -> bool:
        return self.audio is not None and bool(self.audio.is_playing)

    def _check_playback(self) -> None:
        """Latency's audible mark; the end of the reply once the response is done and drained."""
        assert self.audio is not None
        item = self.latency.waiting_for_audible
        if item:
            t = self.audio.first_audible_ns(item)
            if t is not None:
                self.latency.audible(t)
                self._annotate_latency(item)
        if self._awaiting_drain:
            if self.audio.is_playing:
                self._drain_ticks = 0
            else:
                self._drain_ticks += 1
                if self._drain_ticks >= 2:
                    self._reply_finished()

    def _reply_finished(self) -> None:
        self._awaiting_drain = False
        self._playing_item = None
        item = self.latency.waiting_for_audible
        if item and self.audio is not None:
            self.latency.audible(self.audio.first_audible_ns(item))
            self._annotate_latency(item)
        if self._last_status == "completed":
            self.completed_turns += 1
            self.last_complete_ns = self.clock()
            self.notify("turn_complete", self.completed_turns)
        if self.sm.state in (S.ASSISTANT_SPEAKING, S.THINKING):
            self._go(S.USER_SPEAKING if self._talking else S.LISTENING)

    # ------------------------------------------------------------------ barge-in
    async def _barge_in(
        self, reason: str, item_id: str | None = None, played_ms: int | None = None
    ) -> None:
        """Stop the reply now; tell the server what was heard (see module docstring)."""
        item = item_id or self._playing_item
        if self.audio is not None and reason != "engine":
            self.audio.clear_playback()
        if item and played_ms is None and self.audio is not None:
            played_ms = self.audio.played_ms(item)
        if item:
            self._cut_items.add(item)
            if self._played_audio is not None:
                self._played_audio.cut(item)
                self._record_played()
        log.info("barge-in (%s) on %s at %s ms", reason, item, played_ms)
        self._record("record_mark", self.clock(), "barge_in", f"{reason} {item} {played_ms}")
        if self.spec.provider != "gemini":
            if self._response_active and not self._cancel_sent:
                self._cancel_sent = True
                await self._send(CancelResponse())
            if item and item not in self._truncated and (played_ms or 0) > 0:
                self._truncated.add(item)
                await self._send(Truncate(item_id=item, played_ms=int(played_ms or 0)))
        if item:
            received = round(self._received_ms.get(item, 0.0))
            self.transcript.assistant_interrupted(item, int(played_ms or 0), received)
            self._turn_changed("assistant", item)
        self._awaiting_drain = False
        self._playing_item = None
        if self.sm.state in (S.ASSISTANT_SPEAKING, S.THINKING):
            self._go(S.USER_SPEAKING if self._user_voice or self._talking else S.LISTENING)

    # ------------------------------------------------------------------ frames
    async def _pump_frames(self) -> None:
        while True:
            await self._frame_tick()
            await asyncio.sleep(0.05)

    async def _frame_tick(self) -> None:
        if self.frames is None or not self._ready:
            return
        for message in self.frames.error_messages():
            self.notice = message
            self.notify("notice", message)
        try:
            sent = self.frames.poll(self.clock())
        except Exception as exc:  # a bad frame must not end the conversation
            log.warning("frame not sent: %s", exc)
            return
        if sent is None:
            return
        from realtime.events import AppendImage

        await self._send(AppendImage(jpeg=sent.jpeg, detail=sent.detail))
        self._record("record_frame", sent.sent_ns, sent.jpeg, True, str(sent.reason))
        self.notify("frame_sent", sent)


def _report_pump_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("conversation pump failed", exc_info=task.exception())
