"""The session cost meter.

Prices come from the one table in ``realtime.pricing`` (``assets/pricing.toml``; a
``pricing.toml`` in the user's config folder overrides it). ``CostMeter`` turns the
providers' ``Usage`` (from ``response.done`` / ``usageMetadata``) into a cost per turn and a
running session total. The offline backend costs nothing and says so.

Pure apart from reading the TOML file; not thread-safe (owned by the engine thread).
"""

from __future__ import annotations

from realtime.events import Usage
from realtime.pricing import (
    DEFAULT_TABLE,
    ModelPrice,
    PriceTable,
    PricingError,
    default_table,
)

__all__ = [
    "DEFAULT_TABLE",
    "CostMeter",
    "ModelPrice",
    "PriceTable",
    "PricingError",
    "bills_every_frame",
]

#: Backends that run on this computer (no bill).
LOCAL_BACKENDS = frozenset({"local", "offline"})


def bills_every_frame(backend: str, model: str, table: PriceTable | None = None) -> bool:
    """Whether frames cost money on every turn: a cloud backend whose model has an image price
    (or no known price at all — then assume it does). The offline server and ``ws://`` URLs
    (local servers) do not bill."""
    if backend in LOCAL_BACKENDS or backend.startswith("ws://"):
        return False
    price = (table or default_table()).lookup(model) if model else None
    return price is None or (not price.free and price.image_input > 0)


class CostMeter:
    """Accumulates usage and cost for one session (survives reconnects)."""

    def __init__(self, table: PriceTable, model: str, free: bool = False) -> None:
        self.table = table
        self.model = model
        self.price: ModelPrice | None = (
            ModelPrice(name="local", free=True) if free else table.lookup(model)
        )
        self.usage = Usage()
        self.usd = 0.0
        self.turns: list[tuple[Usage, float]] = []

    @property
    def free(self) -> bool:
        return self.price is not None and self.price.free

    @property
    def known(self) -> bool:
        return self.price is not None

    def add(self, usage: Usage) -> float:
        """Record one response's usage; returns its cost in USD (0 when unknown or free)."""
        usd = self.price.cost(usage) if self.price is not None else 0.0
        self.usage = self.usage + usage
        self.usd += usd
        self.turns.append((usage, usd))
        return usd

    def describe_turn(self, usage: Usage, usd: float) -> str:
        tokens = f"{usage.input_tokens} in / {usage.output_tokens} out tokens"
        if self.free:
            return f"{tokens} · free (offline)"
        if self.price is None:
            return f"{tokens} · cost unknown"
        return f"{tokens} · ${usd:.4f}"

    def describe(self) -> str:
        """Session line for the status bar."""
        if self.free:
            return "Cost: free (runs on this computer)"
        if self.price is None:
            return f"Cost: unknown — no price for {self.model!r} in pricing.toml"
        tokens = self.usage.total_tokens
        return f"Cost: ${self.usd:.4f} ({tokens} tokens, prices as of {self.table.as_of})"
