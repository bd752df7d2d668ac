"""``AudioEngine``: the facade the app uses for microphone, voice detection, echo cancellation
and reply playback.

Threads (every public method names its own):

* **any thread**: ``start()``, ``stop()``, ``meters()``, ``info``.
* **engine thread** (the app's asyncio thread; one thread only): ``process()`` at the cadence
  ``process_period_ms`` asks for (one block, 10 ms, while a reply plays or a pause is pending;
  ``config.listen_period_ms``, 20 ms, while only listening), ``play()``, ``end_item()``,
  ``clear_playback()``, ``played_ms()``, ``first_audible_ns()``, ``is_playing``,
  ``set_send_rate()``, ``set_mode()``, ``talk_press()``, ``talk_release()``, ``set_volume()``.
* **PortAudio callback**: ``audio.duplex.DuplexIO.callback`` (copies only).
* **device retry thread** (internal): reopens the stream after a device failure.

``process()`` installs a (re)opened stream, watches the device, and hands every block captured
since the last call to ``audio.capture.Capture`` as one batch (the device blocks stay 10 ms; a
batch of two gives the same events, at most one block later): echo cancellation (mic block against
exactly the block the speaker got) → streaming resampling (device → 16 kHz, device → send rate) →
voice detection (16 kHz) → talk gate (mode) → barge-in → levels. With ``judge_interruptions`` (the
app's default), the reply is ducked on a voice onset and ``audio.interruptions`` decides:
``BargeIn`` for a real interruption, ``Backchannel`` for a nod-along (its audio never reaches the
backend as speech, ``audio.mic_hold``). With ``end_of_turn`` (client turn detection) a hands-free
turn ends when ``audio.client_turns`` says so: after a short silence the turn model judges
complete, or at the cap for the eagerness through a hesitation. It never raises for device trouble:
a lost or unopenable device becomes an ``AudioDeviceError`` event, the engine keeps running, a
background thread retries every ``retry_interval_ms`` (re-resolving device names) and
``DeviceRecovered`` follows when it works again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from audio.capture import Capture
from audio.client_turns import VAD_STOP_MS, ClientTurnEnd
from audio.config import AudioConfig, TalkMode
from audio.devices import DeviceBackend, SoundDeviceBackend
from audio.duplex import StreamFactory, StreamLike, sounddevice_factory
from audio.errors import AudioConfigError, AudioDeviceError
from audio.events import (
    AudioEvent,
    AudioHealthChanged,
    DeviceRecovered,
    DeviceWarning,
    StreamInfo,
    StreamOpened,
)
from audio.interruptions import InterruptionMonitor, TranscriberLike
from audio.meters import Meters, VadLike
from audio.modes import TalkGate
from audio.opener import Pipeline, close_quietly, open_pipeline
from audio.player import Player
from audio.recovery import start_retry
from audio.watchdog import HealthState, StreamCounters, StreamWatchdog, Verdict
from dsp.vad import StreamingVad, threshold_for_sensitivity

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_MS = 5000  # first callback of a new stream


class AudioEngine:
    """Duplex audio with AEC, VAD, talk modes, jitter-buffered playback and device recovery."""

    def __init__(
        self,
        config: AudioConfig,
        stream_factory: StreamFactory | None = None,
        *,
        device_backend: DeviceBackend | None = None,
        vad_factory: Callable[[], VadLike] | None = None,
        clock: Callable[[], int] = time.monotonic_ns,
        judge_interruptions: bool = False,
        transcriber: TranscriberLike | None = None,
        end_of_turn: ClientTurnEnd | None = None,
    ) -> None:
        """``end_of_turn``: hands-free turns end by ``audio.client_turns`` (the turn model after a
        short silence) instead of after ``config.vad_stop_ms`` of silence; the VAD then runs
        with the short stop delay ``VAD_STOP_MS``."""
        self.config = config
        self._real = stream_factory is None
        self._factory: StreamFactory = stream_factory or sounddevice_factory
        self._backend = device_backend or (SoundDeviceBackend() if self._real else None)
        self._clock = clock
        vad: VadLike = (
            vad_factory()
            if vad_factory is not None
            else StreamingVad(
                threshold=threshold_for_sensitivity(config.vad_sensitivity),
                min_speech_ms=config.vad_min_speech_ms,
                # the stop delay counts from the end of voice to VoiceStopped: Silero decides in
                # 32 ms windows, so take one window off to keep the total within the setting
                min_silence_ms=VAD_STOP_MS
                if end_of_turn is not None
                else max(100, config.vad_stop_ms - 32),
            )
        )
        monitors = (
            (lambda rate, player: InterruptionMonitor(rate, player, transcriber))
            if judge_interruptions and config.barge_in
            else None
        )
        self._capture = Capture(
            config,
            vad,
            TalkGate(config.mode, config.send_only_speech),
            clock,
            monitors,
            end_of_turn,
        )
        self._volume = config.volume
        self._events: deque[AudioEvent] = deque()  # appended by any thread, drained by process()
        self._pending: tuple[Pipeline, bool] | None = None  # set by start()/retry thread
        self._pipe: Pipeline | None = None
        self._retired: deque[Player] = deque(maxlen=4)
        self._stop = threading.Event()
        self._retry: threading.Thread | None = None
        self._lock = threading.Lock()  # start/stop/retry bookkeeping only (never the callback)
        self._meters = Meters(aec_enabled=config.aec_enabled)
        self._metered: Pipeline | None = None  # the stream meters() reads (None: keep the last)
        self._info: StreamInfo | None = None
        self._watchdog: StreamWatchdog | None = None
        self._struggling = False

    # ================================================================== any thread
    def start(self) -> None:
        """Open the stream (any thread; blocks while PortAudio opens). Never raises for devices:
        a failure is reported by the next ``process()`` and retried in the background."""
        with self._lock:
            if self._pipe is not None or self._pending is not None or self._retrying():
                return
            self._stop.clear()
        if self._capture.turns is not None:
            self._capture.turns.warm()  # load the turn model on its worker meanwhile
        try:
            pipe = open_pipeline(
                self.config, self._factory, self._backend, self._clock, self._volume
            )
        except AudioDeviceError as exc:
            log.info("%s", exc.message)  # said once, by the event
            self._events.append(exc)
            self._start_retry(None)
            return
        self._pending = (pipe, False)

    def stop(self) -> None:
        """Close the stream and stop retrying (any thread; idempotent)."""
        self._stop.set()
        t = self._retry
        if t is not None:
            t.join(timeout=5.0)
        with self._lock:
            pipes = [p for p in (self._pipe, self._pending[0] if self._pending else None) if p]
            self._pipe = None
            self._pending = None
        for p in pipes:
            close_quietly(p.stream)
        if self._capture.turns is not None:
            self._capture.turns.close()

    def meters(self) -> Meters:
        """Latest meter snapshot (any thread). Made when asked (the app asks every 50 ms, the
        engine runs every 10–20 ms) from plain values the engine thread writes: at most one batch
        stale, like a snapshot made by every ``process()``."""
        pipe = self._metered
        if pipe is not None:
            self._meters = self._capture.meters(pipe)
        return self._meters

    @property
    def info(self) -> StreamInfo | None:
        """The open stream's negotiated rate, devices and latencies (None while closed)."""
        return self._info

    # ================================================================== engine thread
    def process(self) -> list[AudioEvent]:
        """Engine thread, every ``process_period_ms``: drain captured audio; return events in
        time order."""
        events: list[AudioEvent] = []
        while self._events:
            events.append(self._events.popleft())
        pending = self._pending
        if pending is not None:
            self._pending = None
            events.extend(self._install(*pending))
        pipe = self._pipe
        if pipe is None:
            return events
        now = self._clock()
        io = pipe.io
        wd = self._watchdog
        assert wd is not None
        # starvation (the whole process was late) is not a lost device: audio.watchdog
        verdict = wd.check(
            now,
            StreamCounters(
                io.callbacks,
                io.last_callback_ns,
                io.output_underflows + io.input_overflows + io.ring.dropped,
                active=bool(pipe.stream.active),
                finished=io.finished,
            ),
        )
        if verdict.lost:
            events.extend(self._lose(pipe, now, verdict))
            return events
        health = wd.health()
        struggling = health.state is HealthState.STRUGGLING
        if struggling != self._struggling:
            self._struggling = struggling
            events.append(AudioHealthChanged(struggling, health.text if struggling else ""))
        events.extend(self._capture.drain(pipe))
        self._metered = pipe
        return events

    @property
    def process_period_ms(self) -> int:
        """Engine thread: the longest the caller should wait before the next ``process()``: one
        device block while a duck or clear may be due (``Capture.duck_due``: a reply plays, a
        pause or the judge is pending), else ``config.listen_period_ms`` (20 ms; a voice start or
        stop comes at most that much later, and the CPU cost drops: issue 16 item 4)."""
        pipe, block = self._pipe, self.config.block_ms
        if pipe is not None and self._capture.duck_due(pipe.player):
            return block
        return max(block, self.config.listen_period_ms)

    def play(self, item_id: str, pcm16: bytes, rate_hz: int) -> None:
        """Engine thread: queue reply audio (PCM16 mono at ``rate_hz``) for playback.

        Dropped when no device is open (an ``AudioDeviceError`` was reported)."""
        pipe = self._pipe
        if pipe is not None and pcm16:
            pipe.player.play(item_id, pcm16, rate_hz, self._clock())

    @property
    def interruptions(self) -> InterruptionMonitor | None:
        """Engine thread: the duck-and-judge monitor of the open stream (None: not judging)."""
        return self._capture.monitor

    def end_item(self, item_id: str) -> None:
        """Engine thread: all audio of ``item_id`` has been queued (provider audio-done)."""
        pipe = self._pipe
        if pipe is not None:
            pipe.player.end_item(item_id, self._clock())

    def clear_playback(self) -> None:
        """Engine thread: silence playback from the next callback on (barge-in, interruption)."""
        pipe = self._pipe
        if pipe is not None:
            pipe.player.clear()
        if self._capture.monitor is not None:  # nothing left to judge: full gain, no decision
            self._capture.monitor.reset()

    def played_ms(self, item_id: str) -> int:
        """Engine thread: ms of ``item_id`` that reached the device (underruns excluded).

        Counted when a block is handed to PortAudio; never more than the audio received."""
        for player in self._players():
            ms = player.played_ms(item_id)
            if ms:
                return ms
        return 0

    def first_audible_ns(self, item_id: str) -> int | None:
        """Engine thread: estimated monotonic time the first sample of ``item_id`` hit the DAC."""
        for player in self._players():
            t = player.first_audible_ns(item_id)
            if t is not None:
                return t
        return None

    @property
    def is_playing(self) -> bool:
        """Engine thread: reply audio is queued or playing."""
        pipe = self._pipe
        return pipe is not None and pipe.player.is_playing

    @property
    def current_item(self) -> str | None:
        """Engine thread: the item playing now (or next), if any."""
        pipe = self._pipe
        return pipe.player.jitter.current_item if pipe is not None else None

    def set_send_rate(self, hz: int) -> None:
        """Engine thread: rate of ``MicAudio.pcm16_send`` (24000 OpenAI, 16000 Gemini)."""
        if hz not in (16000, 24000):
            raise AudioConfigError(f"send rate {hz} Hz: the backends take 16000 or 24000")
        self._capture.set_send_rate(hz, stream_open=self._pipe is not None)

    def set_volume(self, volume: float) -> None:
        """Engine thread: playback gain 0.0 … 4.0 (applies from the next block)."""
        self._volume = min(4.0, max(0.0, volume))
        pipe = self._pipe
        if pipe is not None:
            pipe.player.volume = self._volume

    def set_mode(self, mode: TalkMode) -> None:
        """Engine thread: switch talk mode; ends a running turn (``VoiceStopped``)."""
        cap = self._capture
        self._events.extend(cap.gate.set_mode(mode, self._clock(), cap.pos16))
        if cap.turns is not None and not cap.gate.talking:
            cap.turns.cancel()

    @property
    def mode(self) -> TalkMode:
        return self._capture.gate.mode

    def talk_press(self) -> None:
        """Engine thread: talk key down (push-to-talk start / toggle flip)."""
        cap, pipe = self._capture, self._pipe
        events = cap.gate.press(self._clock(), cap.pos16)
        self._events.extend(cap.with_barge_in(events, pipe.player if pipe else None))

    def talk_release(self) -> None:
        """Engine thread: talk key up (push-to-talk stop)."""
        cap = self._capture
        self._events.extend(cap.gate.release(self._clock(), cap.pos16))

    # ================================================================== internals
    def _players(self) -> list[Player]:
        players = [self._pipe.player] if self._pipe is not None else []
        return players + list(reversed(self._retired))

    # ------------------------------------------------------------------ opening / recovery
    def _install(self, pipe: Pipeline, recovered: bool) -> list[AudioEvent]:
        self._pipe = pipe
        self._info = pipe.info
        self._watchdog = StreamWatchdog(
            pipe.opened_ns,
            timeout_ms=self.config.device_timeout_ms,
            startup_timeout_ms=STARTUP_TIMEOUT_MS,
        )
        self._struggling = False
        self._capture.reset(pipe.info.sample_rate)
        # Opened (and recovered) first: they clear an earlier notice, and this stream's own
        # warnings (a device that fell back to the default) must stay on screen after them.
        events: list[AudioEvent] = [StreamOpened(pipe.info)]
        if recovered:
            events.append(DeviceRecovered(pipe.info))
        events += [DeviceWarning(w) for w in pipe.info.warnings]
        if not pipe.info.aec_enabled:
            events.append(
                DeviceWarning("echo cancellation is off (headphones): use headphones to avoid echo")
            )
        return events

    def _lose(self, pipe: Pipeline, now: int, verdict: Verdict) -> list[AudioEvent]:
        if self._metered is pipe:  # the last figures of the lost stream stay on show
            self._meters = self._capture.meters(pipe)
            self._metered = None
        self._pipe = None
        self._info = None
        self._retired.append(pipe.player)
        info = pipe.info
        why = verdict.reason.text
        err = AudioDeviceError(
            f"audio device lost ({why}): microphone '{info.input_device}', speaker "
            f"'{info.output_device}'. Check the device is plugged in and the sound server runs, "
            f"or pick another device in Settings; VoiceCam retries every "
            f"{self.config.retry_interval_ms / 1000:g} s."
        )
        log.warning("%s", err.message)
        events: list[AudioEvent] = [err]
        events.extend(self._capture.gate.vad_stop(now, self._capture.pos16))
        if self._capture.turns is not None:
            self._capture.turns.cancel()
        self._start_retry(pipe.stream)
        return events

    def _retrying(self) -> bool:
        return self._retry is not None and self._retry.is_alive()

    def _start_retry(self, dead: StreamLike | None) -> None:
        with self._lock:
            if self._retrying() or self._stop.is_set():
                return
            self._retry = start_retry(
                dead,
                open_pipe=lambda: open_pipeline(
                    self.config, self._factory, self._backend, self._clock, self._volume
                ),
                deliver=self._deliver_recovered,
                stop=self._stop,
                interval_s=self.config.retry_interval_ms / 1000.0,
                reinitialize_portaudio=self._real,
            )

    def _deliver_recovered(self, pipe: Pipeline) -> None:
        """Retry thread: the device opened again; ``process()`` installs it."""
        with self._lock:
            if self._stop.is_set():
                close_quietly(pipe.stream)
                return
            self._pending = (pipe, True)
