"""ContractSpec (a ccxt market, typed) and MarginTier (one maintenance-margin bracket).

Specs are built only by ``adapters/specs.py`` from real ccxt markets; the engine and calculators
read them. Per-symbol facts live here; per-venue formulas live in ``sim/engine/venues``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from sim.engine.money import ZERO, floor_to_step, round_to_step
from sim.errors import InputError

Kind = Literal["swap", "future"]


@dataclass(frozen=True, slots=True)
class MarginTier:
    """One maintenance-margin bracket: notional in [floor, cap) uses ``mmr`` and ``cum``.

    ``cum`` is Binance's "maintenance amount" (Bybit "MM deduction"):
    maintenance margin = notional × mmr − cum. Notional is in the settle currency
    (USDT for linear, the coin for inverse).
    """

    tier: int
    floor: Decimal
    cap: Decimal | None
    mmr: Decimal
    cum: Decimal
    max_leverage: Decimal

    def maintenance_margin(self, notional: Decimal) -> Decimal:
        return notional * self.mmr - self.cum

    def holds(self, notional: Decimal) -> bool:
        """floor <= notional < cap: Binance ``notionalFloor`` is inclusive, ``notionalCap`` not."""
        return self.floor <= notional and (self.cap is None or notional < self.cap)


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """What one contract of a market is on one venue, with the venue's trading rules.

    ``contract_size`` is the multiplier: base units per contract for linear markets, quote (USD)
    per contract for inverse ones. Amounts everywhere are in contracts.
    """

    venue: str
    symbol: str
    venue_id: str
    base: str
    quote: str
    settle: str
    linear: bool
    kind: Kind
    contract_size: Decimal
    price_tick: Decimal
    amount_step: Decimal
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    min_notional: Decimal | None = None
    max_leverage: Decimal | None = None
    maker_fee: Decimal = ZERO
    taker_fee: Decimal = ZERO
    expiry_ms: int | None = None
    funding_interval_h: Decimal | None = None
    tiers: tuple[MarginTier, ...] = field(default_factory=tuple)
    tiers_source: str = "none"
    active: bool = True

    @property
    def inverse(self) -> bool:
        return not self.linear

    @property
    def is_perpetual(self) -> bool:
        return self.kind == "swap"

    def notional(self, contracts: Decimal, price: Decimal) -> Decimal:
        """Position value in the settle currency (USDT for linear, coin for inverse)."""
        if self.linear:
            return abs(contracts) * self.contract_size * price
        return abs(contracts) * self.contract_size / price

    def base_qty(self, contracts: Decimal) -> Decimal:
        """Base-asset quantity (linear) of ``contracts``; for inverse, the USD face value."""
        return contracts * self.contract_size

    def tier_for(self, notional: Decimal) -> MarginTier:
        """The bracket the notional falls in: floor <= notional < cap (tax-bracket style).

        A notional exactly at a floor belongs to the upper bracket, as Binance's
        ``notionalFloor`` (inclusive) / ``notionalCap`` (exclusive) say (exchange-mechanics §A.1).
        """
        if not self.tiers:
            raise InputError(f"{self.symbol} on {self.venue} has no maintenance-margin tiers")
        for t in self.tiers:
            if t.cap is None or notional < t.cap:
                return t
        return self.tiers[-1]

    def max_leverage_for(self, notional: Decimal) -> Decimal | None:
        """The highest leverage allowed for a position of this notional."""
        if self.tiers:
            return self.tier_for(notional).max_leverage
        return self.max_leverage

    def round_contracts(self, contracts: Decimal) -> Decimal:
        """Floor to the venue's amount step, as ccxt ``amount_to_precision`` truncates."""
        return floor_to_step(contracts, self.amount_step)

    def round_price(self, price: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
        """Round to the price tick, as ccxt ``price_to_precision`` rounds."""
        return round_to_step(price, self.price_tick, rounding)


def with_fees(
    spec: ContractSpec, maker: Decimal | None = None, taker: Decimal | None = None
) -> ContractSpec:
    """``spec`` at another fee tier (``--maker-fee``/``--taker-fee``); None keeps the spec's.

    Rates are fractions (0.0005 = 0.05 %), as ccxt's ``maker``/``taker``; a venue example at
    another VIP tier is reproduced by passing its rates. Negative maker rates (rebates) are
    allowed, a taker rate must be ≥ 0, and either must be below 1.
    """
    for name, rate in (("maker", maker), ("taker", taker)):
        if rate is None:
            continue
        if not rate.is_finite() or rate >= 1 or rate <= -1 or (name == "taker" and rate < 0):
            raise InputError(
                f"--{name}-fee must be a fraction between {'0' if name == 'taker' else '-1'} "
                f"and 1 (0.0005 = 0.05 %), was {rate}"
            )
    return replace(
        spec,
        maker_fee=spec.maker_fee if maker is None else maker,
        taker_fee=spec.taker_fee if taker is None else taker,
    )
