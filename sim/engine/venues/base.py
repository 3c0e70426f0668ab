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
