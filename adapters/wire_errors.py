"""The error a feed raises for a frame it cannot decode (logged, counted and skipped)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

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


def wire_levels(raw: Any, what: str) -> tuple[tuple[Decimal, Decimal], ...]:
    """Order-book levels ``[[price, qty], ...]`` as Decimals; qty 0 means "remove the level"."""
    if not isinstance(raw, list):
        raise WireError(f"{what}: levels must be a list, was {type(raw).__name__}")
    out: list[tuple[Decimal, Decimal]] = []
    for level in raw:
        if not isinstance(level, list | tuple) or len(level) < 2:
            raise WireError(f"{what}: a level must be [price, qty], was {level!r}")
        try:
            price, qty = Decimal(level[0]), Decimal(level[1])
        except (InvalidOperation, TypeError):
            raise WireError(f"{what}: level {level!r} is not numeric") from None
        if not price.is_finite() or not qty.is_finite() or price <= 0 or qty < 0:
            raise WireError(f"{what}: level {level!r} has a bad price or quantity")
        out.append((price, qty))
    return tuple(out)
