"""``voicecam replay FILE``: play both sides of a recorded session in time, printing the
transcript as it happens.

Qt-free building blocks (the GUI's replay view may use them too):

* ``ReplayPlan.load(path)`` — reads a session once: the stereo mix (user left, assistant
  right) at ``rate_hz`` and the cues (turns, frames sent, marks) at their session offsets.
  User turns are shown when the user stopped speaking, assistant turns when their reply started
  playing — as a person in the room would have followed them.
* ``Replayer`` — runs a plan at ``speed`` against a clock: the audio stream's sample counter
  when audio plays (so text stays locked to the sound), else ``time.monotonic`` (injectable for
  tests). ``run()`` blocks until the end or ``stop()``; ``on_cue`` is called on its thread.

``replay_main(argv)`` is the CLI entry: exit 0 done, 2 bad argument/unreadable file, 130 on
Ctrl-C. Without a usable output device it says so and replays text only.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO, TypeAlias

import numpy as np
import numpy.typing as npt

from app.replay_audio import MAX_SPEED, MIN_SPEED, StretchedTrack
from realtime.recording.errors import SessionFileError
from realtime.recording.reader import SessionFile, resample

RATE_HZ = 24000
#: A sounddevice output device: its index, (part of) its name, or None for the default.
Device: TypeAlias = int | str | None
CueKind = Literal["turn", "frame", "mark"]


@dataclass(frozen=True)
class Cue:
    t_ms: float
    kind: CueKind
    text: str
    #: Index into ``ReplayPlan.turns`` for turn cues, else -1.
    turn: int = -1


@dataclass(frozen=True)
class ReplayPlan:
    path: Path
    title: str
    rate_hz: int
    #: int16, shape (n, 2): user left, assistant right, from session offset 0.
    stereo: npt.NDArray[np.int16]
    cues: tuple[Cue, ...]
    duration_ms: float
    #: (start_ms, end_ms, role, text) per turn, for seeking/jumping in a GUI.
    turns: tuple[tuple[float, float, str, str], ...]

    @staticmethod
    def load(path: str | Path, rate_hz: int = RATE_HZ) -> ReplayPlan:
        """Read a session (raises ``SessionFileError``)."""
        with SessionFile(path) as sf:
            md = sf.metadata
            user = sf.mic_track(rate_hz).samples
            bot = sf.playback_track(rate_hz).samples
            turns = sf.turns()
            frames = list(sf.frames(sent=True))
            marks = sf.marks()
            duration = max(sf.duration_ms, len(user) / rate_hz * 1000, len(bot) / rate_hz * 1000)
        n = round(duration * rate_hz / 1000)
        stereo = np.zeros((n, 2), np.int16)
        stereo[: min(n, len(user)), 0] = user[:n]
        stereo[: min(n, len(bot)), 1] = bot[:n]
        cues: list[Cue] = []
        for t in turns:
            who = "You" if t.role == "user" else "Assistant"
            when = t.end_ms if t.role == "user" else t.start_ms
            text = t.text.strip() or "(no transcript)"
            if t.status not in ("completed", ""):
                text += f"  [{t.status}]"
            cues.append(Cue(when, "turn", f"{who}: {text}", t.index))
        for f in frames:
            cues.append(
                Cue(
                    f.t_ms,
                    "frame",
                    f"(frame sent to the model{': ' + f.reason if f.reason else ''})",
                )
            )
        for m in marks:
            cues.append(Cue(m.t_ms, "mark", f"({m.kind}{': ' + m.detail if m.detail else ''})"))
        cues.sort(key=lambda c: c.t_ms)
        started = md.started_at.strftime("%Y-%m-%d %H:%M UTC") if md.started_at else ""
        title = " · ".join(x for x in (started, md.backend, md.model) if x)
        return ReplayPlan(
            Path(path),
            title,
            rate_hz,
            stereo,
            tuple(cues),
            duration,
            tuple((t.start_ms, t.end_ms, t.role, t.text) for t in turns),
        )


class _AudioOut:
    """Plays a stereo int16 buffer through sounddevice; ``position_ms`` is the played clock."""

    def __init__(
        self, stereo: npt.NDArray[np.int16], rate_hz: int, speed: float, device: Device
    ) -> None:
        import sounddevice as sd

        #: 0.5×–2×: WSOLA keeps the pitch (app.replay_audio); the callback reads from it
        stretch = speed != 1.0 and MIN_SPEED <= speed <= MAX_SPEED
        self._stretch = StretchedTrack(stereo, rate_hz, speed) if stretch else None
        if speed != 1.0 and self._stretch is None:  # beyond 2×: squeeze (pitch rises)
            left = resample(np.ascontiguousarray(stereo[:, 0]), round(rate_hz * speed), rate_hz)
            right = resample(np.ascontiguousarray(stereo[:, 1]), round(rate_hz * speed), rate_hz)
            n = min(len(left), len(right))
            stereo = np.stack([left[:n], right[:n]], axis=1)
        self._buf = np.ascontiguousarray(stereo)
        self._pos = 0
        self._rate = rate_hz
        self._speed = speed
        self.finished = threading.Event()
        self._stream = sd.OutputStream(
            samplerate=rate_hz,
            channels=2,
            dtype="int16",
            # replay needs no low latency: large buffers so a busy machine does not underrun
            blocksize=rate_hz // 25,
            latency="high",
            device=device,
            callback=self._callback,
        )

    def _callback(
        self, outdata: npt.NDArray[np.int16], frames: int, _t: object, _status: object
    ) -> None:
        """PortAudio's thread: fill ``outdata``, the (frames, 2) int16 block."""
        if self._stretch is not None:
            self._stretch.fill(outdata)
            if self._stretch.finished:
                self.finished.set()
            return
        pos = self._pos
        chunk = self._buf[pos : pos + frames]
        outdata[: len(chunk)] = chunk
        outdata[len(chunk) :] = 0
        self._pos = pos + frames
        if pos + frames >= len(self._buf):
            self.finished.set()

    def start(self, offset_ms: float = 0.0) -> None:
        if self._stretch is not None:
            self._stretch.seek(offset_ms)
        self._pos = round(offset_ms / self._speed * self._rate / 1000)
        self._stream.start()

    def position_ms(self) -> float:
        """Session time being heard now (ms): what the callback consumed minus the output
        latency still in the device buffers."""
        if self._stretch is not None:
            latency_ms = float(self._stream.latency) * 1000 * self._speed
            return max(0.0, self._stretch.position_ms - latency_ms)
        heard = self._pos / self._rate - float(self._stream.latency)
        return max(0.0, heard) * 1000 * self._speed

    def close(self) -> None:
        try:
            self._stream.stop()
        finally:
            self._stream.close()


class Replayer:
    """Emits a plan's cues in time. ``clock``/``sleep`` are injectable (seconds)."""

    def __init__(
        self,
        plan: ReplayPlan,
        *,
        speed: float = 1.0,
        audio: bool = True,
        device: Device = None,
        on_cue: Callable[[Cue], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        start_ms: float = 0.0,
    ) -> None:
        if not 0.1 <= speed <= 16:
            raise ValueError("speed must be between 0.1 and 16")
        self.plan = plan
        self.speed = speed
        self.on_cue = on_cue
        self._clock = clock
        self._sleep = sleep
        self._stop = threading.Event()
        self._start_ms = start_ms
        self.audio_note = ""
        self._audio: _AudioOut | None = None
        if audio:
            try:
                self._audio = _AudioOut(plan.stereo, plan.rate_hz, speed, device)
            except Exception as exc:  # no device/PortAudio: replay the text, say why
                self.audio_note = f"No audio output ({exc}); replaying the transcript only."
        #: (session ms at which the cue was emitted, cue) — for tests and benches
        self.emitted: list[tuple[float, Cue]] = []

    def position_ms(self, t0: float) -> float:
        if self._audio is not None:
            return self._audio.position_ms()
        return self._start_ms + (self._clock() - t0) * 1000 * self.speed

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        cues = [c for c in self.plan.cues if c.t_ms >= self._start_ms]
        t0 = self._clock()
        give_up = t0 + (self.plan.duration_ms - self._start_ms) / 1000 / self.speed + 10.0
        if self._audio is not None:
            self._audio.start(self._start_ms)
        try:
            i = 0
            while not self._stop.is_set():
                now = self.position_ms(t0)
                while i < len(cues) and cues[i].t_ms <= now:
                    self.emitted.append((now, cues[i]))
                    if self.on_cue is not None:
                        self.on_cue(cues[i])
                    i += 1
                if i >= len(cues) and now >= self.plan.duration_ms:
                    break
                if self._clock() > give_up:  # the audio device stalled: do not hang
                    self.audio_note = "The audio output stopped advancing; replay ended."
                    break
                nxt = cues[i].t_ms if i < len(cues) else self.plan.duration_ms
                wait_s = (nxt - now) / 1000 / self.speed
                self._sleep(min(max(wait_s, 0.0005), 0.02 if self._audio else 0.25))
        finally:
            if self._audio is not None:
                self._audio.close()


def _clock_text(ms: float) -> str:
    s = max(0.0, ms / 1000)
    return f"{int(s // 60)}:{s % 60:04.1f}"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="voicecam replay",
        description="Play a recorded session (both sides, in time) and print the transcript.",
    )
    p.add_argument("file", help="a recorded session (*.voicecam)")
    p.add_argument("--no-audio", action="store_true", help="print the transcript only")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="replay speed, e.g. 2 (0.1-16; 0.5-2 keep the voices' pitch)",
    )
    p.add_argument(
        "--from",
        dest="start",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="start this many seconds into the session",
    )
    p.add_argument("--device", default=None, help="output device name or index")
    return p


def replay_main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """``voicecam replay FILE [--no-audio] [--speed 2]``. Returns the exit status."""
    stream = out if out is not None else sys.stdout
    parser = _parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not 0.1 <= args.speed <= 16:
        print("voicecam replay: error: --speed must be between 0.1 and 16", file=sys.stderr)
        return 2
    try:
        plan = ReplayPlan.load(args.file)
    except SessionFileError as exc:
        print(f"voicecam replay: error: {exc}", file=sys.stderr)
        return 2
    device: Device = args.device
    if isinstance(device, str) and device.isdigit():
        device = int(device)

    def show(cue: Cue) -> None:
        print(f"[{_clock_text(cue.t_ms)}] {cue.text}", file=stream, flush=True)

    replayer = Replayer(
        plan,
        speed=args.speed,
        audio=not args.no_audio,
        device=device,
        on_cue=show,
        start_ms=max(0.0, args.start * 1000),
    )
    if replayer.audio_note:
        print(replayer.audio_note, file=sys.stderr)
    note = replayer.audio_note
    try:
        print(
            f"Replaying {plan.path.name} ({plan.title}, {_clock_text(plan.duration_ms)})"
            + (f" at {args.speed:g}x" if args.speed != 1 else ""),
            file=stream,
            flush=True,
        )
        replayer.run()
        if replayer.audio_note != note:
            print(replayer.audio_note, file=sys.stderr)
    except KeyboardInterrupt:
        replayer.stop()
        print("Stopped.", file=stream)
        return 130
    except BrokenPipeError:  # `voicecam replay FILE | head`: the reader left; that's fine
        import os

        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        replayer.stop()
        return 0
    return 0
