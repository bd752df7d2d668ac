"""Reply playout buffer (pure: no threads, no clock; time comes in as arguments).

``JitterBuffer`` queues reply audio per item (in arrival order) at the device rate and plays it
out block by block through ``read_into()``:

* **Prefill**: playout starts once ``target_samples`` are buffered, the item is ended, or nothing
  new arrived for the target duration (a tail that never gets an ``end()``).
* **Adaptive depth**: every write measures how late the chunk arrived relative to the item's
  own timeline (``arrival - content_time``, minus its running minimum); the target follows the
  peak lateness seen in the last ``window_ms`` *of received audio* (idle time between replies
  does not make it forget) plus ``margin_ms``, clamped to ``[min_prefill_ms, max_prefill_ms]``.
  Fixed mode (``adaptive=False``) keeps ``prefill_ms``.
* **No cold start**: until the buffer has heard ``learn_ms`` of audio it cannot know the
  network, so the target is at least a prior that fades linearly from ``cold_start_ms`` to
  nothing over those ``learn_ms`` (measured in the bench: 80 ms bursty jitter gave 0.2–0.6
  underruns per minute, all in the first reply, without it). The peak of the few stalls seen
  so far underestimates the network, so while learning the target also keeps 1.5 × that peak
  (at most ``cold_start_ms``), held for ``learn_ms`` and faded over another ``learn_ms``
  (without it one bench seed in 20 underran in its second reply at 80 ms jitter); an on-time
  network (peak ≈ 0) pays nothing for it. ``seed_lateness_ms`` sets a learned figure from an
  earlier session (the app can keep ``learned_lateness_ms``).
* **Scheduled start**: an item's first sample is due ``target`` after its earliest arrival
  (its base delay), even when less than ``target`` is buffered by then. Without it a stall
  during the prefill delayed the start and the whole item kept the extra depth (one bench
  seed: 140 ms p95 added delay at 80 ms jitter, the others 90). On schedule, every sample that
  arrives within the learned lateness still comes before it is due.
* **Underruns**: when a playing item runs dry the block is zero-filled and playout rebuffers to
  the target. The gap is counted as an underrun when more audio for that item arrives (a gap
  inside an item); a dry tail that is ended, cleared or followed by another item is not one.
* **Played position**: ``played_samples(item)`` counts only real samples copied out (zero-fill is
  never counted); ``first_audible_ns(item)`` is the ``t_ns`` passed to ``read_into`` plus the
  offset of the first real sample in that block.
* ``clear()`` drops all queued audio at once (barge-in); positions stay queryable.

Thread contract: not thread-safe. ``audio.player.Player`` confines it to the audio callback and
feeds it through a command queue.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]

_KEEP_ITEMS = 256  # finished items whose positions stay queryable


@dataclass
class ItemState:
    """Book-keeping for one reply item (samples at the buffer's rate)."""

    item_id: str
    received: int = 0
    played: int = 0
    ended: bool = False
    cleared: bool = False
    first_audible_ns: int | None = None
    last_arrival_ns: int = 0
    base_delay_ns: int | None = None
    pending_gap: int = 0
    chunks: deque[Int16Array] = field(default_factory=deque)
    offset: int = 0
    buffered: int = 0


class JitterBuffer:
    """Per-item playout buffer with prefill, adaptive depth and exact played positions."""

    def __init__(
        self,
        rate_hz: int,
        prefill_ms: int = 40,
        min_prefill_ms: int = 20,
        max_prefill_ms: int = 300,
        adaptive: bool = True,
        window_ms: int = 30_000,
        margin_ms: int = 20,
        cold_start_ms: int = 100,
        learn_ms: int = 8_000,
    ) -> None:
        if rate_hz <= 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        self.rate_hz = rate_hz
        self.adaptive = adaptive
        self._min = min_prefill_ms * rate_hz // 1000
        self._max = max_prefill_ms * rate_hz // 1000
        self._fixed = prefill_ms * rate_hz // 1000
        self._margin = margin_ms * rate_hz // 1000
        self._lateness: deque[tuple[int, int]] = deque()  # (heard samples, lateness ns)
        self._cold = cold_start_ms * rate_hz // 1000 if adaptive else 0
        self._learn = max(1, learn_ms * rate_hz // 1000)
        self._heard = 0  # samples received in total (the clock of the lateness window)
        self._window = window_ms * rate_hz // 1000
        self.target_samples = max(self._fixed, min(self._max, self._cold))
        self._queue: deque[ItemState] = deque()
        self._items: OrderedDict[str, ItemState] = OrderedDict()
        self._playing = False
        self.buffered_samples = 0
        self.underruns = 0
        self.underrun_samples = 0
        self.zero_samples = 0  # all zero-filled output, idle included

    # ------------------------------------------------------------------ writer side
    def write(self, item_id: str, pcm: Int16Array | bytes, t_ns: int) -> None:
        """Queue audio of ``item_id`` that arrived at ``t_ns`` (monotonic ns).

        Writing to an ended or cleared item is ignored (late audio of an interrupted reply).
        """
        samples = np.frombuffer(pcm, dtype="<i2") if isinstance(pcm, bytes) else pcm
        item = self._items.get(item_id)
        if item is None:
            item = ItemState(item_id)
            self._items[item_id] = item
            while len(self._items) > _KEEP_ITEMS:
                self._items.popitem(last=False)
            self._queue.append(item)
        elif item.ended or item.cleared:
            return
        self._measure(item, t_ns)
        if samples.size == 0:
            return
        item.chunks.append(samples)
        self._heard += int(samples.size)
        item.buffered += int(samples.size)
        item.received += int(samples.size)
        item.last_arrival_ns = t_ns
        self.buffered_samples += int(samples.size)
        if item.pending_gap:
            self.underruns += 1
            self.underrun_samples += item.pending_gap
            item.pending_gap = 0

    def end(self, item_id: str) -> None:
        """No more audio will come for ``item_id`` (e.g. the provider's audio-done event)."""
        item = self._items.get(item_id)
        if item is not None:
            item.ended = True
            item.pending_gap = 0

    def clear(self) -> list[str]:
        """Drop all queued audio now; returns the ids of the items that were dropped."""
        dropped = []
        for item in self._queue:
            item.cleared = True
            item.chunks.clear()
            item.buffered = 0
            item.offset = 0
            item.pending_gap = 0
            dropped.append(item.item_id)
        self._queue.clear()
        self.buffered_samples = 0
        self._playing = False
        return dropped

    def seed_lateness_ms(self, ms: float) -> None:
        """Start from a lateness learned earlier (e.g. the last session's ``learned_lateness_ms``):
        it counts as heard now and ages out of the window like any measurement."""
        self._note_lateness(int(ms * 1_000_000))
        self._cold = 0
        self._retarget()

    @property
    def learned_lateness_ms(self) -> float:
        """Peak lateness in the current window (ms): what the adaptive target is built from."""
        return self._lateness[0][1] / 1_000_000 if self._lateness else 0.0

    def _measure(self, item: ItemState, t_ns: int) -> None:
        content_ns = item.received * 1_000_000_000 // self.rate_hz
        delay = t_ns - content_ns
        if item.base_delay_ns is None or delay < item.base_delay_ns:
            item.base_delay_ns = delay
        self._note_lateness(delay - item.base_delay_ns)
        self._retarget()

    def _note_lateness(self, late: int) -> None:
        lat = self._lateness
        while lat and lat[-1][1] <= late:  # monotonic deque: running window maximum
            lat.pop()
        lat.append((self._heard, late))
        while lat and lat[0][0] < self._heard - self._window:
            lat.popleft()

    def _retarget(self) -> None:
        if not self.adaptive:
            return
        peak = self._lateness[0][1] * self.rate_hz // 1_000_000_000 if self._lateness else 0
        learn, heard = self._learn, self._heard
        prior = self._cold * max(0, learn - heard) // learn  # fades over learn_ms
        # A peak of a few stalls underestimates the network: while learning, keep half again
        # as much room (up to the prior), held for learn_ms, then faded over another learn_ms.
        held = min(learn, max(0, 2 * learn - heard))
        doubt = min(self._cold, peak * 3 // 2) * held // learn
        target = max(peak + self._margin, prior, doubt)
        self.target_samples = int(min(self._max, max(self._min, target)))

    # ------------------------------------------------------------------ reader side
    def read_into(self, out: Int16Array, t_ns: int) -> int:
        """Fill ``out`` completely (zeros where there is no audio); returns real samples written.

        ``t_ns``: when ``out[0]`` will reach the speaker (monotonic ns).
        """
        n = int(out.shape[0])
        pos = 0
        if not self._playing and self._queue and self._ready(t_ns):
            self._playing = True
        if self._playing:
            pos = self._copy(out, n, t_ns)
        if pos < n:
            out[pos:] = 0
            self.zero_samples += n - pos
            head = self._queue[0] if self._queue else None
            if head is not None and not head.ended and (self._playing or head.pending_gap):
                head.pending_gap += n - pos  # a gap inside the item (counted if audio resumes)
            self._playing = False  # dry: rebuffer to the target before resuming
        return pos

    def _ready(self, t_ns: int) -> bool:
        if self.buffered_samples >= self.target_samples:
            return True
        head = self._queue[0]
        if head.ended or len(self._queue) > 1:
            return True
        wait_ns = self.target_samples * 1_000_000_000 // self.rate_hz
        # Scheduled start: the item's first sample is due one target after the item's
        # earliest (least delayed) arrival, whatever has come in since.
        if head.played == 0 and head.base_delay_ns is not None:
            return t_ns >= head.base_delay_ns + wait_ns or t_ns - head.last_arrival_ns >= wait_ns
        return t_ns - head.last_arrival_ns >= wait_ns

    def _copy(self, out: Int16Array, n: int, t_ns: int) -> int:
        pos = 0
        queue = self._queue
        while pos < n and queue:
            item = queue[0]
            if item.buffered == 0:
                if item.ended or len(queue) > 1:
                    queue.popleft()
                    item.pending_gap = 0
                    continue
                break
            if item.first_audible_ns is None:
                item.first_audible_ns = t_ns + pos * 1_000_000_000 // self.rate_hz
            while pos < n and item.chunks:
                chunk = item.chunks[0]
                take = min(n - pos, int(chunk.shape[0]) - item.offset)
                out[pos : pos + take] = chunk[item.offset : item.offset + take]
                pos += take
                item.offset += take
                item.played += take
                item.buffered -= take
                self.buffered_samples -= take
                if item.offset >= chunk.shape[0]:
                    item.chunks.popleft()
                    item.offset = 0
        return pos

    # ------------------------------------------------------------------ queries
    @property
    def playing(self) -> bool:
        """Audio is queued or being played out."""
        return bool(self._queue) and (self.buffered_samples > 0 or self._playing)

    @property
    def current_item(self) -> str | None:
        """The item at the head of the queue (playing or about to), if any."""
        return self._queue[0].item_id if self._queue else None

    def item(self, item_id: str) -> ItemState | None:
        return self._items.get(item_id)

    def played_samples(self, item_id: str) -> int:
        item = self._items.get(item_id)
        return item.played if item is not None else 0

    def played_ms(self, item_id: str) -> int:
        """Milliseconds of ``item_id`` actually played (rounded down; 0 if unknown)."""
        return self.played_samples(item_id) * 1000 // self.rate_hz

    def received_ms(self, item_id: str) -> int:
        item = self._items.get(item_id)
        return item.received * 1000 // self.rate_hz if item is not None else 0

    def first_audible_ns(self, item_id: str) -> int | None:
        item = self._items.get(item_id)
        return item.first_audible_ns if item is not None else None

    @property
    def target_ms(self) -> float:
        return self.target_samples * 1000 / self.rate_hz
