"""Risk calculators: position size from a risk budget, and the liquidation quote of a position.

Both run the venue's own formulas (``rules_for(spec.venue)``) on an isolated position at the
chosen leverage, with the maintenance tier of the resulting notional, so a trader sees the same
liquidation price the account engine will use.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from sim.engine.leverage_checks import (
    check_leverage_at_least_one,
    leverage_error,
    refuse_instant_liquidation,
)
from sim.engine.margin import initial_margin, liquidation_price, maintenance_margin
from sim.engine.messages import money_places, price_places, show
from sim.engine.money import ONE, ZERO, is_multiple, on_step
from sim.engine.spec import ContractSpec, MarginTier
from sim.engine.venues import Exposure, MarginContext, rules_for
from sim.engine.venues.base import MarginMode
from sim.errors import InputError

Side = Literal["long", "short"]


@dataclass(frozen=True, slots=True)
class SizeResult:
    """A risk-sized position. Money is in ``currency`` (the settle currency)."""

    venue: str
    symbol: str
    side: Side
    currency: str
    equity: Decimal
    risk_pct: Decimal
    risk_budget: Decimal
    entry: Decimal
    stop: Decimal
    leverage: Decimal
    contract_size: Decimal
    contracts: Decimal
    base_qty: Decimal
    notional: Decimal
    margin: Decimal
    max_loss: Decimal
    fees_included: bool
    liquidation_price: Decimal | None
    tier: int | None
    rule: str
    approximate: bool
    warnings: tuple[str, ...]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class LiqResult:
    """Liquidation and bankruptcy prices of one position, with the margins behind them."""

    venue: str
    symbol: str
    side: Side
    margin_mode: MarginMode
    currency: str
    entry: Decimal
    contracts: Decimal
    contract_size: Decimal
    base_qty: Decimal
    notional: Decimal
    leverage: Decimal
    wallet: Decimal
    initial_margin: Decimal
    maintenance_margin: Decimal
    tier: int | None  # tier, mmr, maint_amount: the bracket at the liquidation price
    mmr: Decimal
    maint_amount: Decimal
    liquidation_price: Decimal | None
    bankruptcy_price: Decimal | None
    rule: str
    approximate: bool
    warnings: tuple[str, ...]
    taker_fee: Decimal = ZERO  # the rate used (the spec's, or --taker-fee)


def _q(value: Decimal | None, step: Decimal) -> Decimal | None:
    return None if value is None else on_step(value, step, ROUND_HALF_UP)


def _positive(name: str, value: Decimal) -> None:
    if value <= 0:
        raise InputError(f"{name} must be positive, was {show(value)}")


def side_of(entry: Decimal, stop: Decimal, side: Side | None) -> Side:
    """Side implied by the stop (below entry → long); InputError when the stop contradicts it."""
    if stop == entry:
        raise InputError(
            f"stop {stop} equals the entry; a stop must be below (long) or above (short)"
        )
    implied: Side = "long" if stop < entry else "short"
    if side is not None and side != implied:
        where = "below" if side == "long" else "above"
        raise InputError(
            f"stop {stop} is on the wrong side for a {side}: it must be {where} {entry}"
        )
    return implied


def _loss_per_contract(spec: ContractSpec, entry: Decimal, stop: Decimal, fees: bool) -> Decimal:
    """Settle-currency loss of one contract stopped out, plus taker fees in and out if asked."""
    cs = spec.contract_size
    if spec.linear:
        loss = abs(entry - stop) * cs
        fee = spec.taker_fee * cs * (entry + stop)
    else:
        loss = abs(1 / stop - 1 / entry) * cs
        fee = spec.taker_fee * cs * (1 / entry + 1 / stop)
    return loss + fee if fees else loss


def pick_tier(spec: ContractSpec, notional: Decimal, override: MarginTier | None) -> MarginTier:
    """The override tier when given, else the spec's tier for ``notional`` (SpecError-free)."""
    if override is not None:
        return override
    if not spec.tiers:
        raise InputError(
            f"no maintenance-margin tiers recorded for {spec.venue} {spec.symbol}; pass --mmr "
            f"(and --maint-amount) or run `microfut specs refresh --exchange {spec.venue}` online"
        )
    return spec.tier_for(notional)


def _isolated_liq(
    spec: ContractSpec, pos: Exposure, leverage: Decimal, tier: MarginTier, override: bool
) -> tuple[Decimal | None, MarginTier]:
    """Isolated liquidation price with the engine's function (bracket at that price)."""
    rules = rules_for(spec.venue)
    wallet = rules.isolated_margin(pos, leverage, spec.taker_fee)
    ctx = MarginContext("isolated", wallet, leverage, tier, taker_fee=spec.taker_fee)
    liq, liq_tier = liquidation_price(rules, pos, ctx, () if override else spec.tiers)
    refuse_instant_liquidation(spec, pos, liq, tier, wallet, leverage)
    return liq, liq_tier


def _shown_raw(raw: Decimal, step: Decimal) -> str:
    """An unrounded size for a message: two decimals finer than the step, never 30 digits."""
    return show(raw, step.scaleb(-2) if step > 0 else Decimal("0.0001"))


def _below_minimum(
    spec: ContractSpec, raw: Decimal, contracts: Decimal, entry: Decimal
) -> str | None:
    minimum = spec.min_amount if spec.min_amount and spec.min_amount > 0 else spec.amount_step
    if contracts < minimum or contracts <= 0:
        return (
            f"the risk budget buys {_shown_raw(raw, spec.amount_step)} contracts, below the venue "
            f"minimum of {show(minimum)} on {spec.venue} {spec.symbol}; raise the equity or the "
            "risk %, or move the stop closer to the entry"
        )
    if spec.linear and spec.min_notional and spec.notional(contracts, entry) < spec.min_notional:
        return (
            f"notional {show(spec.notional(contracts, entry), money_places(spec.settle))} "
            f"{spec.settle} is below the venue minimum of {show(spec.min_notional)} on "
            f"{spec.venue} {spec.symbol}"
        )
    return None


def size_by_risk(
    spec: ContractSpec,
    *,
    equity: Decimal,
    risk_pct: Decimal,
    entry: Decimal,
    stop: Decimal,
    leverage: Decimal = ONE,
    include_fees: bool = False,
    leverage_warning: Decimal | None = None,
    side: Side | None = None,
    tier: MarginTier | None = None,
) -> SizeResult:
    """Largest size, floored to the step, whose loss at the stop is within equity × risk %.

    Linear: |entry − stop| × contracts × CS ≤ E × R/100 (quote). Inverse: |1/stop − 1/entry| ×
    contracts × CS ≤ E × R/100 in coin, E being coin equity. With ``include_fees`` the taker fee
    of the entry and of the stop exit count toward the risk. Example: E 1,000, R 1, 70,000 →
    69,300 on Binance BTC/USDT:USDT (step 0.001) → 0.014 BTC, max loss 9.80.
    """
    for name, value in (("equity", equity), ("entry", entry), ("stop", stop)):
        _positive(name, value)
    if not 0 < risk_pct <= 100:
        raise InputError(f"risk % must be more than 0 and at most 100, was {show(risk_pct)}")
    check_leverage_at_least_one(leverage)
    chosen = side_of(entry, stop, side)
    budget = equity * risk_pct / 100
    per_contract = _loss_per_contract(spec, entry, stop, include_fees)
    raw = budget / per_contract
    contracts = spec.round_contracts(raw)
    reason = _below_minimum(spec, raw, contracts, entry)
    if reason is not None:
        contracts = ZERO
    notional = spec.notional(contracts, entry)
    smallest = max(spec.min_amount or ZERO, spec.amount_step)
    checked = notional if contracts > 0 else spec.notional(smallest, entry)
    limit = leverage_error(spec, checked, leverage, entry)
    if limit is not None:
        raise InputError(limit)
    warnings: list[str] = []
    liq: Decimal | None = None
    tier_no: int | None = None
    if contracts > 0:
        pos = Exposure(
            1 if chosen == "long" else -1, contracts, entry, spec.contract_size, spec.linear
        )
        margin_tier = pick_tier(spec, notional, tier)
        liq, liq_tier = _isolated_liq(spec, pos, leverage, margin_tier, tier is not None)
        tier_no = liq_tier.tier if tier is None else None
        warnings += _size_warnings(spec, chosen, stop, liq, notional, leverage, equity)
    if leverage_warning is not None and leverage > leverage_warning:
        warnings.insert(
            0,
            f"leverage {show(leverage)}x is above your warning level {show(leverage_warning)}x",
        )
    rules = rules_for(spec.venue)
    money = money_places(spec.settle)
    return SizeResult(
        venue=spec.venue,
        symbol=spec.symbol,
        side=chosen,
        currency=spec.settle,
        equity=equity,
        risk_pct=risk_pct,
        risk_budget=budget,
        entry=entry,
        stop=stop,
        leverage=leverage,
        contract_size=spec.contract_size,
        contracts=contracts,
        base_qty=spec.base_qty(contracts),
        notional=_q(notional, money) or ZERO,
        margin=_q(notional / leverage, money) or ZERO,
        max_loss=_q(contracts * per_contract, money) or ZERO,
        fees_included=include_fees,
        liquidation_price=_q(liq, price_places(spec)),
        tier=tier_no,
        rule=rules.name,
        approximate=rules.approximate,
        warnings=tuple(warnings),
        reason=reason,
    )


def _size_warnings(
    spec: ContractSpec,
    side: Side,
    stop: Decimal,
    liq: Decimal | None,
    notional: Decimal,
    leverage: Decimal,
    equity: Decimal,
) -> list[str]:
    out: list[str] = []
    if liq is not None and ((side == "long" and liq >= stop) or (side == "short" and liq <= stop)):
        out.append(
            f"liquidation price {show(liq, price_places(spec))} is at or beyond the stop "
            f"{show(stop)}: the position would be liquidated before the stop triggers; "
            "lower the leverage"
        )
    money = money_places(spec.settle)
    if notional / leverage > equity:
        out.append(
            f"margin {show(notional / leverage, money)} {spec.settle} is more than the equity "
            f"{show(equity)} {spec.settle}"
        )
    return out


def quote_liquidation(
    spec: ContractSpec,
    *,
    side: Side,
    entry: Decimal,
    contracts: Decimal,
    leverage: Decimal,
    margin_mode: MarginMode = "isolated",
    wallet: Decimal | None = None,
    tier: MarginTier | None = None,
) -> LiqResult:
    """Liquidation and bankruptcy price of a position with the venue's formula.

    Isolated: wallet defaults to the margin the venue locks at ``leverage``. Cross needs the cross
    wallet balance (no other positions: TMM1 = UPNL1 = 0). Leverage above the tier maximum of the
    notional is an InputError, as the venue would refuse it.
    """
    _positive("entry", entry)
    _positive("contracts", contracts)
    check_leverage_at_least_one(leverage)
    if not is_multiple(contracts, spec.amount_step):
        raise InputError(
            f"contracts {show(contracts)} is not a multiple of the step {show(spec.amount_step)} "
            f"on {spec.venue} {spec.symbol}"
        )
    notional = spec.notional(contracts, entry)
    limit = leverage_error(spec, notional, leverage, entry)
    if limit is not None:
        raise InputError(limit)
    margin_tier = pick_tier(spec, notional, tier)
    rules = rules_for(spec.venue)
    pos = Exposure(1 if side == "long" else -1, contracts, entry, spec.contract_size, spec.linear)
    if wallet is None:
        if margin_mode == "cross":
            raise InputError("cross margin needs the cross wallet balance: pass --wallet W")
        wallet = rules.isolated_margin(pos, leverage, spec.taker_fee)
    _positive("wallet", wallet)
    ctx = MarginContext(margin_mode, wallet, leverage, margin_tier, taker_fee=spec.taker_fee)
    liq, liq_tier = liquidation_price(rules, pos, ctx, () if tier is not None else spec.tiers)
    refuse_instant_liquidation(spec, pos, liq, margin_tier, wallet, leverage)
    warnings: list[str] = []
    if spec.min_amount and contracts < spec.min_amount:
        warnings.append(
            f"{show(contracts)} contracts is below the venue minimum {show(spec.min_amount)}"
        )
    money, price = money_places(spec.settle), price_places(spec)
    return LiqResult(
        venue=spec.venue,
        symbol=spec.symbol,
        side=side,
        margin_mode=margin_mode,
        currency=spec.settle,
        entry=entry,
        contracts=contracts,
        contract_size=spec.contract_size,
        base_qty=spec.base_qty(contracts),
        notional=_q(notional, money) or ZERO,
        leverage=leverage,
        wallet=_q(wallet, money) or ZERO,
        initial_margin=_q(initial_margin(pos, entry, leverage), money) or ZERO,
        maintenance_margin=_q(maintenance_margin(pos, entry, margin_tier), money) or ZERO,
        tier=liq_tier.tier if tier is None else None,
        mmr=liq_tier.mmr,
        maint_amount=liq_tier.cum,
        liquidation_price=_q(liq, price),
        bankruptcy_price=_q(rules.bankruptcy_price(pos, ctx), price),
        rule=rules.name,
        approximate=rules.approximate,
        warnings=tuple(warnings),
        taker_fee=spec.taker_fee,
    )
