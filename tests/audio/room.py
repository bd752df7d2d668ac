"""A simulated room for interruption tests and the bench (virtual time, no sound server).

Every 10 ms block: the real ``Player`` fills the speaker block; the room turns the speaker's
output into echo (delay, a decaying reflection tail, attenuation) and adds the user's voice and a
little noise; the real ``EchoCanceller`` (AEC3) cleans it; the real ``InterruptionMonitor`` judges
it and ducks/holds/clears the same player. Everything runs at 16 kHz (AEC3 is cheapest there).
"""

from __future__ import annotations

import concurrent.futures
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audio.aec import EchoCanceller
from audio.interruption_judge import JudgeAction, JudgeConfig
from audio.interruptions import InterruptionMonitor, TranscriberLike
from audio.jitter import JitterBuffer
from audio.player import Player
from dsp.pcm import read_wav

RATE = 16000
BLOCK = 160
MS = 1_000_000
MEDIA = Path(__file__).resolve().parents[3] / "shared" / "media"
TURNS = MEDIA / "turns"
SPEECH = MEDIA / "speech"


def turn_clips(*kinds: str) -> list[dict[str, object]]:
    meta: list[dict[str, object]] = json.loads((TURNS / "turns.json").read_text())
    return [m for m in meta if m["kind"] in kinds]


def clip(name: str, base: Path = TURNS) -> np.ndarray:
    pcm, rate = read_wav(base / name)
    assert rate == RATE
    return np.frombuffer(pcm, dtype=np.int16).copy()


def reply_speech(seconds: float) -> np.ndarray:
    """A long spoken reply: the shared piper questions back to back."""
    parts = [clip(f"q0{i}_piper.wav", SPEECH) for i in range(1, 9)]
    return np.resize(np.concatenate(parts), int(seconds * RATE)).astype(np.int16)


class SyncExecutor(concurrent.futures.Executor):
    """Runs each job at submit (deterministic tests); ``delay_ms`` is reported per job."""

    def submit(
        self, fn: Callable[..., str], /, *args: object, **kwargs: object
    ) -> concurrent.futures.Future[str]:  # type: ignore[override]
        fut: concurrent.futures.Future[str] = concurrent.futures.Future()
        fut.set_result(fn(*args, **kwargs))
        return fut


class DelayedExecutor(concurrent.futures.Executor):
    """Runs each job at submit but lets its future complete only ``delay_ms`` of *virtual* time
    later (``release(now_ns)``): a transcriber's latency modelled on the simulated clock."""

    def __init__(self, clock: Callable[[], int], delay_ms: Callable[[float], float]) -> None:
        self.clock = clock
        self.delay_ms = delay_ms  # measured wall ms of the job → virtual ms to wait
        self.jobs: list[tuple[int, str, concurrent.futures.Future[str]]] = []

    def submit(
        self, fn: Callable[..., str], /, *args: object, **kwargs: object
    ) -> concurrent.futures.Future[str]:  # type: ignore[override]
        import time

        t = time.perf_counter()
        text = fn(*args, **kwargs)
        wall_ms = (time.perf_counter() - t) * 1000
        fut: concurrent.futures.Future[str] = concurrent.futures.Future()
        self.jobs.append((self.clock() + int(self.delay_ms(wall_ms) * MS), text, fut))
        return fut

    def release(self, now_ns: int) -> None:
        for due, text, fut in list(self.jobs):
            if due <= now_ns:
                fut.set_result(text)
                self.jobs.remove((due, text, fut))


@dataclass
class Room:
    """Speaker → echo → mic (+ user, + noise) → AEC3 → monitor, on a virtual clock."""

    transcriber: TranscriberLike | None
    echo_db: float = -6.0
    echo_delay_ms: int = 40
    noise_dbfs: float = -66.0
    aec: bool = True
    judge: JudgeConfig | None = None
    executor: concurrent.futures.Executor | None = None
    seed: int = 1
    t_ns: int = 1_000_000_000
    actions: list[JudgeAction] = field(default_factory=list)
    out: list[np.ndarray] = field(default_factory=list)
    #: per block: (t_ns at its start, gain before, gain after, held after) — the player's duck
    gains: list[tuple[int, float, float, bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self.rng = rng
        self.player = Player(JitterBuffer(RATE, prefill_ms=20), BLOCK)
        self.canceller = EchoCanceller(RATE, enabled=self.aec, delay_hint_ms=self.echo_delay_ms)
        self.monitor = InterruptionMonitor(
            RATE,
            self.player,
            self.transcriber,
            judge=self.judge,
            executor=self.executor or SyncExecutor(),
        )
        n_ir = RATE * 60 // 1000
        ir = rng.standard_normal(n_ir) * np.exp(-np.arange(n_ir) / (RATE * 0.012)) * 0.25
        ir[0] = 1.0
        delay = self.echo_delay_ms * RATE // 1000
        self.ir = np.concatenate([np.zeros(delay), ir]) * 10 ** (self.echo_db / 20)
        self._far_hist = np.zeros(len(self.ir) - 1 + BLOCK)

    def play(self, item_id: str, pcm: np.ndarray) -> None:
        self.player.play(item_id, pcm.astype(np.int16).tobytes(), RATE, self.t_ns)
        self.player.end_item(item_id, self.t_ns)

    def step(self, user: np.ndarray | None = None) -> list[JudgeAction]:
        """One 10 ms block; ``user``: the user's voice reaching the mic in this block."""
        out = np.zeros(BLOCK, dtype=np.int16)
        g0 = self.player.gain
        self.player.fill(out, self.t_ns)
        self.gains.append((self.t_ns, g0, self.player.gain, self.player.held))
        self.out.append(out.copy())
        far = out.astype(np.float64)
        self._far_hist = np.concatenate([self._far_hist[BLOCK:], far])
        echo = np.convolve(self._far_hist, self.ir, mode="valid")
        mic = echo + self.rng.standard_normal(BLOCK) * 32768 * 10 ** (self.noise_dbfs / 20)
        if user is not None:
            mic[: len(user)] += user
        raw = np.clip(mic, -32768, 32767).astype(np.int16)
        clean = self.canceller.process(raw, out)
        acts = self.monitor.process(clean, raw, out, self.t_ns, raw.tobytes(), self.t_ns)
        self.t_ns += 10 * MS
        if isinstance(self.monitor._executor, DelayedExecutor):
            self.monitor._executor.release(self.t_ns)
        self.actions += acts
        return acts

    def run(self, user: np.ndarray | None, blocks: int, start_block: int = 0) -> None:
        """``blocks`` blocks; ``user`` (whole clip) starts at ``start_block`` of this run."""
        for k in range(blocks):
            seg = None
            if user is not None:
                a = (k - start_block) * BLOCK
                if 0 <= a < len(user):
                    seg = user[a : a + BLOCK].astype(np.float64)
            self.step(seg)
