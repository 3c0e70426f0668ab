"""One-way position: signed contracts, average entry, realized PnL, trade bookkeeping.

``PositionView`` is the shape screens read (built by ``views.py``).

Averages and PnL come from ``sim.engine.margin`` (linear size-weighted, inverse harmonic); this
module only keeps the state between fills and splits a fill into its closing and opening parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from sim.engine.margin import avg_entry_inverse, avg_entry_linear, pnl
from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec
from sim.engine.venues.base import Exposure


@dataclass(slots=True)
class Position:
    """A symbol's position in one-way mode; ``contracts`` > 0 long, < 0 short, 0 flat."""

    symbol: str
    leverage: Decimal
    margin_mode: str
    contracts: Decimal = ZERO
    entry_price: Decimal | None = None
    isolated_margin: Decimal = ZERO  # margin locked for an isolated position (settle currency)
    # The round trip in progress: reset when the position returns to zero.
    trade_no: int = 0
    trade_side: int = 0  # +1 long, −1 short for the round trip in progress
    open_ts_ms: int | None = None
    max_contracts: Decimal = ZERO
    entries: list[tuple[Decimal, Decimal]] = field(default_factory=list)  # (contracts, price)
    exits: list[tuple[Decimal, Decimal]] = field(default_factory=list)
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    stop_at_entry: Decimal | None = None
    tag: str | None = None

    @property
    def side(self) -> int:
        return (self.contracts > 0) - (self.contracts < 0)

    def exposure(self, spec: ContractSpec) -> Exposure:
        """The position as the venue formulas see it (absolute contracts)."""
        return Exposure(
            side=self.side,
            contracts=abs(self.contracts),
            entry_price=self.entry_price or ZERO,
            contract_size=spec.contract_size,
            linear=spec.linear,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Decimal):
                v = str(v)
            elif isinstance(v, list):
                v = [[str(a), str(b)] for a, b in v]
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Position:
        kw: dict[str, Any] = {}
        for f in fields(cls):
            v = data[f.name]
            if f.name in ("entries", "exits"):
                v = [(Decimal(a), Decimal(b)) for a, b in v]
            elif isinstance(v, str) and f.name not in ("symbol", "margin_mode", "tag"):
                v = Decimal(v)
            kw[f.name] = v
        return cls(**kw)


@dataclass(frozen=True, slots=True)
class FillEffect:
    """What one fill did to a position."""

    closed: Decimal  # contracts closed (absolute)
    opened: Decimal  # contracts opened (absolute, after any flip)
    realized_pnl: Decimal  # gross, settle currency
    margin_released: Decimal  # isolated margin freed by the closing part


def average(spec: ContractSpec, rows: list[tuple[Decimal, Decimal]]) -> Decimal:
    """Average price of (contracts, price) rows: size-weighted (linear) or harmonic (inverse)."""
    return avg_entry_linear(rows) if spec.linear else avg_entry_inverse(rows)


def apply_fill(
    pos: Position, spec: ContractSpec, side: str, contracts: Decimal, price: Decimal
) -> FillEffect:
    """Book a fill of ``contracts`` at ``price``: reduce first, then open (a flip does both)."""
    sign = 1 if side == "buy" else -1
    closed = ZERO
    realized = ZERO
    released = ZERO
    if pos.contracts != 0 and pos.side != sign:
        closed = min(contracts, abs(pos.contracts))
        part = Exposure(pos.side, closed, pos.entry_price or price, spec.contract_size, spec.linear)
        realized = pnl(part, price)
        released = pos.isolated_margin * closed / abs(pos.contracts)
        pos.isolated_margin -= released
        pos.contracts += sign * closed
        pos.exits.append((closed, price))
        pos.realized += realized
        if pos.contracts == 0:
            pos.entry_price = None
    opened = contracts - closed
    if opened > 0:
        if pos.contracts == 0:
            pos.entry_price = price
        else:
            pos.entry_price = average(
                spec, [(abs(pos.contracts), pos.entry_price or price), (opened, price)]
            )
        pos.contracts += sign * opened
        pos.entries.append((opened, price))
        pos.max_contracts = max(pos.max_contracts, abs(pos.contracts))
    return FillEffect(closed, opened, realized, released)


def reset_trade(pos: Position) -> None:
    """Forget the finished round trip (the position is flat)."""
    pos.open_ts_ms = None
    pos.trade_side = 0
    pos.max_contracts = ZERO
    pos.entries = []
    pos.exits = []
    pos.realized = ZERO
    pos.fees = ZERO
    pos.funding = ZERO
    pos.stop_at_entry = None
    pos.tag = None
    pos.isolated_margin = ZERO


@dataclass(frozen=True, slots=True)
class PositionView:
    """An open position as screens show it; ``liquidation_price`` is the one the engine acts on."""

    symbol: str
    side: str
    contracts: Decimal  # signed
    entry_price: Decimal
    contract_size: Decimal
    leverage: Decimal
    margin_mode: str
    isolated_margin: Decimal
    mark_price: Decimal | None
    notional: Decimal
    unrealized_pnl: Decimal
    maintenance_margin: Decimal
    margin_ratio: Decimal
    liquidation_price: Decimal | None
    currency: str
    funding: Decimal
