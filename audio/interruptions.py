"""``InterruptionMonitor``: the engine-thread shell around onset detection, the interruption judge,
the player's duck and a background snippet transcriber.

Call order (engine thread, from ``AudioEngine.process()``, after echo cancellation):

    actions = monitor.process(clean, raw, far, t0_ns, raw16, now_ns)     # every drained chunk
    actions += monitor.poll(now_ns)                                      # every process()

``clean``/``raw``/``far``: int16 at the device rate, a whole number of 10 ms blocks (the same
arrays the canceller saw; ``t0_ns`` the ADC time of the first sample); ``raw16``: the same *raw*
microphone audio at 16 kHz, which the snippets are cut from: the duck and hold already silence
most of the echo, and AEC3's processing makes Whisper misread hums (measured: piper's "Mm-hmm"
came out "And then, mom." after the canceller, with or without noise suppression, and right from
the raw microphone). The monitor applies every action to the
player itself (duck, hold, restore, clear) and returns them, so the caller only reports:

* :class:`~audio.interruption_judge.Interrupt` (``item_id``/``played_ms`` filled in, playback
  already cleared): the user interrupted — cancel the response and truncate the item to
  ``played_ms``, as for a ``BargeIn``;
* :class:`~audio.interruption_judge.Restore` with ``reason == BACKCHANNEL``: show ``text``
  greyed in the user's lane; it is not a turn;
* ``Duck``/``Hold``/other ``Restore``: status only.

Snippets are transcribed on one worker thread (``concurrent.futures``); ``transcriber=None`` means
every real voice over a reply is an interruption (the old behaviour). Engine thread only, except
the worker, which only runs ``transcriber.transcribe``.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
from collections import deque
from typing import Protocol

import numpy as np
import numpy.typing as npt

from audio.interruption_judge import (
    Duck,
    Hold,
    Interrupt,
    InterruptionJudge,
    JudgeAction,
    JudgeConfig,
    Reason,
    Restore,
    Transcribe,
)
from audio.player import Player
from dsp.backchannel import backchannel_phrase
from dsp.onset import Evidence, OnsetConfig, OnsetDetector

log = logging.getLogger(__name__)

Int16Array = npt.NDArray[np.int16]

__all__ = ["InterruptionMonitor", "TranscriberLike"]

_RATE16 = 16000
_KEEP_NS = 3_000_000_000  # 16 kHz history kept for snippets


class TranscriberLike(Protocol):
    """What the monitor needs from ``dsp.snippet_stt.SnippetTranscriber`` (blocking, any thread)."""

    def transcribe(self, pcm16_16k: bytes) -> str: ...


def _listen(transcriber: TranscriberLike, pcm: bytes, alt: bytes) -> str:
    """Worker thread: the snippet's words. Whisper tiny is brittle on hums (piper's "Mm-hmm" came
    out "And then, mom." with 40 ms of pre-roll and right without), so a snippet that does not
    read as a backchannel gets a second listen from the onset itself; either reading as a
    backchannel wins (interruptions read the same both ways on every shared clip)."""
    text = transcriber.transcribe(pcm)
    if backchannel_phrase(text) is not None or len(alt) >= len(pcm):
        return text
    second = transcriber.transcribe(alt)
    return second if backchannel_phrase(second) is not None else text


class InterruptionMonitor:
    """Duck at once, decide after (see the module docstring)."""

    def __init__(
        self,
        rate_hz: int,
        player: Player,
        transcriber: TranscriberLike | None,
        *,
        judge: JudgeConfig | None = None,
        onset: OnsetConfig | None = None,
        executor: concurrent.futures.Executor | None = None,
    ) -> None:
        self.rate_hz = rate_hz
        self.block = rate_hz // 100
        self.player = player
        self.detector = OnsetDetector(onset or OnsetConfig(rate_hz=rate_hz))
        self.judge = InterruptionJudge(judge, can_transcribe=transcriber is not None)
        self._transcriber = transcriber
        self._executor = executor
        self._own_executor = False
        self._pending: list[tuple[int, concurrent.futures.Future[str]]] = []
        self._hist: deque[tuple[int, bytes]] = deque()
        self.last_evidence: Evidence | None = None
        self.ducks = 0
        self.false_ducks = 0
        self.backchannels = 0
        self.interruptions = 0

    def close(self) -> None:
        """Stop the worker (pending transcripts are dropped). Any thread."""
        for _seq, fut in self._pending:
            fut.cancel()
        self._pending.clear()
        if self._own_executor and self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------ engine thread
    def process(
        self,
        clean: Int16Array,
        raw: Int16Array,
        far: Int16Array,
        t0_ns: int,
        raw16: bytes,
        now_ns: int,
    ) -> list[JudgeAction]:
        """Judge each 10 ms block of a drained chunk; apply and return the actions."""
        if raw16:
            self._hist.append((t0_ns, raw16))
            while self._hist and self._hist[0][0] < t0_ns - _KEEP_NS:
                self._hist.popleft()
        out: list[JudgeAction] = []
        b = self.block
        n_blocks = int(clean.shape[0]) // b
        block_ns = 10_000_000
        playing = self.player.is_playing
        for k in range(n_blocks):
            sl = slice(k * b, (k + 1) * b)
            ev = self.detector.process(clean[sl], raw[sl], far[sl], t0_ns + k * block_ns)
            self.last_evidence = ev
            out += self._apply(self.judge.on_evidence(ev, playing))
        return out + self.poll(now_ns)

    def poll(self, now_ns: int) -> list[JudgeAction]:
        """Finished transcripts and deadlines; apply and return the actions."""
        out: list[JudgeAction] = []
        still: list[tuple[int, concurrent.futures.Future[str]]] = []
        for seq, fut in self._pending:
            if not fut.done():
                still.append((seq, fut))
                continue
            text: str | None
            try:
                text = fut.result()
            except Exception as exc:  # a broken model: this snippet cannot be judged
                log.warning("snippet transcription failed: %s", exc)
                text = None
            out += self._apply(self.judge.on_transcript(seq, text, now_ns))
        self._pending = still
        return out + self._apply(self.judge.poll(now_ns))

    def reset(self) -> None:
        """New stream / reply cleared elsewhere: forget the pending decision, full gain."""
        self.judge.reset()
        self.player.set_duck(1.0, 1.0)

    # ------------------------------------------------------------------ internals
    def _apply(self, actions: list[JudgeAction]) -> list[JudgeAction]:
        out: list[JudgeAction] = []
        for a in actions:
            if isinstance(a, Duck):
                self.ducks += 1
                self.player.set_duck(a.gain, a.ramp_ms)
            elif isinstance(a, Hold):
                self.player.set_duck(0.0, a.ramp_ms, hold=True)
            elif isinstance(a, Restore):
                if a.reason is Reason.BACKCHANNEL:
                    self.backchannels += 1
                else:
                    self.false_ducks += 1
                    self.detector.false_alarm()
                self.player.set_duck(1.0, a.ramp_ms)
            elif isinstance(a, Interrupt):
                self.interruptions += 1
                item = self.player.jitter.current_item
                played = self.player.played_ms(item) if item is not None else 0
                self.player.clear()
                self.player.set_duck(1.0, 1.0)
                a = dataclasses.replace(a, item_id=item, played_ms=played)
            elif isinstance(a, Transcribe):
                self._submit(a)
            out.append(a)
        return out

    def _submit(self, a: Transcribe) -> None:
        transcriber = self._transcriber
        if transcriber is None:
            return
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(
                1, thread_name_prefix="snippet-stt"
            )
            self._own_executor = True
        pcm = self.snippet(a.from_ns, a.to_ns)
        alt = self.snippet(a.onset_ns, a.to_ns)
        self._pending.append((a.seq, self._executor.submit(_listen, transcriber, pcm, alt)))

    def snippet(self, from_ns: int, to_ns: int) -> bytes:
        """16 kHz raw microphone between two capture times (what history still holds)."""
        parts: list[bytes] = []
        for t, pcm in self._hist:
            n = len(pcm) // 2
            t_end = t + n * 1_000_000_000 // _RATE16
            if t_end <= from_ns or t >= to_ns:
                continue
            a = max(0, (from_ns - t) * _RATE16 // 1_000_000_000)
            b = min(n, (to_ns - t) * _RATE16 // 1_000_000_000)
            parts.append(pcm[2 * a : 2 * b])
        return b"".join(parts)
