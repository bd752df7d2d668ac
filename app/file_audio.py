"""An ``AudioPort`` for headless runs: a WAV file as the microphone, a simulated speaker.

Microphone: the file is resampled to 16 kHz (VAD) and to the send rate, and handed out by
``process()`` in ``block_ms`` blocks paced by the clock (real time) from the moment the session is
ready (``on_session_ready()``), followed by silence so the
conversation can finish (the provider's or our VAD sees the end of speech). ``dsp.vad``'s
``StreamingVad`` runs on it exactly as the audio engine does, producing ``VoiceStarted`` /
``VoiceStopped`` with the times of the samples.

Speaker: reply audio is "played" in real time from when it arrives (no device); ``played_ms``,
``first_audible_ns``, ``is_playing`` and ``clear_playback`` behave like the engine's player, and
everything actually played is written to ``out_path`` (PCM16 WAV) on ``stop()``: all of it or
nothing (``app.audio_out``); a failure is kept in ``out_error`` for the caller to report.

Engine thread only (like the audio engine), except ``stop()``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from app.audio_out import AudioOutError, write_reply_wav
from audio.client_turns import VAD_STOP_MS, ClientTurnEnd
from audio.config import TalkMode
from audio.events import AudioEvent, MicAudio, VoiceStarted, VoiceStopped
from audio.meters import Meters
from dsp.pcm import dbfs, read_wav
from dsp.resample import resample
from dsp.vad import StreamingVad, VoiceStart

VAD_RATE = 16000


class FileAudio:
    def __init__(
        self,
        in_path: Path | None,
        out_path: Path | None = None,
        *,
        block_ms: int = 20,
        send_rate_hz: int = 24000,
        vad_threshold: float = 0.5,
        vad_silence_ms: int = 500,
        clock: Callable[[], int] = time.monotonic_ns,
        end_of_turn: ClientTurnEnd | None = None,
    ) -> None:
        """``end_of_turn``: the turn ends by ``audio.client_turns`` (as in the audio engine), the
        VAD then stopping after ``VAD_STOP_MS``; otherwise after ``vad_silence_ms``."""
        self.in_path = in_path
        self.out_path = out_path
        self.block_ms = block_ms
        self._clock = clock
        self._send_rate = send_rate_hz
        self._pcm16 = b""
        if in_path is not None:
            pcm, rate = read_wav(in_path)  # AudioFileError names the file and the problem
            self._pcm16 = pcm if rate == VAD_RATE else resample(pcm, rate, VAD_RATE)
        self._turns = end_of_turn
        self._vad_args = (vad_threshold, VAD_STOP_MS if end_of_turn else vad_silence_ms)
        self._vad: StreamingVad | None = None
        self._t0: int | None = None
        self._pos = 0  # 16 kHz samples handed out (file + trailing silence)
        self._mic_dbfs = -120.0
        self.voice_active = False
        self.last_voice_stop_ns: int | None = None
        # speaker
        self._out_rate: int | None = None
        self._queue: deque[list[object]] = deque()  # [item_id, bytearray]
        self._play_ns: int | None = None
        self._played: dict[str, int] = {}  # samples played per item
        self._received: dict[str, int] = {}
        self._first: dict[str, int] = {}
        self._out = bytearray()
        self._spk_dbfs = -120.0
        self.started = False
        #: Why ``out_path`` could not be written ("" if it was, or was not asked for).
        self.out_error = ""

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.started = True
        if self._turns is not None:
            self._turns.warm()
        if self.in_path is not None and self._vad is None:
            self._vad = StreamingVad(threshold=self._vad_args[0], min_silence_ms=self._vad_args[1])

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        if self._turns is not None:
            self._turns.close()
        self._advance(self._clock())
        if self.out_path is not None:
            try:
                write_reply_wav(self.out_path, bytes(self._out), self._out_rate or 24000)
            except AudioOutError as exc:
                self.out_error = str(exc)  # the caller reports it (stop() runs in teardown)

    @property
    def file_done(self) -> bool:
        """All of the file has been handed out (trailing silence may still follow)."""
        return self._pos * 2 >= len(self._pcm16)

    @property
    def input_finished(self) -> bool:
        """The file is out and the VAD is not inside an utterance."""
        return self.file_done and not self.voice_active

    # ------------------------------------------------------------------ microphone
    def on_session_ready(self) -> None:
        """Called by the conversation when the session is ready: the file starts playing now
        (a slow connect must not swallow the beginning of the question)."""
        if self._t0 is None:
            self._t0 = self._clock()

    def process(self) -> list[AudioEvent]:
        now = self._clock()
        self._advance(now)
        if self.in_path is None or not self.started or self._t0 is None:
            return []
        due = (now - self._t0) * VAD_RATE // 1_000_000_000
        block = VAD_RATE * self.block_ms // 1000
        events: list[AudioEvent] = []
        while self._pos + block <= due:
            start = self._pos
            chunk = self._pcm16[start * 2 : (start + block) * 2]
            chunk += b"\x00" * (block * 2 - len(chunk))
            self._pos += block
            t_ns = self._t0 + start * 1_000_000_000 // VAD_RATE
            send = (
                chunk if self._send_rate == VAD_RATE else resample(chunk, VAD_RATE, self._send_rate)
            )
            self._mic_dbfs = dbfs(chunk)
            events.append(MicAudio(chunk, send, self._send_rate, t_ns))
            assert self._vad is not None
            turns = self._turns
            if turns is not None:
                turns.feed(chunk)
            for ev in self._vad.process(chunk):
                t = self._t0 + ev.sample * 1_000_000_000 // VAD_RATE
                if isinstance(ev, VoiceStart):
                    if turns is not None:
                        turns.speech(ev.sample, new_turn=not self.voice_active)
                    if not self.voice_active:
                        self.voice_active = True
                        events.append(VoiceStarted(t))
                elif turns is not None and self.voice_active:
                    turns.pause(ev.sample)  # the turn model decides when the turn is over
                else:
                    self.voice_active = False
                    self.last_voice_stop_ns = t
                    events.append(VoiceStopped(t))
            ended = turns.advance() if turns is not None and self.voice_active else None
            if ended is not None:
                t = self._t0 + ended.sample * 1_000_000_000 // VAD_RATE
                self.voice_active = False
                self.last_voice_stop_ns = t
                events.append(VoiceStopped(t))
        return events

    def feed(self, pcm16: bytes, rate_hz: int = VAD_RATE) -> None:
        """Append more microphone audio (any thread): it follows what is still to be sent, or
        starts right away if the file has been sent already (tests: speak *now*)."""
        pcm = pcm16 if rate_hz == VAD_RATE else resample(pcm16, rate_hz, VAD_RATE)
        current = self._pcm16
        sent = min(len(current), self._pos * 2)
        self._pcm16 = current[:sent] + b"\x00" * (self._pos * 2 - sent) + current[sent:] + pcm

    def set_send_rate(self, hz: int) -> None:
        self._send_rate = hz

    def set_mode(self, mode: TalkMode) -> None:
        """A file speaks hands-free: the mode changes nothing here."""

    def talk_press(self) -> None:
        """No talk control on a file."""

    def talk_release(self) -> None:
        """No talk control on a file."""

    # ------------------------------------------------------------------ speaker
    def play(self, item_id: str, pcm16: bytes, rate_hz: int) -> None:
        now = self._clock()
        self._advance(now)
        if self._out_rate is None:
            self._out_rate = rate_hz
        if rate_hz != self._out_rate:
            pcm16 = resample(pcm16, rate_hz, self._out_rate)
        if not self._queue:
            self._play_ns = now
        if self._queue and self._queue[-1][0] == item_id:
            buf = self._queue[-1][1]
            assert isinstance(buf, bytearray)
            buf.extend(pcm16)
        else:
            self._queue.append([item_id, bytearray(pcm16)])
        self._received[item_id] = self._received.get(item_id, 0) + len(pcm16) // 2

    def end_item(self, item_id: str) -> None:
        """Nothing to do: the simulated speaker has no prefill to flush."""

    def _advance(self, now: int) -> None:
        """Move the simulated playback position to ``now``."""
        if not self._queue or self._out_rate is None or self._play_ns is None:
            self._play_ns = now
            return
        budget = (now - self._play_ns) * self._out_rate // 1_000_000_000
        played_any = b""
        while budget > 0 and self._queue:
            item_id, buf = self._queue[0]
            assert isinstance(item_id, str) and isinstance(buf, bytearray)
            take = min(budget, len(buf) // 2)
            if take:
                self._first.setdefault(
                    item_id,
                    self._play_ns,
                )
                chunk = bytes(buf[: take * 2])
                del buf[: take * 2]
                self._out.extend(chunk)
                played_any = chunk
                self._played[item_id] = self._played.get(item_id, 0) + take
                self._play_ns += take * 1_000_000_000 // self._out_rate
                budget -= take
            if not buf:
                self._queue.popleft()
        if not self._queue:
            self._play_ns = now
        if played_any:
            self._spk_dbfs = dbfs(played_any)

    def clear_playback(self) -> None:
        self._advance(self._clock())
        self._queue.clear()

    def played_ms(self, item_id: str) -> int:
        self._advance(self._clock())
        if self._out_rate is None:
            return 0
        return self._played.get(item_id, 0) * 1000 // self._out_rate

    def first_audible_ns(self, item_id: str) -> int | None:
        return self._first.get(item_id)

    @property
    def is_playing(self) -> bool:
        self._advance(self._clock())
        return bool(self._queue)

    def played_audio(self) -> tuple[bytes, int | None]:
        return bytes(self._out), self._out_rate

    def meters(self) -> Meters:
        return Meters(mic_dbfs=self._mic_dbfs, speaker_dbfs=self._spk_dbfs)
