"""Decimal helpers: how numbers enter the engine and how they are rounded.

Amounts are plain ``Decimal`` named by their unit (``contracts``, ``notional``, ``fee``) with the
currency alongside (``spec.settle``); the unused ``Money``/``Price``/``Contracts``/``Rate`` types
were removed (issue 13) rather than kept as decoration.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation
from fractions import Fraction

from sim.errors import InputError

ZERO = Decimal(0)
ONE = Decimal(1)


def dec(value: object) -> Decimal:
    """Convert a wire string, int, float (through its repr) or Decimal to Decimal.

    Floats go through ``str`` so 0.1 stays 0.1 (never ``Decimal(0.1)``). NaN and infinities are
    refused: no market number is ever NaN.
    """
    if isinstance(value, Decimal):
        out = value
    elif isinstance(value, bool):
        raise InputError(f"expected a number, was {value!r}")
    elif isinstance(value, int | float | str):
        try:
            out = Decimal(str(value).strip())
        except ArithmeticError:
            raise InputError(f"expected a number, was {value!r}") from None
    else:
        raise InputError(f"expected a number, was {value!r}")
    if not out.is_finite():
        raise InputError(f"expected a finite number, was {value!r}")
    return out


# Numbers a trader types (sizes, prices, leverage) outside this range are typing mistakes:
# 1e99 contracts or a price of 1e-99 would only reach the venue's limits after arithmetic
# far beyond the 28 digits the ledger keeps (and print hundreds of digits).
TYPED_SMALLEST = Decimal("1e-12")
TYPED_LARGEST = Decimal("1e15")
TYPED_RANGE = "between 1e-12 and 1e15"


def typed_in_range(value: Decimal) -> bool:
    """A typed number (zero aside) lies in [1e-12, 1e15) in absolute value."""
    return not value or TYPED_SMALLEST <= abs(value) < TYPED_LARGEST


def opt_dec(value: object) -> Decimal | None:
    """Like :func:`dec` but ``None`` and ``""`` mean missing."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    return dec(value)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` down (toward zero) to a multiple of ``step``, as ccxt amount_to_precision."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def round_to_step(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round ``value`` to a multiple of ``step`` with an explicit rounding mode."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=rounding) * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """True when ``value`` lies exactly on the ``step`` grid.

    ``%`` needs the quotient within the context's 28 digits; an absurd size or price (``buy
    1e99 BTC``) is judged exactly as fractions instead of raising, so it is refused by the
    venue's limits like any other order.
    """
    if step <= 0:
        return True
    try:
        return (value % step) == 0
    except InvalidOperation:
        return Fraction(value) % Fraction(step) == 0


def on_step(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``value.quantize(step)`` that never runs out of digits.

    The context's 28 digits refuse, for example, a notional of 1e30 shown in cents (a huge
    typed order). Such a value is quantized again with just the precision it needs, so a
    message or a screen shows the number and does not raise in the middle of an input.
    """
    try:
        return value.quantize(step, rounding=rounding)
    except InvalidOperation:
        need = value.adjusted() - int(step.as_tuple().exponent) + 2
        return value.quantize(step, rounding=rounding, context=Context(prec=max(28, need)))


def cents(value: Decimal, places: str = "0.01") -> Decimal:
    """Quantize for display and golden-number comparisons (half-up, like exchange UIs)."""
    return on_step(value, Decimal(places), ROUND_HALF_UP)
