"""How the engine writes numbers into the messages a trader reads (no exponents, fixed places).

Calculators also round their results with these steps, so a message and a result agree.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sim.engine.money import ONE, on_step
from sim.engine.spec import ContractSpec

_FIAT = frozenset({"USDT", "USD", "USDC", "BUSD", "FDUSD"})


def money_places(currency: str) -> Decimal:
    """Display step of an amount: cents for dollar-like currencies, 1e-8 for coins."""
    return Decimal("0.01") if currency.upper() in _FIAT else Decimal("0.00000001")


def price_places(spec: ContractSpec) -> Decimal:
    """Display step of a price: the tick, or cents when the tick is coarser (golden numbers)."""
    cent = Decimal("0.01")
    return spec.price_tick if 0 < spec.price_tick < cent else cent


def show(value: Decimal, step: Decimal | None = None) -> str:
    """Text of a number for a message: on ``step`` when given, no exponent, thousands commas.

    Same form as the CLI's ``render.fmt`` (the engine may not import the CLI).
    """
    if step is not None and step > 0:
        value = on_step(value, step, ROUND_HALF_UP)
    if value == value.to_integral_value():
        value = on_step(value, ONE)
    return format(value, ",f")
