"""The spend limit's arithmetic: what the next turn will cost, and how close a budget is.

Pure: no clock, no I/O, no threads. The owner (``app.core_budget`` inside the conversation core)
tells a :class:`BudgetMeter` what went to the model (seconds of audio, frames) and what each
response cost (``Usage``), and asks :meth:`BudgetMeter.status` before each response.

Why an estimate of the *next* turn: both providers bill the whole conversation again on every
turn (earlier audio, earlier images, earlier replies), so a session with the camera on grows
more expensive per turn as it goes. The estimate is

    next turn = re-billed context (everything the last response saw, plus its output)
              + media sent since the last response (audio seconds, frames)
              + a reply as long as the average reply so far (first turn: ``DEFAULT_REPLY``)

priced at the full (uncached) input rate: an upper bound, because caching is the provider's
choice, not ours. Levels: ``OK`` below 80 % of a budget, ``WARNING`` from 80 %, ``STOPPED`` once
the money spent plus the next turn would pass 100 % (so the turn that would break the budget is
never started by our audio or frames). An unknown price gives ``UNKNOWN``: the limit cannot be
checked, and the caller says so rather than pretending the cost is 0.

Units: US dollars (``_usd``), seconds (``_s``), tokens.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from realtime.events import Usage
from realtime.pricing import ModelPrice

__all__ = [
    "DEFAULT_REPLY",
    "TOKEN_RATES",
    "WARN_FRACTION",
    "BudgetLevel",
    "BudgetMeter",
    "BudgetStatus",
    "Limits",
    "TokenRates",
    "rates_for",
]

#: A budget warns at this fraction of its limit.
WARN_FRACTION = 0.8


@dataclass(frozen=True)
class TokenRates:
    """How a provider turns media into tokens (documented by the providers; approximations
    for images, whose count depends on size and detail)."""

    audio_input_per_s: float
    audio_output_per_s: float
    #: One camera frame at the normal detail the feed sends.
    image_tokens: int
    #: One high-detail "look at this" snapshot.
    snapshot_tokens: int


#: OpenAI Realtime: user audio 1 token / 100 ms, model audio 1 token / 50 ms; an image at
#: "auto" detail of a ≤768 px frame ≈ 4 tiles × 170 + 85. Gemini Live: 32 tokens per second of
#: audio either way, 258 tokens per image at the default media resolution.
TOKEN_RATES: dict[str, TokenRates] = {
    "openai": TokenRates(10.0, 20.0, image_tokens=765, snapshot_tokens=1105),
    "gemini": TokenRates(32.0, 32.0, image_tokens=258, snapshot_tokens=258),
}


def rates_for(provider: str) -> TokenRates:
    """The provider's token rates; the OpenAI protocol's for anything else (Azure, proxies)."""
    return TOKEN_RATES.get(provider, TOKEN_RATES["openai"])


#: The first reply's assumed size: 8 s of speech and its transcript.
DEFAULT_REPLY = Usage(output_tokens=200, output_audio_tokens=160, output_text_tokens=40)


@dataclass(frozen=True)
class Limits:
    """Budgets in USD; ``None`` means no limit. ``day_spent_usd``: spent earlier today (other
    sessions, from ``realtime.spend_store``). Raises ValueError for a limit that is not > 0."""

    session_usd: float | None = None
    day_usd: float | None = None

    def __post_init__(self) -> None:
        for name in ("session_usd", "day_usd"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"a {name.removesuffix('_usd')} budget must be more than $0")

    @property
    def any(self) -> bool:
        return self.session_usd is not None or self.day_usd is not None


class BudgetLevel(enum.StrEnum):
    NONE = "none"  # no budget set
    OK = "ok"
    WARNING = "warning"
    STOPPED = "stopped"
    UNKNOWN = "unknown"  # a budget is set but the model's price is not known


@dataclass(frozen=True)
class BudgetStatus:
    """One reading of the meter. ``fraction``: of the tightest budget, spent plus next turn;
    ``which``: ``"session"`` or ``"day"`` (the tightest), ``""`` without a budget."""

    level: BudgetLevel
    session_usd: float | None
    day_usd: float | None
    next_turn_usd: float | None
    fraction: float = 0.0
    which: str = ""
    limit_usd: float | None = None

    @property
    def message(self) -> str:
        """A sentence for the user (empty when there is nothing to say)."""
        if self.level is BudgetLevel.UNKNOWN:
            return "Budget cannot be checked: this model's price is unknown (see pricing.toml)."
        if self.level is BudgetLevel.STOPPED:
            return (
                f"The {self.which} budget of ${self.limit_usd:.2f} is reached: audio and camera "
                "are no longer sent. You can still type; raise the budget in Settings to go on."
            )
        if self.level is BudgetLevel.WARNING:
            return (
                f"{self.fraction:.0%} of the {self.which} budget of ${self.limit_usd:.2f} used "
                f"(next turn about ${self.next_turn_usd or 0.0:.3f})."
            )
        return ""


class BudgetMeter:
    """Spend of one session against its limits. Not thread-safe (the core's thread)."""

    def __init__(
        self,
        limits: Limits,
        price: ModelPrice | None,
        rates: TokenRates,
        *,
        day_spent_usd: float = 0.0,
    ) -> None:
        self.limits = limits
        self.price = price
        self.rates = rates
        self.day_before_usd = day_spent_usd
        self.session_usd = 0.0
        self._context = Usage()  # what the next turn re-bills
        self._pending = Usage()  # media sent since the last response
        self._replies = 0
        self._reply_total = Usage()
        self._stopped = False

    # -- what happened ------------------------------------------------------------

    def audio_sent(self, seconds: float) -> None:
        tokens = round(seconds * self.rates.audio_input_per_s)
        self._pending = self._pending + Usage(input_tokens=tokens, input_audio_tokens=tokens)

    def frame_sent(self, snapshot: bool = False) -> float | None:
        """Count one frame; returns its first billing in USD (``None``: price unknown)."""
        tokens = self.rates.snapshot_tokens if snapshot else self.rates.image_tokens
        self._pending = self._pending + Usage(input_tokens=tokens, input_image_tokens=tokens)
        return self.frame_usd(snapshot)

    def frame_usd(self, snapshot: bool = False) -> float | None:
        """What one frame costs the turn it is sent in (every later turn re-bills it)."""
        if self.price is None:
            return None
        tokens = self.rates.snapshot_tokens if snapshot else self.rates.image_tokens
        return self.price.cost(Usage(input_tokens=tokens, input_image_tokens=tokens))

    def response_done(self, usage: Usage) -> float | None:
        """A response's usage: it is spent, and it (input + output) is the next context."""
        usd = self.price.cost(usage) if self.price is not None else None
        self.session_usd += usd or 0.0
        self._context = Usage(
            input_tokens=usage.input_tokens + usage.output_tokens,
            input_text_tokens=usage.input_text_tokens + usage.output_text_tokens,
            input_audio_tokens=usage.input_audio_tokens + usage.output_audio_tokens,
            input_image_tokens=usage.input_image_tokens,
        )
        self._pending = Usage()
        self._replies += 1
        self._reply_total = self._reply_total + Usage(
            output_tokens=usage.output_tokens,
            output_text_tokens=usage.output_text_tokens,
            output_audio_tokens=usage.output_audio_tokens,
        )
        return usd

    # -- reading ------------------------------------------------------------------

    @property
    def day_usd(self) -> float:
        return self.day_before_usd + self.session_usd

    def next_turn_usd(self) -> float | None:
        """Upper estimate of the next turn (see the module docstring); ``None`` if unknown."""
        if self.price is None:
            return None
        return self.price.cost(self._context + self._pending + self._expected_reply())

    def _expected_reply(self) -> Usage:
        if not self._replies:
            return DEFAULT_REPLY
        t = self._reply_total
        n = self._replies
        return Usage(
            output_tokens=-(-t.output_tokens // n),
            output_text_tokens=-(-t.output_text_tokens // n),
            output_audio_tokens=-(-t.output_audio_tokens // n),
        )

    def status(self) -> BudgetStatus:
        """The level now. ``STOPPED`` is sticky for the session (a budget is not re-armed by
        the estimate shrinking); raising the limit (``set_limits``) re-checks."""
        nxt = self.next_turn_usd()
        base = BudgetStatus(BudgetLevel.NONE, None, None, nxt)
        if not self.limits.any:
            return base
        if nxt is None:
            return BudgetStatus(BudgetLevel.UNKNOWN, None, None, None)
        worst: tuple[float, str, float] | None = None
        for which, spent, limit in (
            ("session", self.session_usd, self.limits.session_usd),
            ("day", self.day_usd, self.limits.day_usd),
        ):
            if limit is None:
                continue
            fraction = (spent + nxt) / limit
            if worst is None or fraction > worst[0]:
                worst = (fraction, which, limit)
        assert worst is not None
        fraction, which, limit = worst
        if self._stopped or fraction > 1.0:
            self._stopped = True
            level = BudgetLevel.STOPPED
        elif fraction >= WARN_FRACTION:
            level = BudgetLevel.WARNING
        else:
            level = BudgetLevel.OK
        return BudgetStatus(
            level,
            self.session_usd,
            self.day_usd,
            nxt,
            fraction=min(fraction, 9.99),
            which=which,
            limit_usd=limit,
        )

    def set_limits(self, limits: Limits) -> None:
        """New budgets (from Settings) for the rest of the session; clears a stop."""
        self.limits = limits
        self._stopped = False
