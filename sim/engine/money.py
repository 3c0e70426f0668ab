"""Decimal helpers: how numbers enter the engine and how they are rounded.

Amounts are plain ``Decimal`` named by their unit (``contracts``, ``notional``, ``fee``) with the
currency alongside (``spec.settle``); the unused ``Money``/``Price``/``Contracts``/``Rate`` types
were removed (issue 13) rather than kept as decoration.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

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
    """True when ``value`` lies exactly on the ``step`` grid."""
    return step <= 0 or (value % step) == 0


def cents(value: Decimal, places: str = "0.01") -> Decimal:
    """Quantize for display and golden-number comparisons (half-up, like exchange UIs)."""
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)
