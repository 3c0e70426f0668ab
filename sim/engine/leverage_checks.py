"""Is a leverage valid for a position? Tier limits by notional, and liquidation at once.

The calculators (``sizing.py``, ``hedge.py``) refuse such inputs with an ``InputError`` that
says what to change; the messages name the notional, its tier and the largest allowed size.
"""

from __future__ import annotations

from decimal import Decimal

from sim.engine.margin import maintenance_margin
from sim.engine.messages import money_places, show
from sim.engine.money import ONE, ZERO, floor_to_step
from sim.engine.spec import ContractSpec, MarginTier
from sim.engine.venues import Exposure
from sim.errors import InputError


def check_leverage_at_least_one(value: Decimal) -> None:
    """Leverage below 1 is not a venue setting (margin would exceed the notional)."""
    if value < 1:
        raise InputError(f"leverage must be at least 1 (1 = no leverage), was {show(value)}")


def _largest_notional(spec: ContractSpec, leverage: Decimal) -> Decimal | None:
    """Largest notional allowed at ``leverage``: the cap of the last tier in an unbroken run
    from tier 1 whose maximum leverage is at least ``leverage``; 0 when tier 1 refuses it."""
    largest = ZERO
    for t in spec.tiers:
        if t.max_leverage < leverage:
            break
        if t.cap is None:
            return None
        largest = t.cap
    return largest


def _contracts_for_notional(spec: ContractSpec, notional: Decimal, entry: Decimal) -> Decimal:
    per_contract = spec.notional(ONE, entry)
    return floor_to_step(notional / per_contract, spec.amount_step)


def leverage_error(
    spec: ContractSpec, notional: Decimal, leverage: Decimal, entry: Decimal
) -> str | None:
    """Why ``leverage`` is refused for a position of ``notional`` (tier by notional), or None.

    The message names the notional, its tier and its maximum, and the largest size the venue
    allows at ``leverage`` so a trader knows what to change.
    """
    limit = spec.max_leverage_for(notional)
    if limit is None or leverage <= limit:
        return None
    cur = spec.settle
    where = f"{spec.venue} {spec.symbol}"
    tier = f" (tier {spec.tier_for(notional).tier})" if spec.tiers else ""
    head = (
        f"leverage {show(leverage)}x is above the maximum {show(limit)}x for a notional of "
        f"{show(notional, money_places(cur))} {cur}{tier} on {where}"
    )
    largest = _largest_notional(spec, leverage) if spec.tiers else ZERO
    contracts = _contracts_for_notional(spec, largest, entry) if largest else ZERO
    if contracts <= 0:
        top = max((t.max_leverage for t in spec.tiers), default=limit)
        return f"{head}; {where} allows at most {show(top)}x at any size: lower the leverage"
    return (
        f"{head}; at {show(leverage)}x the largest size is {show(contracts, spec.amount_step)} "
        f"contracts (notional up to {show(largest, money_places(cur))} {cur}): lower the "
        "leverage or the size"
    )


def refuse_instant_liquidation(
    spec: ContractSpec,
    pos: Exposure,
    liq: Decimal | None,
    tier: MarginTier,
    wallet: Decimal,
    leverage: Decimal,
) -> None:
    """InputError when the liquidation price is at or beyond the entry: liquidated at once.

    That happens when the maintenance margin exceeds the margin held (e.g. --mmr 0.2 at 10x);
    a liquidation price on the wrong side of the entry is never shown.
    """
    entry = pos.entry_price
    if liq is None or (liq < entry if pos.side > 0 else liq > entry):
        return
    cur, money = spec.settle, money_places(spec.settle)
    mm = maintenance_margin(pos, entry, tier)
    raise InputError(
        f"at {show(leverage)}x the maintenance margin {show(mm, money)} {cur} is more than the "
        f"margin {show(wallet, money)} {cur}: the position would be liquidated at once; "
        "lower the leverage"
    )
