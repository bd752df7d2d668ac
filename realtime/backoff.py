"""Exponential backoff with full jitter for reconnecting: pure, deterministic with an injected
rng."""

from __future__ import annotations

import random
from collections.abc import Iterator


class Backoff:
    """Exponential backoff with full jitter: attempt ``n`` (1-based) waits a uniform random time
    in ``[0, min(max_s, base_s * 2**(n-1))]``. At most ``max_attempts`` attempts.

    Pure: randomness comes only from ``rng`` (seed it for deterministic tests).
    """

    def __init__(
        self,
        base_s: float = 0.5,
        max_s: float = 30.0,
        max_attempts: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        if base_s < 0 or max_s < base_s:
            raise ValueError(f"need 0 <= base_s <= max_s, got base_s={base_s} max_s={max_s}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.base_s = base_s
        self.max_s = max_s
        self.max_attempts = max_attempts
        self._rng = rng if rng is not None else random.Random()

    def ceiling_s(self, attempt: int) -> float:
        """Upper bound of the delay before ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError(f"attempt is 1-based, got {attempt}")
        return min(self.max_s, self.base_s * 2.0 ** min(attempt - 1, 62))

    def delay_s(self, attempt: int) -> float:
        """A fresh jittered delay before ``attempt`` (consumes one rng draw)."""
        return self._rng.uniform(0.0, self.ceiling_s(attempt))

    def delays(self) -> Iterator[float]:
        """The delays of attempts 1..max_attempts."""
        for attempt in range(1, self.max_attempts + 1):
            yield self.delay_s(attempt)
