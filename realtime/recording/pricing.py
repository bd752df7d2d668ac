"""Token cost estimates in US dollars, from the providers' published per-million-token prices.

Prices change: these are estimates shown as such. Unknown backends/models give ``None``
(cost unknown), the offline backend gives 0. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from realtime.events import Usage


@dataclass(frozen=True)
class Prices:
    """USD per 1 million tokens."""

    text_in: float
    audio_in: float
    image_in: float
    cached_in: float
    text_out: float
    audio_out: float


# (backend, model prefix) -> prices; the longest matching prefix wins.
_TABLE: dict[tuple[str, str], Prices] = {
    ("openai", "gpt-realtime-mini"): Prices(0.60, 10.0, 0.80, 0.06, 2.40, 20.0),
    ("openai", "gpt-4o-mini-realtime"): Prices(0.60, 10.0, 0.80, 0.30, 2.40, 20.0),
    ("openai", "gpt-realtime"): Prices(4.0, 32.0, 5.0, 0.40, 16.0, 64.0),
    ("openai", "gpt-4o-realtime"): Prices(5.0, 40.0, 5.0, 2.50, 20.0, 80.0),
    ("gemini", "gemini-2.5-flash"): Prices(0.50, 3.0, 3.0, 0.50, 2.0, 12.0),
    ("gemini", "gemini-live-2.5-flash"): Prices(0.50, 3.0, 3.0, 0.50, 2.0, 12.0),
    ("gemini", "gemini-2.0-flash"): Prices(0.35, 2.10, 2.10, 0.35, 1.50, 8.50),
}
_FREE_BACKENDS = frozenset({"local", "offline"})


def prices_for(backend: str, model: str) -> Prices | None:
    if backend in _FREE_BACKENDS:
        return Prices(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    best: Prices | None = None
    best_len = -1
    for (b, prefix), prices in _TABLE.items():
        if b == backend and model.startswith(prefix) and len(prefix) > best_len:
            best, best_len = prices, len(prefix)
    return best


def estimate_cost_usd(backend: str, model: str, usage: Usage) -> float | None:
    """Cost of one response's usage, or ``None`` if the model's prices are unknown."""
    p = prices_for(backend, model)
    if p is None:
        return None
    text_in = usage.input_text_tokens
    audio_in = usage.input_audio_tokens
    image_in = usage.input_image_tokens
    detailed_in = text_in + audio_in + image_in
    if detailed_in == 0:  # provider gave no breakdown: price everything as text
        text_in = usage.input_tokens
    cached = min(usage.input_cached_tokens, text_in + audio_in + image_in)
    text_out = usage.output_text_tokens
    audio_out = usage.output_audio_tokens
    if text_out + audio_out == 0:
        audio_out = usage.output_tokens
    # Cached tokens are billed at the cached rate instead of their own (approximation: taken
    # from audio first, where they save most).
    audio_in_billed = max(0, audio_in - cached)
    text_in_billed = max(0, text_in - max(0, cached - audio_in))
    total = (
        text_in_billed * p.text_in
        + audio_in_billed * p.audio_in
        + image_in * p.image_in
        + cached * p.cached_in
        + text_out * p.text_out
        + audio_out * p.audio_out
    )
    return total / 1_000_000
