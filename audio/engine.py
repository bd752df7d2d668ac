"""``AudioEngine``: the facade the app uses for microphone, voice detection, echo cancellation
and reply playback.

Threads (every public method names its own):

* **any thread**: ``start()``, ``stop()``, ``meters()``, ``info``.
* **engine thread** (the app's asyncio thread; one thread only): ``process()`` every ~10 ms,
  ``play()``, ``end_item()``, ``clear_playback()``, ``played_ms()``, ``first_audible_ns()``,
  ``is_playing``, ``set_send_rate()``, ``set_mode()``, ``talk_press()``, ``talk_release()``,
  ``set_volume()``.
* **PortAudio callback**: ``audio.duplex.DuplexIO.callback`` (copies only).
* **device retry thread** (internal): reopens the stream after a device failure.

``process()`` drains the captured blocks and runs, in order: echo cancellation (mic block against
exactly the block the speaker got) → streaming resampling (device → 16 kHz, device → send rate) →
voice detection (16 kHz) → talk gate (mode) → levels. It never raises for device trouble: a lost
or unopenable device becomes an ``AudioDeviceError`` event, the engine keeps running, a background
thread retries every ``retry_interval_ms`` (re-resolving device names) and ``DeviceRecovered``
follows when it works again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from audio.config import AudioConfig, TalkMode
from audio.devices import DeviceBackend, SoundDeviceBackend
from audio.duplex import StreamFactory, StreamLike, sounddevice_factory
from audio.errors import AudioConfigError, AudioDeviceError
from audio.events import (
    AudioEvent,
    BargeIn,
    DeviceRecovered,
    DeviceWarning,
    MicAudio,
    StreamInfo,
    StreamOpened,
    VoiceStarted,
    VoiceStopped,
)
from audio.meters import Meters, VadLike
from audio.modes import TalkGate
from audio.opener import Pipeline, close_quietly, open_pipeline
from audio.player import Player
from audio.recovery import start_retry
from audio.timeline import ClockMap, History
from dsp.pcm import dbfs
from dsp.resample import StreamResampler
from dsp.vad import StreamingVad, VoiceEnd, VoiceStart, threshold_for_sensitivity

log = logging.getLogger(__name__)

VAD_RATE = 16000
FAR_ACTIVE_DBFS = -60.0  # speaker block louder than this can echo
ECHO_TAIL_MS = 400  # after the speaker goes quiet, the room and AEC3 still ring this long
STARTUP_TIMEOUT_MS = 5000  # first callback of a new stream
# After an xrun the speaker reference and the mic are misaligned until AEC3 re-estimates the delay
# (measured: echo leaked into the detector after device underflows in 4 of 6 loaded room runs).
# Voice starts heard while echo is possible are not trusted for this long.
XRUN_GUARD_MS = 800


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
    ) -> None:
        self.config = config
        self._real = stream_factory is None
        self._factory: StreamFactory = stream_factory or sounddevice_factory
        self._backend = device_backend or (SoundDeviceBackend() if self._real else None)
        self._clock = clock
        self._vad: VadLike = (
            vad_factory()
            if vad_factory is not None
            else StreamingVad(
                threshold=threshold_for_sensitivity(config.vad_sensitivity),
                min_speech_ms=config.vad_min_speech_ms,
                # the stop delay counts from the end of voice to VoiceStopped: Silero decides in
                # 32 ms windows, so take one window off to keep the total within the setting
                min_silence_ms=max(100, config.vad_stop_ms - 32),
            )
        )
        self._gate = TalkGate(config.mode, config.send_only_speech)
        self._send_rate = config.send_rate_hz
        self._volume = config.volume
        self._events: deque[AudioEvent] = deque()  # appended by any thread, drained by process()
        self._pending: tuple[Pipeline, bool] | None = None  # set by start()/retry thread
        self._pipe: Pipeline | None = None
        self._retired: deque[Player] = deque(maxlen=4)
        self._stop = threading.Event()
        self._retry: threading.Thread | None = None
        self._lock = threading.Lock()  # start/stop/retry bookkeeping only (never the callback)
        self._meters = Meters(aec_enabled=config.aec_enabled)
        self._rs16: StreamResampler | None = None
        self._rs16_raw: StreamResampler | None = None
        self._rs16_vad: StreamResampler | None = None
        self._far_active_until = 0
        self._rs_send: StreamResampler | None = None
        self._pos16 = 0
        self._pos_send = 0
        self._dev_pos = 0
        self._clockmap = ClockMap(config.sample_rate)
        self._hist16 = History(2 * VAD_RATE)
        self._hist_send = History(2 * self._send_rate)
        self._mic_dbfs = -120.0
        self._spk_dbfs = -120.0
        self._info: StreamInfo | None = None
        self._pause_until: int | None = None  # 16 kHz sample by which a pause must be confirmed
        self._xruns = 0
        self._xrun_guard_until = 0
        self._suppressed_start = False
        self._suppressed = 0
        self._voice_pauses = 0
        self._false_pauses = 0

    # ================================================================== any thread
    def start(self) -> None:
        """Open the stream (any thread; blocks while PortAudio opens). Never raises for devices:
        a failure is reported by the next ``process()`` and retried in the background."""
        with self._lock:
            if self._pipe is not None or self._pending is not None or self._retrying():
                return
            self._stop.clear()
        try:
            pipe = open_pipeline(
                self.config, self._factory, self._backend, self._clock, self._volume
            )
        except AudioDeviceError as exc:
            log.warning("%s", exc.message)
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

    def meters(self) -> Meters:
        """Latest meter snapshot (any thread)."""
        return self._meters

    @property
    def info(self) -> StreamInfo | None:
        """The open stream's negotiated rate, devices and latencies (None while closed)."""
        return self._info

    # ================================================================== engine thread
    def process(self) -> list[AudioEvent]:
        """Engine thread, every ~10 ms: drain captured audio; return events in time order."""
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
        if io.callbacks:
            silent_ns = now - io.last_callback_ns
            timeout_ns = self.config.device_timeout_ms * 1_000_000
        else:  # some servers take seconds to deliver the first block of a fresh stream
            silent_ns = now - pipe.opened_ns
            timeout_ns = STARTUP_TIMEOUT_MS * 1_000_000
        if io.finished or not pipe.stream.active or silent_ns > timeout_ns:
            events.extend(self._lose(pipe, now))
            return events
        ring = io.ring
        n = ring.available()
        if n:
            mics, fars = [], []
            t0 = 0
            for k in range(n):
                slot = ring.read_slot()
                t_block = int(ring.t_ns[slot])
                if k == 0:
                    t0 = t_block
                self._clockmap.add(self._dev_pos + k * ring.frames, t_block)
                mics.append(ring.mic[slot].copy())
                fars.append(ring.far[slot].copy())
                ring.release()
            near = np.concatenate(mics) if n > 1 else mics[0]
            far = np.concatenate(fars) if n > 1 else fars[0]
            events.extend(self._process_audio(pipe, near, far, t0))
        self._update_meters(pipe)
        return events

    def play(self, item_id: str, pcm16: bytes, rate_hz: int) -> None:
        """Engine thread: queue reply audio (PCM16 mono at ``rate_hz``) for playback.

        Dropped when no device is open (an ``AudioDeviceError`` was reported)."""
        pipe = self._pipe
        if pipe is not None and pcm16:
            pipe.player.play(item_id, pcm16, rate_hz, self._clock())

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
        self._send_rate = hz
        self._hist_send = History(2 * hz)
        self._pos_send = 0
        pipe = self._pipe
        if pipe is not None:
            rate = pipe.info.sample_rate
            self._rs_send = StreamResampler(rate, hz) if hz != VAD_RATE else None

    def set_volume(self, volume: float) -> None:
        """Engine thread: playback gain 0.0 … 4.0 (applies from the next block)."""
        self._volume = min(4.0, max(0.0, volume))
        pipe = self._pipe
        if pipe is not None:
            pipe.player.volume = self._volume

    def set_mode(self, mode: TalkMode) -> None:
        """Engine thread: switch talk mode; ends a running turn (``VoiceStopped``)."""
        self._events.extend(self._gate.set_mode(mode, self._clock(), self._pos16))

    @property
    def mode(self) -> TalkMode:
        return self._gate.mode

    def talk_press(self) -> None:
        """Engine thread: talk key down (push-to-talk start / toggle flip)."""
        self._events.extend(self._with_barge_in(self._gate.press(self._clock(), self._pos16)))

    def talk_release(self) -> None:
        """Engine thread: talk key up (push-to-talk stop)."""
        self._events.extend(self._gate.release(self._clock(), self._pos16))

    # ================================================================== internals
    def _players(self) -> list[Player]:
        players = [self._pipe.player] if self._pipe is not None else []
        return players + list(reversed(self._retired))

    def _process_audio(
        self, pipe: Pipeline, near: np.ndarray, far: np.ndarray, t0: int
    ) -> list[AudioEvent]:
        clean = pipe.aec.process(near, far)
        raw_bytes = near.tobytes()
        self._mic_dbfs = dbfs(raw_bytes)
        self._spk_dbfs = dbfs(far.tobytes())
        if self._spk_dbfs > FAR_ACTIVE_DBFS:
            self._far_active_until = t0 + ECHO_TAIL_MS * 1_000_000
        cleaned = clean.tobytes()
        assert self._rs16 is not None and self._rs16_raw is not None
        assert self._rs16_vad is not None
        pcm16 = self._rs16.process(cleaned)
        vad_clean = self._rs16_vad.process(cleaned)
        vad_raw = self._rs16_raw.process(raw_bytes)
        pcm_send = self._rs_send.process(cleaned) if self._rs_send is not None else pcm16
        # VAD input: the echo-cancelled mic while the speaker plays (and its echo tail rings);
        # otherwise the raw mic, because AEC3/noise suppression soften speech onsets (measured:
        # up to +128 ms late starts on the shared media).
        echo_possible = pipe.aec.enabled and pipe.aec.engaged and t0 < self._far_active_until
        io = pipe.io
        xruns = io.output_underflows + io.input_overflows + io.ring.dropped
        if xruns != self._xruns:  # mic and speaker blocks no longer line up: AEC3 re-aligns
            self._xruns = xruns
            self._xrun_guard_until = t0 + XRUN_GUARD_MS * 1_000_000
        distrust = echo_possible and t0 < self._xrun_guard_until
        vad_in = vad_clean if echo_possible else vad_raw
        if hasattr(self._vad, "min_speech_ms"):  # longer confirmation while echo is possible
            self._vad.min_speech_ms = (
                self.config.barge_in_min_speech_ms
                if echo_possible
                else self.config.vad_min_speech_ms
            )
        start16 = self._pos16
        self._pos16 += len(pcm16) // 2
        self._dev_pos += int(near.shape[0])
        rate = pipe.info.sample_rate
        self._pos_send += len(pcm_send) // 2
        self._hist16.append(pcm16)
        self._hist_send.append(pcm_send)

        clockmap = self._clockmap

        def t_of(sample16: int) -> int:
            """16 kHz stream index → monotonic ns (via the ADC time of the block holding it)."""
            return clockmap.time_of(sample16 * rate // VAD_RATE)

        events: list[AudioEvent] = []
        was_open = self._gate.mic_open
        emitted = False
        vad_events = self._vad.process(vad_in) if self._gate.mode is TalkMode.HANDS_FREE else []
        for ev in vad_events:
            t = t_of(ev.sample)
            if isinstance(ev, VoiceStart) and distrust:
                self._suppressed_start = True  # echo leaking after an xrun, not the user
                self._suppressed += 1
                continue
            if isinstance(ev, VoiceEnd) and self._suppressed_start:
                self._suppressed_start = False
                continue
            if isinstance(ev, VoiceStart):
                gate_events = self._with_barge_in(self._gate.vad_start(t, ev.sample))
                if gate_events and not was_open and self._gate.mic_open:
                    # send-only-speech: open with pre-roll so the first syllable goes out
                    pad16 = self.config.prefix_padding_ms * VAD_RATE // 1000
                    from16 = ev.sample - pad16
                    from_send = from16 * self._send_rate // VAD_RATE
                    events.extend(gate_events)
                    events.append(
                        MicAudio(
                            self._hist16.since(from16),
                            self._hist_send.since(from_send)
                            if self._rs_send is not None
                            else self._hist16.since(from16),
                            self._send_rate,
                            t_of(max(from16, self._hist16.start)),
                        )
                    )
                    emitted = True
                    continue
                events.extend(gate_events)
            else:
                if self._gate.mic_open and not emitted:
                    events.append(MicAudio(pcm16, pcm_send, self._send_rate, t_of(start16)))
                    emitted = True
                events.extend(self._gate.vad_stop(t, ev.sample))
        if not emitted and self._gate.mic_open and (pcm16 or pcm_send):
            events.append(MicAudio(pcm16, pcm_send, self._send_rate, t_of(start16)))
        if self._gate.mode is TalkMode.HANDS_FREE and not distrust:
            self._provisional_pause(pipe.player)
        return events

    def _provisional_pause(self, player: Player) -> None:
        """Pause playback on the first voiced window; confirm (clear) or resume."""
        if self._pause_until is not None:
            if self._gate.talking or not player.is_playing:  # confirmed (cleared) or over
                player.paused = False
                self._pause_until = None
            elif self._pos16 >= self._pause_until:  # not confirmed: resume where it stopped
                player.paused = False
                self._pause_until = None
                self._false_pauses += 1
            return
        cfg = self.config
        if (
            cfg.barge_in
            and cfg.pause_on_voice_hint
            and not self._gate.talking
            and self._vad.probability >= self._vad.threshold
            and player.is_playing
        ):
            player.paused = True
            confirm = (cfg.vad_min_speech_ms + 64) * VAD_RATE // 1000
            self._pause_until = self._pos16 + confirm
            self._voice_pauses += 1

    def _with_barge_in(self, gate_events: list[VoiceStarted | VoiceStopped]) -> list[AudioEvent]:
        out: list[AudioEvent] = list(gate_events)
        pipe = self._pipe
        if not self.config.barge_in or pipe is None:
            return out
        for ev in gate_events:
            if isinstance(ev, VoiceStarted) and pipe.player.is_playing:
                item = pipe.player.jitter.current_item
                pipe.player.clear()
                played = pipe.player.played_ms(item) if item is not None else 0
                out.append(BargeIn(self._clock(), item, played))
        return out

    def _update_meters(self, pipe: Pipeline) -> None:
        io, aec, jitter = pipe.io, pipe.aec, pipe.player.jitter
        self._meters = Meters(
            mic_dbfs=self._mic_dbfs,
            speaker_dbfs=self._spk_dbfs,
            erle_db=aec.erle_db,
            underruns=jitter.underruns + io.output_underflows,
            overflows=io.ring.dropped + io.input_overflows,
            aec_enabled=aec.enabled,
            echo_hint=aec.hint(),
            vad_probability=self._vad.probability,
            jitter_target_ms=jitter.target_ms,
            callbacks=io.callbacks,
            voice_pauses=self._voice_pauses,
            false_pauses=self._false_pauses,
            distrusted_starts=self._suppressed,
            aec_engaged=aec.engaged,
            coupling_db=aec.coupling_db,
        )

    # ------------------------------------------------------------------ opening / recovery
    def _install(self, pipe: Pipeline, recovered: bool) -> list[AudioEvent]:
        rate = pipe.info.sample_rate
        self._pipe = pipe
        self._info = pipe.info
        self._rs16 = StreamResampler(rate, VAD_RATE)
        # VAD inputs use soxr "LQ": ~20 ms less latency than "HQ" (faster barge-in and stop)
        self._rs16_raw = StreamResampler(rate, VAD_RATE, quality="LQ")
        self._rs16_vad = StreamResampler(rate, VAD_RATE, quality="LQ")
        self._far_active_until = 0
        self._rs_send = (
            StreamResampler(rate, self._send_rate) if self._send_rate != VAD_RATE else None
        )
        self._vad.reset()
        self._pos16 = self._pos_send = self._dev_pos = 0
        self._clockmap = ClockMap(rate)
        self._pause_until = None
        self._xruns = 0
        self._xrun_guard_until = 0
        self._suppressed_start = False
        self._hist16.reset()
        self._hist_send.reset()
        events: list[AudioEvent] = [DeviceWarning(w) for w in pipe.info.warnings]
        if not pipe.info.aec_enabled:
            events.append(
                DeviceWarning("echo cancellation is off (headphones): use headphones to avoid echo")
            )
        events.append(StreamOpened(pipe.info))
        if recovered:
            events.append(DeviceRecovered(pipe.info))
        return events

    def _lose(self, pipe: Pipeline, now: int) -> list[AudioEvent]:
        self._pipe = None
        self._info = None
        self._retired.append(pipe.player)
        info = pipe.info
        why = (
            "the stream ended"
            if pipe.io.finished
            else "no audio from it"
            if pipe.io.callbacks
            else "it never started delivering audio"
        )
        err = AudioDeviceError(
            f"audio device lost ({why}): microphone '{info.input_device}', speaker "
            f"'{info.output_device}'. Check the device is plugged in and the sound server runs, "
            f"or pick another device in Settings; VoiceCam retries every "
            f"{self.config.retry_interval_ms / 1000:g} s."
        )
        log.warning("%s", err.message)
        events: list[AudioEvent] = [err]
        events.extend(self._gate.vad_stop(now, self._pos16))
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
