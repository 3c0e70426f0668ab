"""Numbers for human eyes: prices to the tick, money to cents or satoshis, short dates.

Display only: the engine, the journal and ``--json`` keep every digit. A liquidation price of
97,355.33067729083665338645418 is exact but unreadable; shown to the market's tick it is what
the exchange would show. Money is shown to 2 decimals in USD-like currencies and to 8 in coins
(a BTC wallet moves in satoshis).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

USD_LIKE = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI", "USDE"})
CENT = Decimal("0.01")
SATOSHI = Decimal("0.00000001")


def money_places(currency: str) -> int:
    """2 for USD-like settle currencies, 8 for coins (and unknown currencies)."""
    return 2 if currency.upper() in USD_LIKE else 8


def money(value: Decimal | None, currency: str) -> Decimal | None:
    """``value`` rounded for display in ``currency`` (None stays None)."""
    if value is None:
        return None
    step = CENT if money_places(currency) == 2 else SATOSHI
    return value.quantize(step, rounding=ROUND_HALF_EVEN)


def price(value: Decimal | None, tick: Decimal | None) -> Decimal | None:
    """``value`` to the market's tick (2 decimals when the tick is unknown)."""
    if value is None:
        return None
    if tick is None or tick <= 0:
        return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    steps = (value / tick).to_integral_value(rounding=ROUND_HALF_EVEN)
    return (steps * tick).quantize(tick.normalize())


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
