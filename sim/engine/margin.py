"""Initial and maintenance margin, PnL, average entry and margin ratio (pure, Decimal).

Linear amounts are in the quote/settle currency (USDT); inverse amounts are in the coin. Formulas:
exchange-mechanics.md §A.1 (maintenance margin by tier), §A.3 (COIN-M initial margin, inverse
PnL), §A.5 (Bybit inverse PnL and average entry), and THE liquidation price (bracket at that
price). No account state lives here: ``risk.py`` sums these per position and caches them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sim.engine.money import ZERO
from sim.engine.spec import ContractSpec, MarginTier
from sim.engine.venues.base import Exposure, MarginContext, VenueRules
from sim.errors import InputError

INFINITE_RATIO = Decimal("Infinity")


def initial_margin(pos: Exposure, price: Decimal, leverage: Decimal) -> Decimal:
    """Notional at ``price`` divided by leverage (USDT for linear, coin for inverse).

    Binance COIN-M FAQ: 10 contracts × 100 USD at 9,800, 20x → 0.0051 BTC.
    """
    if leverage <= 0:
        raise InputError(f"leverage must be positive, was {leverage}")
    return pos.notional(price) / leverage


def maintenance_margin(pos: Exposure, price: Decimal, tier: MarginTier) -> Decimal:
    """Notional × MMR − cum with the given tier (Binance "Maintenance Amount" / Bybit deduction)."""
    return tier.maintenance_margin(pos.notional(price))


def tier_at(spec: ContractSpec, pos: Exposure, price: Decimal) -> MarginTier:
    """The maintenance-margin tier the position's notional at ``price`` falls in."""
    return spec.tier_for(pos.notional(price))


def maintenance_margin_by_tier(spec: ContractSpec, pos: Exposure, price: Decimal) -> Decimal:
    """Maintenance margin with the tier chosen by the notional at ``price`` (tax-bracket rule)."""
    return maintenance_margin(pos, price, tier_at(spec, pos, price))


def liquidation_price(
    rules: VenueRules, pos: Exposure, ctx: MarginContext, tiers: tuple[MarginTier, ...] = ()
) -> tuple[Decimal | None, MarginTier]:
    """The venue's liquidation price and the bracket it was computed with.

    THE liquidation price: ``calc liq``, ``calc size``, the position views and the engine's
    mark check all call this. Binance's FAQ (exchange-mechanics.md §A.1/§A.2) takes the
    maintenance bracket of the notional *at the liquidation price*: each bracket's price is
    tried, ``ctx.tier`` first, and the one whose [floor, cap) holds the notional at its own
    price wins (maintenance margin is continuous in the notional, so one always does unless the
    position can never be liquidated). Long 5.001 BTC at 60,000, 10x isolated: 300,060 at
    entry is bracket 2, but the price is 54,216.87 with bracket 1 (54,211.07 with bracket 2).
    Venues whose formula uses the entry value (Bybit) take the bracket of the entry notional.
    ``tiers`` empty (or a ``ctx.tier`` holding every notional, as ``--mmr``): ``ctx.tier`` only.
    """
    if tiers and not rules.tier_at_liquidation:
        tier = next((t for t in tiers if t.holds(pos.notional(pos.entry_price))), tiers[-1])
        if tier is not ctx.tier:
            ctx = _with_tier(ctx, tier)
        return rules.liquidation_price(pos, ctx), ctx.tier
    first = rules.liquidation_price(pos, ctx)
    if not tiers or (first is not None and ctx.tier.holds(pos.notional(first))):
        return first, ctx.tier
    by_tier = getattr(rules, "prices_by_tier", None)  # a venue's faster equivalent loop
    pairs = (
        by_tier(pos, ctx, tiers)
        if by_tier is not None
        else (
            (t, rules.liquidation_price(pos, _with_tier(ctx, t)))
            for t in tiers
            if t is not ctx.tier
        )
    )
    for tier, price in pairs:
        if tier is ctx.tier:
            continue
        if price is not None and tier.holds(pos.notional(price)):
            return price, tier
    return first, ctx.tier


def _with_tier(ctx: MarginContext, tier: MarginTier) -> MarginContext:
    """``ctx`` with another bracket (``dataclasses.replace`` without its per-call cost)."""
    return MarginContext(
        ctx.mode, ctx.wallet, ctx.leverage, tier, ctx.taker_fee, ctx.other_maint, ctx.other_upnl
    )


def pnl(pos: Exposure, exit_price: Decimal) -> Decimal:
    """Profit of closing ``pos`` at ``exit_price``; positive is a gain for the holder.

    Linear: s·N·(P − EP) in quote. Inverse: s·N·CS·(1/EP − 1/P) in coin
    (Bybit: 1,000 contracts long 5,000 → 5,500 = 0.0181818… BTC).
    """
    if exit_price <= 0:
        raise InputError(f"price must be positive, was {exit_price}")
    if pos.linear:
        return pos.side * pos.qty * (exit_price - pos.entry_price)
    return pos.side * pos.qty * (1 / pos.entry_price - 1 / exit_price)


def unrealized_pnl(pos: Exposure, mark: Decimal) -> Decimal:
    """PnL of the open position marked at ``mark`` (the exchanges use mark price)."""
    return pnl(pos, mark)


def margin_balance(wallet: Decimal, upnl: Decimal) -> Decimal:
    """Wallet balance plus unrealized PnL: what the maintenance margin is compared with."""
    return wallet + upnl


def margin_ratio(maint: Decimal, balance: Decimal) -> Decimal:
    """Maintenance margin / margin balance; liquidation when it reaches 1 (Bybit UTA rule).

    A balance at or below zero gives an infinite ratio: the account is past liquidation.
    """
    if balance <= 0:
        return INFINITE_RATIO
    return maint / balance


def _check_fills(fills: list[tuple[Decimal, Decimal]]) -> None:
    if not fills:
        raise InputError("average entry needs at least one fill")
    for qty, price in fills:
        if qty <= 0 or price <= 0:
            raise InputError(f"fill quantity and price must be positive, was {qty} @ {price}")


def avg_entry_linear(fills: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Σ(qty·price) / Σqty for (qty, price) fills (0.5@5,000 + 0.3@6,000 → 5,375)."""
    rows = list(fills)
    _check_fills(rows)
    value = qty = ZERO
    for q, p in rows:  # a plain loop: the same additions in the same order as sum(), cheaper
        value += q * p
        qty += q
    return value / qty


def avg_entry_inverse(fills: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """Σcontracts / Σ(contracts/price): the harmonic mean inverse contracts need.

    Bybit: 1,000@5,000 + 2,000@6,000 → 5,625.
    """
    rows = list(fills)
    _check_fills(rows)
    return sum((q for q, _ in rows), ZERO) / sum((q / p for q, p in rows), ZERO)


def check_leverage(spec: ContractSpec, notional: Decimal, leverage: Decimal) -> str | None:
    """Reason why ``leverage`` is not allowed for a position of ``notional``; None when it is.

    The limit is the max leverage of the tier the resulting notional falls in (or the market's
    max leverage when the spec has no tiers). The engine turns the reason into an OrderRejected;
    the calculators raise it as an InputError.
    """
    if leverage <= 0:
        return f"leverage must be positive, was {leverage}"
    limit = spec.max_leverage_for(notional)
    if limit is not None and leverage > limit:
        return (
            f"leverage {leverage}x is above the maximum {limit}x for a notional of "
            f"{notional.normalize():f} {spec.settle} on {spec.venue} {spec.symbol}"
        )
    return None
