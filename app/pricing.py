"""Token prices per model and the session cost meter.

The table lives in ``assets/pricing.toml`` (US dollars per 1 million tokens, dated with
``as_of``); a ``pricing.toml`` in the user's config folder overrides it. ``CostMeter`` turns the
providers' ``Usage`` (from ``response.done`` / ``usageMetadata``) into a cost per turn and a
running session total. The offline backend costs nothing and says so.

Pure apart from reading the TOML file; not thread-safe (owned by the engine thread).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from realtime.events import Usage

DEFAULT_TABLE = Path(__file__).resolve().parents[1] / "assets" / "pricing.toml"


class PricingError(ValueError):
    """The price table could not be read (names the file and the problem)."""


@dataclass(frozen=True)
class ModelPrice:
    """USD per 1 M tokens. ``free`` marks a backend that costs nothing (offline)."""

    name: str
    text_input: float = 0.0
    cached_input: float = 0.0
    audio_input: float = 0.0
    image_input: float = 0.0
    text_output: float = 0.0
    audio_output: float = 0.0
    free: bool = False

    def cost(self, usage: Usage) -> float:
        """Dollars for ``usage``. Cached tokens are taken out of the text/audio inputs pro rata;
        tokens not broken down by modality are priced as text."""
        if self.free:
            return 0.0
        text_in = usage.input_text_tokens
        audio_in = usage.input_audio_tokens
        image_in = usage.input_image_tokens
        rest_in = max(0, usage.input_tokens - text_in - audio_in - image_in)
        text_in += rest_in
        cached = min(usage.input_cached_tokens, text_in + audio_in)
        if cached and text_in + audio_in:
            share = text_in / (text_in + audio_in)
            text_cut = round(cached * share)
            text_in -= text_cut
            audio_in -= cached - text_cut
        text_out = usage.output_text_tokens
        audio_out = usage.output_audio_tokens
        text_out += max(0, usage.output_tokens - text_out - audio_out)
        usd = (
            text_in * self.text_input
            + audio_in * self.audio_input
            + image_in * self.image_input
            + cached * self.cached_input
            + text_out * self.text_output
            + audio_out * self.audio_output
        )
        return usd / 1_000_000


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    models: dict[str, ModelPrice]
    source: str = ""

    @classmethod
    def load(cls, path: Path | None = None, override: Path | None = None) -> PriceTable:
        """Read ``path`` (default: the bundled table), then ``override`` if it exists."""
        table = _read(path or DEFAULT_TABLE)
        if override is not None and override.is_file():
            extra = _read(override)
            table = PriceTable(
                as_of=extra.as_of or table.as_of,
                models={**table.models, **extra.models},
                source=str(override),
            )
        return table

    def lookup(self, model: str) -> ModelPrice | None:
        """Exact name, then the longest table name that ``model`` starts with."""
        name = model.removeprefix("models/")
        if name in self.models:
            return self.models[name]
        best = max((k for k in self.models if name.startswith(k)), key=len, default=None)
        return None if best is None else self.models[best]


def _read(path: Path) -> PriceTable:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise PricingError(f"price table not found: {path}") from e
    except tomllib.TOMLDecodeError as e:
        raise PricingError(f"price table {path} is not valid TOML: {e}") from e
    models: dict[str, ModelPrice] = {}
    fields = ("text_input", "cached_input", "audio_input", "image_input")
    for name, row in (data.get("models") or {}).items():
        if not isinstance(row, dict):
            raise PricingError(f'{path}: [models."{name}"] must be a table')
        try:
            vals = {k: float(row[k]) for k in (*fields, "text_output", "audio_output") if k in row}
        except (TypeError, ValueError) as e:
            raise PricingError(f"{path}: model {name!r} has a price that is not a number") from e
        for k in fields[1:]:
            vals.setdefault(k, vals.get("text_input", 0.0))
        vals.setdefault("audio_output", vals.get("text_output", 0.0))
        models[name] = ModelPrice(name=name, free=bool(row.get("free", False)), **vals)
    return PriceTable(as_of=str(data.get("as_of", "")), models=models, source=str(path))


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
