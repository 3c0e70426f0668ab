"""The error a feed raises for a frame it cannot decode (logged, counted and skipped)."""

from __future__ import annotations

import sys
from decimal import Decimal, InvalidOperation
from math import isfinite
from typing import Annotated, Any

import msgspec

from sim.errors import FeedError


class WireError(FeedError):
    """A malformed or nonsensical frame; feeds log it, count it and keep running."""


def wire_price(data: dict[str, Any], key: str, what: str) -> Decimal:
    """A strictly positive finite Decimal from the wire string at ``data[key]``."""
    value = wire_decimal(data, key, what)
    if value <= 0:
        raise WireError(f"{what}: {key} must be a positive price, was {data.get(key)!r}")
    return value


def wire_decimal(data: dict[str, Any], key: str, what: str) -> Decimal:
    """A finite Decimal from the wire string at ``data[key]``; ``""`` and absence are errors."""
    value = opt_wire_decimal(data, key, what)
    if value is None:
        raise WireError(f"{what}: field {key!r} is missing")
    return value


def opt_wire_decimal(data: dict[str, Any], key: str, what: str) -> Decimal | None:
    """A finite Decimal, or None when the field is absent or ``""`` (the venues' "missing")."""
    raw = data.get(key)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str | int):
        raise WireError(f"{what}: {key} must be a number string, was {raw!r}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise WireError(f"{what}: {key} is not a number, was {raw!r}") from None
    if not value.is_finite():
        raise WireError(f"{what}: {key} is not finite, was {raw!r}")
    return value


def wire_int(data: dict[str, Any], key: str, what: str) -> int:
    """An integer field (ids, epoch milliseconds); strings of digits are accepted."""
    raw = data.get(key)
    if isinstance(raw, bool) or raw is None or raw == "":
        raise WireError(f"{what}: field {key!r} is missing")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    raise WireError(f"{what}: {key} must be an integer, was {raw!r}")


RawLevel = tuple[str, str]
# A level's float price and qty for msgspec (strict=False reads the wire's strings), checked in
# C: price > 0, qty >= 0, both finite (NaN fails every comparison).
Price = Annotated[float, msgspec.Meta(gt=0, le=sys.float_info.max)]
Qty = Annotated[float, msgspec.Meta(ge=0, le=sys.float_info.max)]


def wire_levels(raw: Any, what: str) -> tuple[RawLevel, ...]:
    """Order-book levels ``[[price, qty], ...]``, checked, kept as the wire's strings.

    qty 0 means "remove the level". No Decimal is made here: a book turns only the levels it
    shows into Decimals (``adapters/depth.py``), most wire levels never reach the engine.
    """
    return parse_wire_levels(raw, what)[0]


def parse_wire_levels(
    raw: Any, what: str
) -> tuple[tuple[RawLevel, ...], list[tuple[float, float]]]:
    """``wire_levels`` plus the float (price, qty) pairs it checked (the book's sort keys)."""
    if not isinstance(raw, list):
        raise WireError(f"{what}: levels must be a list, was {type(raw).__name__}")
    for level in raw:
        if not isinstance(level, list | tuple) or len(level) < 2:
            raise WireError(f"{what}: a level must be [price, qty], was {level!r}")
    return parse_raw_levels(raw, what)


def wire_raw_levels(raw: list[Any], what: str, *, strings: bool = False) -> tuple[RawLevel, ...]:
    """Check ``(price, qty)`` pairs (price > 0, qty >= 0, both finite numbers) by float value.

    ``strings``: the pairs are already ``tuple[str, str]`` (msgspec checked the types).
    """
    return parse_raw_levels(raw, what, strings=strings)[0]


def parse_raw_levels(
    raw: list[Any], what: str, *, strings: bool = False
) -> tuple[tuple[RawLevel, ...], list[tuple[float, float]]]:
    """``wire_raw_levels`` plus the levels' float (price, qty) pairs.

    The checks run over whole columns (a NaN or an infinity makes the sum non-finite), and
    the floats are handed on so the book never parses a level twice.
    """
    if not raw:
        return (), []
    try:
        prices = [float(level[0]) for level in raw]
        qtys = [float(level[1]) for level in raw]
    except (TypeError, ValueError):
        bad = next(lv for lv in raw if not _numeric(lv[0]) or not _numeric(lv[1]))
        raise WireError(f"{what}: level {list(bad)!r} is not numeric") from None
    if not isfinite(sum(prices)) or min(prices) <= 0 or not isfinite(sum(qtys)) or min(qtys) < 0:
        bad = next(
            (
                lv
                for lv, p, q in zip(raw, prices, qtys, strict=True)
                if not (0 < p < _INF and 0 <= q < _INF)
            ),
            None,
        )
        if bad is not None:  # else only the sum overflowed: every level is fine
            raise WireError(f"{what}: level {list(bad)!r} has a bad price or quantity")
    floats = list(zip(prices, qtys, strict=True))
    if strings:
        return tuple(raw), floats
    return tuple((str(lv[0]), str(lv[1])) for lv in raw), floats


def _numeric(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


_INF = float("inf")
