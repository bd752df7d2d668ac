"""Token prices per model: the one price table of VoiceCam.

The table lives in ``assets/pricing.toml`` (US dollars per 1 million tokens, dated with
``as_of``, editable); a ``pricing.toml`` in the user's config folder can override it
(``PriceTable.load(override=...)``). Used by the app's cost meter (``app.pricing.CostMeter``)
and by the session recorder's usage rows, so both show the same figures.

Pure apart from reading the TOML file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from realtime.events import Usage

DEFAULT_TABLE = Path(__file__).resolve().parents[1] / "assets" / "pricing.toml"
#: What may follow a priced name in a snapshot of it: ``-preview``, ``-001``, ``-2025-08-28``,
#: ``-09-2025``, ``-preview-04-09`` (nothing else).
_SNAPSHOT = re.compile(r"^(?:-preview)?(?:-\d{2,4}(?:-\d{2,4}){0,2})?$")


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
        """Exact name, then the longest table name that ``model`` is a snapshot of (the name
        followed only by a date or preview suffix: ``gpt-realtime-2025-08-28``,
        ``gemini-2.5-flash-native-audio-preview-09-2025``). Anything else is unknown (None):
        ``gpt-realtime-3`` is not priced as ``gpt-realtime``. A Vertex AI resource path
        (``projects/…/models/NAME``) is looked up by its last part."""
        name = model.removeprefix("models/").rsplit("/", 1)[-1]
        if name in self.models:
            return self.models[name]
        snapshots = (k for k in self.models if _SNAPSHOT.match(name.removeprefix(k)))
        best = max((k for k in snapshots if name.startswith(k)), key=len, default=None)
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


#: Backends that run on this computer and cost nothing.
FREE_BACKENDS = frozenset({"local", "offline"})


@cache
def default_table() -> PriceTable:
    """The bundled table, read once."""
    return PriceTable.load()


def estimate_cost_usd(backend: str, model: str, usage: Usage) -> float | None:
    """Cost of one response's usage, 0 for a free backend, ``None`` for an unknown model."""
    if backend in FREE_BACKENDS:
        return 0.0
    price = default_table().lookup(model)
    return None if price is None else price.cost(usage)
