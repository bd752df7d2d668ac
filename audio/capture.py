"""``Capture``: the microphone side of ``audio.engine.AudioEngine``, one drained batch at a time.

For each batch of blocks read from the ring it runs, in order: echo cancellation (mic block
against exactly the block the speaker got) → streaming resampling (device → 16 kHz, device →
send rate) → voice detection (16 kHz; the raw mic unless echo is possible) → talk gate (mode) →
barge-in on the player → levels; and it keeps the provisional pause of playback on a first
voiced window. Device positions map to monotonic time through the ADC clock of each block.

Thread: the engine thread only (``AudioEngine.process()`` and the engine-thread setters).
``reset(rate)`` is called whenever a new stream is installed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from audio.client_turns import ClientTurnEnd
from audio.config import AudioConfig, TalkMode
from audio.events import (
    AudioEvent,
    BargeIn,
    DeviceWarning,
    MicAudio,
    VoiceStarted,
    VoiceStopped,
)
from audio.interruptions import InterruptionMonitor
from audio.meters import Meters, VadLike, level_dbfs
from audio.mic_hold import MicHold
from audio.modes import TalkGate
from audio.opener import Pipeline
from audio.player import Player
from audio.timeline import ClockMap, History
from dsp.resample import PairResampler, StreamResampler
from dsp.vad import VoiceEnd, VoiceStart

VAD_RATE = 16000
FAR_ACTIVE_DBFS = -60.0  # speaker block louder than this can echo
ECHO_TAIL_MS = 400  # after the speaker goes quiet, the room and AEC3 still ring this long
# After an xrun the speaker reference and the mic are misaligned until AEC3 re-estimates the delay
# (measured: echo leaked into the detector after device underflows in 4 of 6 loaded room runs).
# Voice starts heard while echo is possible are not trusted for this long.
XRUN_GUARD_MS = 800


class Capture:
    """Mic processing state of one engine (resamplers, positions, pre-roll history, VAD, gate)."""

    def __init__(
        self,
        config: AudioConfig,
        vad: VadLike,
        gate: TalkGate,
        clock: Callable[[], int],
        monitor_factory: Callable[[int, Player], InterruptionMonitor] | None = None,
        turns: ClientTurnEnd | None = None,
    ) -> None:
        self.config = config
        #: hands-free: the semantic end of turn (``audio.client_turns``); None: the VAD's stop
        self.turns = turns
        #: duck at once, decide after (``audio.interruptions``); None: barge-in on any voice
        self._monitor_factory = monitor_factory
        self.monitor: InterruptionMonitor | None = None
        self.hold = MicHold()
        self.vad = vad
        self.gate = gate
        self._clock = clock
        self.send_rate = config.send_rate_hz
        self._rs16: StreamResampler | None = None
        #: the VAD's two inputs, echo-cancelled and raw, in one two-channel resampler
        self._rs16_vad: PairResampler | None = None
        self._rs_send: StreamResampler | None = None
        self._far_active_until = 0
        #: 16 kHz samples produced since the stream opened (the gate's and VAD's position).
        self.pos16 = 0
        self._pos_send = 0
        self._dev_pos = 0
        self._rate = config.sample_rate
        self._clockmap = ClockMap(config.sample_rate)
        self._hist16 = History(2 * VAD_RATE)
        self._hist_send = History(2 * self.send_rate)
        self._mic_dbfs = -120.0
        self._spk_dbfs = -120.0
        self._pause_until: int | None = None  # 16 kHz sample by which a pause must be confirmed
        self._xruns = 0
        self._xrun_guard_until = 0
        self._suppressed_start = False
        self._suppressed = 0
        self._voice_pauses = 0
        self._false_pauses = 0

    def reset(self, rate: int) -> None:
        """A new stream at ``rate`` Hz was installed: fresh resamplers, positions and history."""
        self._rate = rate
        self._rs16 = StreamResampler(rate, VAD_RATE)
        # VAD inputs use soxr "LQ": ~20 ms less latency than "HQ" (faster barge-in and stop)
        self._rs16_vad = PairResampler(rate, VAD_RATE, quality="LQ")
        self._far_active_until = 0
        self._rs_send = (
            StreamResampler(rate, self.send_rate) if self.send_rate != VAD_RATE else None
        )
        self.vad.reset()
        self.pos16 = self._pos_send = self._dev_pos = 0
        self._clockmap = ClockMap(rate)
        self._pause_until = None
        self._xruns = 0
        self._xrun_guard_until = 0
        self._suppressed_start = False
        self._hist16.reset()
        self._hist_send.reset()
        if self.monitor is not None:
            self.monitor.close()
            self.monitor = None
        self.hold.reset()
        if self.turns is not None:
            self.turns.reset()

    def set_send_rate(self, hz: int, stream_open: bool) -> None:
        """Rate of ``MicAudio.pcm16_send`` (validated by the engine)."""
        self.send_rate = hz
        self._hist_send = History(2 * hz)
        self._pos_send = 0
        if stream_open:
            self._rs_send = StreamResampler(self._rate, hz) if hz != VAD_RATE else None

    # ------------------------------------------------------------------ per batch
    def drain(self, pipe: Pipeline) -> list[AudioEvent]:
        """Read every captured block from the ring and process them as one batch."""
        ring = pipe.io.ring
        n = ring.available()
        if not n:
            return []
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
        return self._process(pipe, near, far, t0)

    def _process(
        self, pipe: Pipeline, near: np.ndarray, far: np.ndarray, t0: int
    ) -> list[AudioEvent]:
        clean = pipe.aec.process(near, far)
        self._mic_dbfs = level_dbfs(pipe.aec.near_power)  # measured by the canceller
        self._spk_dbfs = level_dbfs(pipe.aec.far_power)
        if self._spk_dbfs > FAR_ACTIVE_DBFS:
            self._far_active_until = t0 + ECHO_TAIL_MS * 1_000_000
        assert self._rs16 is not None and self._rs16_vad is not None
        pcm16 = self._rs16.process_samples(clean)
        vad_clean, vad_raw = self._rs16_vad.process(clean, near)
        pcm_send = self._rs_send.process_samples(clean) if self._rs_send is not None else pcm16
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
        monitor = self._judge(pipe)
        actions = (
            monitor.process(clean, near, far, t0, vad_raw, self._clock())
            if monitor is not None
            else []
        )
        judged = monitor is not None  # the judge, not the first voice, stops the reply
        if hasattr(self.vad, "min_speech_ms"):  # longer confirmation while echo is possible
            self.vad.min_speech_ms = (
                self.config.barge_in_min_speech_ms
                if echo_possible
                else self.config.vad_min_speech_ms
            )
        start16 = self.pos16
        self.pos16 += len(pcm16) // 2
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
        was_open = self.gate.mic_open
        emitted = False
        hands_free = self.gate.mode is TalkMode.HANDS_FREE
        if self.turns is not None:
            self.turns.feed(pcm16)  # every batch: its positions are the stream's
        turns = self.turns if hands_free else None
        vad_events = self.vad.process(vad_in) if hands_free else []
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
                if turns is not None:
                    turns.speech(ev.sample, new_turn=not self.gate.talking)
                gate_events = self.with_barge_in(
                    self.gate.vad_start(t, ev.sample), None if judged else pipe.player
                )
                if gate_events and not was_open and self.gate.mic_open:
                    # send-only-speech: open with pre-roll so the first syllable goes out
                    pad16 = self.config.prefix_padding_ms * VAD_RATE // 1000
                    from16 = ev.sample - pad16
                    from_send = from16 * self.send_rate // VAD_RATE
                    events.extend(gate_events)
                    events.append(
                        MicAudio(
                            self._hist16.since(from16),
                            self._hist_send.since(from_send)
                            if self._rs_send is not None
                            else self._hist16.since(from16),
                            self.send_rate,
                            t_of(max(from16, self._hist16.start)),
                        )
                    )
                    emitted = True
                    continue
                events.extend(gate_events)
            elif turns is not None and self.gate.talking:
                turns.pause(ev.sample)  # the turn model decides when the turn is over
            else:
                if self.gate.mic_open and not emitted:
                    events.append(MicAudio(pcm16, pcm_send, self.send_rate, t_of(start16)))
                    emitted = True
                events.extend(self.gate.vad_stop(t, ev.sample))
        ended = turns.advance() if turns is not None and self.gate.talking else None
        if ended is not None:
            if self.gate.mic_open and not emitted:
                events.append(MicAudio(pcm16, pcm_send, self.send_rate, t_of(start16)))
                emitted = True
            events.extend(self.gate.vad_stop(t_of(ended.sample), ended.sample))
        if turns is not None and turns.warning is not None:
            events.append(DeviceWarning(turns.warning))
            turns.warning = None
        if not emitted and self.gate.mic_open and (pcm16 or pcm_send):
            events.append(MicAudio(pcm16, pcm_send, self.send_rate, t_of(start16)))
        if self.gate.mode is TalkMode.HANDS_FREE and not distrust and not judged:
            self._provisional_pause(pipe.player)
        if monitor is None:
            return events
        return self.hold.filter(events, actions, monitor.judge.deciding, self._clock())

    def _judge(self, pipe: Pipeline) -> InterruptionMonitor | None:
        """The interruption monitor of this stream's player (made on first use; hands-free)."""
        if self._monitor_factory is None or self.gate.mode is not TalkMode.HANDS_FREE:
            return None
        m = self.monitor
        if m is None or m.player is not pipe.player:
            if m is not None:
                m.close()
            m = self.monitor = self._monitor_factory(pipe.info.sample_rate, pipe.player)
        return m

    def _provisional_pause(self, player: Player) -> None:
        """Pause playback on the first voiced window; confirm (clear) or resume."""
        if self._pause_until is not None:
            if self.gate.talking or not player.is_playing:  # confirmed (cleared) or over
                player.paused = False
                self._pause_until = None
            elif self.pos16 >= self._pause_until:  # not confirmed: resume where it stopped
                player.paused = False
                self._pause_until = None
                self._false_pauses += 1
            return
        cfg = self.config
        if (
            cfg.barge_in
            and cfg.pause_on_voice_hint
            and not self.gate.talking
            and self.vad.probability >= self.vad.threshold
            and player.is_playing
        ):
            player.paused = True
            confirm = (cfg.vad_min_speech_ms + 64) * VAD_RATE // 1000
            self._pause_until = self.pos16 + confirm
            self._voice_pauses += 1

    def duck_due(self, player: Player) -> bool:
        """A duck, pause or clear of ``player`` may be due within a block: it plays, a provisional
        pause waits for its confirmation, or the interruption judge is deciding."""
        monitor = self.monitor
        return (
            player.is_playing
            or self._pause_until is not None
            or (monitor is not None and monitor.judge.deciding)
        )

    def with_barge_in(
        self, gate_events: list[VoiceStarted | VoiceStopped], player: Player | None
    ) -> list[AudioEvent]:
        """The gate's events, plus a ``BargeIn`` (playback cleared now) for a voice start
        while ``player`` plays."""
        out: list[AudioEvent] = list(gate_events)
        if not self.config.barge_in or player is None:
            return out
        for ev in gate_events:
            if isinstance(ev, VoiceStarted) and player.is_playing:
                item = player.jitter.current_item
                player.clear()
                played = player.played_ms(item) if item is not None else 0
                out.append(BargeIn(self._clock(), item, played))
        return out

    def meters(self, pipe: Pipeline) -> Meters:
        """The levels and counters after the last batch."""
        io, aec, jitter = pipe.io, pipe.aec, pipe.player.jitter
        return Meters(
            mic_dbfs=self._mic_dbfs,
            speaker_dbfs=self._spk_dbfs,
            erle_db=aec.erle_db,
            underruns=jitter.underruns + io.output_underflows,
            overflows=io.ring.dropped + io.input_overflows,
            aec_enabled=aec.enabled,
            echo_hint=aec.hint(),
            vad_probability=self.vad.probability,
            jitter_target_ms=jitter.target_ms,
            callbacks=io.callbacks,
            voice_pauses=self._voice_pauses,
            false_pauses=self._false_pauses,
            distrusted_starts=self._suppressed,
            aec_engaged=aec.engaged,
            coupling_db=aec.coupling_db,
        )
