"""Beta hedge: how many contracts to short against a spot bag, and what stays unhedged.

The point is honesty at small size: a $500 bag with beta 1.5 against BTC at $70,000 with
0.01 BTC contracts is 1 contract (a $700 hedge) with $50 left unhedged, not a $7,000 hedge.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sim.engine.leverage_checks import check_leverage_at_least_one
from sim.engine.messages import money_places
from sim.engine.money import ONE, ZERO, on_step, round_to_step
from sim.engine.spec import ContractSpec
from sim.errors import InputError

MOVES = (Decimal("-0.10"), Decimal("0.10"))


@dataclass(frozen=True, slots=True)
class Scenario:
    """P&L (in dollars) of portfolio, short hedge and both for one move of the underlying."""

    move_pct: Decimal
    underlying_price: Decimal
    portfolio_pnl: Decimal
    hedge_pnl: Decimal
    net_pnl: Decimal


@dataclass(frozen=True, slots=True)
class HedgeResult:
    """A short hedge of ``portfolio`` dollars with beta ``beta`` to the contract's underlying."""

    venue: str
    symbol: str
    portfolio: Decimal
    beta: Decimal
    hedge_ratio: Decimal
    price: Decimal
    contract_size: Decimal
    contract_size_overridden: bool
    beta_exposure: Decimal
    target_notional: Decimal
    raw_contracts: Decimal
    contracts: Decimal
    hedged_notional: Decimal
    unhedged: Decimal
    leverage: Decimal
    margin: Decimal
    margin_currency: str
    scenarios: tuple[Scenario, ...]
    warnings: tuple[str, ...]
    reason: str | None = None


def _positive(name: str, value: Decimal) -> None:
    if value <= 0:
        raise InputError(f"{name} must be positive, was {value}")


def _cents(value: Decimal) -> Decimal:
    """Rounded to the cent; a zero is always +0 (no "-0.00" for a hedge of zero contracts)."""
    cents = on_step(value, Decimal("0.01"), ROUND_HALF_UP)
    return abs(cents) if cents == 0 else cents


def beta_hedge(
    spec: ContractSpec,
    *,
    portfolio: Decimal,
    price: Decimal,
    beta: Decimal = ONE,
    hedge_ratio: Decimal = ONE,
    leverage: Decimal = ONE,
    contract_size: Decimal | None = None,
) -> HedgeResult:
    """Contracts to short = round(V × B × H / (contractSize × P)) to the venue step.

    Inverse contracts are worth contractSize dollars each, so there it is round(V × B × H / CS).
    A ``contract_size`` override describes a hypothetical contract of that many base units,
    traded in whole contracts (step 1). Portfolio P&L moves beta × the underlying's move.
    """
    for name, value in (("portfolio", portfolio), ("price", price), ("beta", beta)):
        _positive(name, value)
    _positive("hedge ratio", hedge_ratio)
    check_leverage_at_least_one(leverage)
    overridden = contract_size is not None
    cs = contract_size if contract_size is not None else spec.contract_size
    _positive("contract size", cs)
    step = ONE if overridden else spec.amount_step
    exposure = portfolio * beta
    target = exposure * hedge_ratio
    per_contract = cs * price if spec.linear else cs
    raw = target / per_contract
    contracts = round_to_step(raw, step, ROUND_HALF_UP)
    reason = _too_small(spec, raw, contracts, overridden)
    if reason is not None:
        contracts = ZERO
    hedged = contracts * per_contract
    scenarios = tuple(_scenario(move, price, exposure, hedged) for move in MOVES)
    warnings: list[str] = []
    if spec.linear:
        margin, margin_currency = hedged / leverage, spec.settle
    else:
        margin, margin_currency = hedged / price / leverage, spec.settle
        warnings.append(
            f"margin is held in {spec.settle}: the collateral itself gains and loses with the "
            "price, adding long exposure the hedge does not cover"
        )
    return HedgeResult(
        venue=spec.venue,
        symbol=spec.symbol,
        portfolio=portfolio,
        beta=beta,
        hedge_ratio=hedge_ratio,
        price=price,
        contract_size=cs,
        contract_size_overridden=overridden,
        beta_exposure=_cents(exposure),
        target_notional=_cents(target),
        raw_contracts=on_step(raw, Decimal("0.0001"), ROUND_HALF_UP),
        contracts=contracts,
        hedged_notional=_cents(hedged),
        unhedged=_cents(exposure - hedged),
        leverage=leverage,
        margin=on_step(margin, money_places(margin_currency), ROUND_HALF_UP),
        margin_currency=margin_currency,
        scenarios=scenarios,
        warnings=tuple(warnings),
        reason=reason,
    )


def _too_small(
    spec: ContractSpec, raw: Decimal, contracts: Decimal, overridden: bool
) -> str | None:
    minimum = spec.min_amount if (spec.min_amount and not overridden) else None
    if contracts <= 0 or (minimum is not None and contracts < minimum):
        return (
            f"the beta-weighted exposure buys {on_step(raw, Decimal('0.0001'))} contracts, which "
            f"rounds below the minimum tradable size on {spec.venue} {spec.symbol}: "
            "the portfolio is too small to hedge with this contract"
        )
    return None


def _scenario(move: Decimal, price: Decimal, exposure: Decimal, hedged: Decimal) -> Scenario:
    """Portfolio moves beta × move; the short loses hedged × move (inverse too, in dollars)."""
    portfolio_pnl = exposure * move
    hedge_pnl = -hedged * move
    return Scenario(
        move_pct=move * 100,
        underlying_price=_cents(price * (1 + move)),
        portfolio_pnl=_cents(portfolio_pnl),
        hedge_pnl=_cents(hedge_pnl),
        net_pnl=_cents(portfolio_pnl + hedge_pnl),
    )
