"""How numbers and times are shown on every screen (cli, desk, review, web).

Display only: the engine, the journal and ``--json`` keep every digit. A liquidation price of
97,355.33067729083665338645418 is exact but unreadable; shown to the market's tick it is what
the exchange would show. Money is shown to cents in dollar-like currencies and to satoshis in
coins: the step comes from the engine's ``money_places`` so a message and a screen agree.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from sim.engine.messages import money_places as money_step
from sim.engine.money import on_step
from sim.errors import InputError

CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")

__all__ = [
    "CENT",
    "SATOSHI",
    "compact",
    "fmt",
    "money",
    "money_places",
    "money_step",
    "plural",
    "price",
    "short_time",
    "ts_text",
]


def fmt(value: Any, places: int | None = None) -> str:
    """Human form of a value: Decimals without exponent, thousands separators for big money."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        if places is not None:
            value = on_step(value, Decimal(1).scaleb(-places))
        text = format(value.normalize() if value == value.to_integral() else value, "f")
        if abs(value) >= 1000:
            whole, _, frac = text.partition(".")
            sign = "-" if whole.startswith("-") else ""
            whole = f"{int(whole.lstrip('-')):,}"
            text = f"{sign}{whole}" + (f".{frac}" if frac else "")
        return text
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def ts_text(ts_ms: int | None) -> str:
    """Epoch milliseconds as an ISO-like UTC string for display."""
    if ts_ms is None:
        return "-"
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def money_places(currency: str) -> int:
    """Decimal places of an amount in ``currency`` (2 for dollar-like, 8 for coins)."""
    return -int(money_step(currency).as_tuple().exponent)


def money(value: Decimal | None, currency: str) -> Decimal | None:
    """``value`` rounded for display in ``currency`` (None stays None)."""
    if value is None:
        return None
    return on_step(value, money_step(currency), ROUND_HALF_EVEN)


def price(value: Decimal | None, tick: Decimal | None) -> Decimal | None:
    """``value`` to the market's tick (2 decimals when the tick is unknown)."""
    if value is None:
        return None
    if tick is None or tick <= 0:
        return on_step(value, CENT, ROUND_HALF_EVEN)
    steps = (value / tick).to_integral_value(rounding=ROUND_HALF_EVEN)
    return on_step(steps * tick, tick.normalize())


def short_time(ts_ms: int | None, seconds: bool = False) -> str:
    """``05-05 00:00`` (UTC): enough to tell trades apart, narrow enough for 100 columns."""
    if ts_ms is None:
        return "-"
    when = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return when.strftime("%m-%d %H:%M:%S" if seconds else "%m-%d %H:%M")


def plural(count: int, word: str) -> str:
    """``1 trade``, ``2 trades``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def compact(table: Any) -> Any:
    """A rich table without rules between columns, so a wide table fits 100 columns.

    Values are never cut (each column is at least as wide as its widest value); headers wrap.
    """
    from rich import box

    table.box, table.show_edge, table.padding = box.SIMPLE_HEAD, False, (0, 0)
    for column in table.columns:
        column.min_width = max((len(str(cell)) for cell in column.cells), default=1)
    return table


def to_jsonable(obj: Any) -> Any:
    """Turn dataclasses, Decimals, paths and containers into JSON-safe values (Decimal → str)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in obj]
    return obj


def parse_date(text: str | None, option: str, end: bool = False) -> int | None:
    """``--since``/``--until`` as epoch ms (UTC); a bare date as ``--until`` includes that day."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option} must be a date like 2024-03-01, was {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end and len(text.strip()) == 10:
        moment += timedelta(days=1)
    return int(moment.timestamp() * 1000)
