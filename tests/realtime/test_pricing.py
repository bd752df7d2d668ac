"""The price table (issue 13, item 2): current models priced with a source; unknown = unknown."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app.model_catalog import MODELS
from app.pricing import CostMeter
from realtime.events import Usage
from realtime.pricing import DEFAULT_TABLE, PriceTable, estimate_cost_usd

USAGE = Usage(
    input_tokens=1_000_000,
    output_tokens=1_000_000,
    input_audio_tokens=1_000_000,
    output_audio_tokens=1_000_000,
)


def test_every_model_the_pickers_offer_has_a_dated_sourced_price() -> None:
    raw = tomllib.loads(DEFAULT_TABLE.read_text(encoding="utf-8"))
    table = PriceTable.load()
    for model in MODELS:
        price = table.lookup(model.name)
        assert price is not None, model.name  # its own row, or the row it is a snapshot of
        row = raw["models"][price.name]
        assert row["source"].startswith("https://") and row["checked"][:4] >= "2025", model.name


def test_current_openai_prices() -> None:
    table = PriceTable.load()
    two = table.lookup("gpt-realtime-2")
    assert two is not None
    assert (two.text_input, two.cached_input, two.text_output) == (4.0, 0.4, 24.0)
    assert (two.audio_input, two.audio_output, two.image_input) == (32.0, 64.0, 5.0)
    one_five = table.lookup("gpt-realtime-1.5")
    assert one_five is not None and one_five.text_output == 16.0
    mini = table.lookup("gpt-realtime-2.1-mini")
    assert mini is not None
    assert (mini.text_input, mini.audio_input, mini.audio_output, mini.image_input) == (
        0.6,
        10.0,
        20.0,
        0.8,
    )
    # 1 M audio tokens in and out on gpt-realtime-2: $32 + $64
    assert two.cost(USAGE) == pytest.approx(96.0)


@pytest.mark.parametrize(
    ("model", "priced_as"),
    [
        ("gpt-realtime-2025-08-28", "gpt-realtime"),
        ("gpt-realtime-mini-2025-12-15", "gpt-realtime-mini"),
        ("gemini-2.5-flash-native-audio-preview-09-2025", "gemini-2.5-flash-native-audio"),
        ("gemini-2.0-flash-live-001", "gemini-2.0-flash-live"),
        ("models/gemini-3.8-live", "gemini-3.8-live"),
        ("projects/p/locations/l/publishers/google/models/gemini-3.8-live", "gemini-3.8-live"),
        ("gpt-realtime-3", None),  # a newer model is unknown, not priced as gpt-realtime
        ("gpt-realtime-2-turbo", None),
        ("gemini-9-live", None),
    ],
)
def test_snapshots_share_a_price_other_names_are_unknown(model: str, priced_as: str | None) -> None:
    price = PriceTable.load().lookup(model)
    assert (price.name if price else None) == priced_as


def test_a_missing_price_shows_unknown_never_zero(tmp_path: Path) -> None:
    table_file = tmp_path / "pricing.toml"
    table_file.write_text('as_of = "2026-12-05"\n[models."gpt-realtime-2"]\ntext_input = 4.0\n')
    table = PriceTable.load(table_file)
    meter = CostMeter(table, "gpt-realtime-2.1")  # not in this table
    meter.add(USAGE)
    assert not meter.known
    assert meter.describe() == "Cost: unknown — no price for 'gpt-realtime-2.1' in pricing.toml"
    assert meter.describe_turn(USAGE, 0.0).endswith("cost unknown")
    assert estimate_cost_usd("openai", "gpt-realtime-9", USAGE) is None
    assert estimate_cost_usd("local", "anything", USAGE) == 0.0
