"""The venue-rules interface: every per-venue formula sits behind these few methods.

Formulas take plain numbers (an :class:`Exposure` and a :class:`MarginContext`) so the calculators,
the account engine and the tests all call exactly the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Literal, Protocol

from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec, MarginTier

MarginMode = Literal["isolated", "cross"]

DEFAULT_FUNDING_INTERVAL_H = Decimal(8)
_HOUR_MS = 3_600_000


@dataclass(frozen=True, slots=True)
class Exposure:
    """One open position as the formulas see it. ``side`` is +1 long, −1 short."""

    side: int
    contracts: Decimal  # absolute number of contracts
    entry_price: Decimal
    contract_size: Decimal
    linear: bool

    @property
    def qty(self) -> Decimal:
        """N in the formulas: base units (linear) or contracts × face value (inverse, USD)."""
        return self.contracts * self.contract_size

    def notional(self, price: Decimal) -> Decimal:
        if self.linear:
            return self.qty * price
        return self.qty / price


@dataclass(frozen=True, slots=True)
class MarginContext:
    """What the liquidation formula needs besides the position itself.

    ``wallet``: isolated margin of the position (isolated) or the cross wallet balance (cross).
    ``other_maint`` / ``other_upnl``: maintenance margin and unrealized PnL of the *other* cross
    positions in the same wallet, at mark (Binance TMM1 / UPNL1); zero for isolated.
    """

    mode: MarginMode
    wallet: Decimal
    leverage: Decimal
    tier: MarginTier
    taker_fee: Decimal = ZERO
    other_maint: Decimal = ZERO
    other_upnl: Decimal = ZERO


class VenueRules(Protocol):
    """Per-venue formulas. Implementations are small pure classes registered by ccxt id."""

    name: ClassVar[str]
    approximate: ClassVar[bool]  # True when a venue has no documented rule and a close one is used
    # True: the bracket is the one of the notional AT the liquidation price (Binance FAQ);
    # False: the one of the notional at entry (Bybit's IM − MM form uses the entry value).
    tier_at_liquidation: ClassVar[bool]
    trigger_sources: ClassVar[frozenset[str]]

    def liquidation_price(self, pos: Exposure, ctx: MarginContext) -> Decimal | None:
        """Mark price at which the position is liquidated; None when it never can be."""
        ...

    def bankruptcy_price(self, pos: Exposure, ctx: MarginContext) -> Decimal | None:
        """Price at which the position's margin is exactly used up."""
        ...

    def funding_times(self, spec: ContractSpec, start_ms: int, end_ms: int) -> list[int]:
        """Funding instants t with start_ms < t <= end_ms for a perpetual."""
        ...

    def liquidation_close_price(self, pos: Exposure, ctx: MarginContext, mark: Decimal) -> Decimal:
        """Price at which the venue closes a liquidated position (``mark`` when it has no rule).

        Together with :meth:`liquidation_fee` it keeps the invariant the engine relies on: an
        isolated liquidation never takes more than ``ctx.wallet`` (the position's margin).
        """
        ...

    def liquidation_fee(self, pos: Exposure, ctx: MarginContext, close_price: Decimal) -> Decimal:
        """Fee charged on the liquidation close, in the settle currency (≥ 0)."""
        ...

    def isolated_margin(self, pos: Exposure, leverage: Decimal, taker_fee: Decimal) -> Decimal:
        """Margin the venue locks for an isolated position opened at ``pos.entry_price``."""
        ...


def funding_times_every(interval_h: Decimal, start_ms: int, end_ms: int) -> list[int]:
    """Instants every ``interval_h`` hours, aligned to 00:00 UTC, with start_ms < t <= end_ms.

    Aligning on multiples of the interval since the epoch gives 00:00/08:00/16:00 UTC for 8 h
    (Binance and Bybit, exchange-mechanics.md §A.6) and the same grid for 4 h and 1 h symbols.
    """
    step = int(interval_h * _HOUR_MS)
    if step <= 0 or end_ms <= start_ms:
        return []
    first = (start_ms // step + 1) * step
    return list(range(first, end_ms + 1, step))


def perpetual_funding_times(spec: ContractSpec, start_ms: int, end_ms: int) -> list[int]:
    """Funding instants of a perpetual (none for a dated future), 8 h when the spec says nothing."""
    if not spec.is_perpetual:
        return []
    hours = spec.funding_interval_h or DEFAULT_FUNDING_INTERVAL_H
    return funding_times_every(hours, start_ms, end_ms)
