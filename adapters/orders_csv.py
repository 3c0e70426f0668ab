"""ORDERS.csv → order commands, checked row by row before anything runs.

Columns: time (ISO-8601 UTC), symbol (ccxt unified), side (buy/sell), type, contracts, price,
trigger_price, callback_pct, reduce_only, leverage, margin_mode, stop_loss, take_profit, tag;
optional extras: trigger_source (last/mark), time_in_force, close_position. A blank cell means
"not set". A malformed row raises InputError naming the row (the header is row 1); so do a row
with extra cells, an overlong cell or line, and an order past ``MAX_ROWS``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from sim.engine.commands import (
    MARGIN_MODES,
    ORDER_TYPES,
    TIME_IN_FORCE,
    TRIGGER_SOURCES,
    PlaceOrder,
)
from sim.engine.money import TYPED_RANGE, typed_in_range
from sim.errors import InputError

REQUIRED = ("time", "symbol", "side", "type", "contracts")
KNOWN = (
    *REQUIRED,
    "price",
    "trigger_price",
    "callback_pct",
    "reduce_only",
    "leverage",
    "margin_mode",
    "stop_loss",
    "take_profit",
    "tag",
    "trigger_source",
    "time_in_force",
    "close_position",
)
MAX_ROWS = 100_000  # orders in one file: a hand-made list, not a tick stream
MAX_CELL_CHARS = 1_000  # the longest meaningful cell is a tag
MAX_LINE_CHARS = 64_000  # checked while reading, before the csv module sees the line
TRUE = ("true", "yes", "1", "y")
FALSE = ("false", "no", "0", "n", "")


class _Row:
    """One CSV row with the helpers that turn its cells into typed values or a row error."""

    def __init__(self, path: Path, number: int, cells: dict[str, str]) -> None:
        self.where = f"{path.name} row {number}"
        self.cells = {k: (v or "").strip() for k, v in cells.items() if k is not None}

    def fail(self, column: str, what: str) -> InputError:
        return InputError(f"{self.where}: {column} {what}, was '{self.cells.get(column, '')}'")

    def text(self, column: str) -> str | None:
        return self.cells.get(column) or None

    def choice(self, column: str, options: tuple[str, ...], default: str | None) -> str | None:
        value = self.text(column)
        if value is None:
            return default
        if value.lower() not in [o.lower() for o in options]:
            raise self.fail(column, f"must be one of {', '.join(options)}")
        return next(o for o in options if o.lower() == value.lower())

    def number(self, column: str, positive: bool = True) -> Decimal | None:
        value = self.text(column)
        if value is None:
            return None
        try:
            out = Decimal(value)
        except InvalidOperation:
            raise self.fail(column, "must be a number") from None
        if not out.is_finite() or (positive and out <= 0):
            raise self.fail(column, "must be > 0")
        if not typed_in_range(out):
            raise self.fail(column, f"is out of range: expected a number {TYPED_RANGE}")
        return out

    def flag(self, column: str) -> bool:
        value = (self.text(column) or "").lower()
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise self.fail(column, "must be true or false")

    def time_ms(self) -> int:
        value = self.text("time")
        if value is None:
            raise self.fail("time", "is required (ISO-8601 UTC, like 2025-05-05T12:00:00Z)")
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail("time", "must be ISO-8601 UTC, like 2025-05-05T12:00:00Z") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return int(when.timestamp() * 1000)


def _order(row: _Row) -> PlaceOrder:
    ts = row.time_ms()
    symbol = row.text("symbol")
    if symbol is None:
        raise row.fail("symbol", "is required (ccxt unified, like BTC/USDT:USDT)")
    side = row.choice("side", ("buy", "sell"), None)
    if side is None:
        raise row.fail("side", "is required (buy or sell)")
    order_type = row.choice("type", ORDER_TYPES, None)
    if order_type is None:
        raise row.fail("type", f"is required (one of {', '.join(ORDER_TYPES)})")
    close_position = row.flag("close_position")
    contracts = row.number("contracts")
    if contracts is None and not close_position:
        raise row.fail("contracts", "must be > 0")
    return PlaceOrder(
        ts_ms=ts,
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        order_type=order_type,
        contracts=contracts or Decimal(0),
        price=row.number("price"),
        trigger_price=row.number("trigger_price"),
        trigger_source=row.choice("trigger_source", TRIGGER_SOURCES, "last") or "last",
        callback_pct=row.number("callback_pct"),
        time_in_force=row.choice("time_in_force", TIME_IN_FORCE, "GTC") or "GTC",
        reduce_only=row.flag("reduce_only"),
        close_position=close_position,
        leverage=row.number("leverage"),
        margin_mode=row.choice("margin_mode", MARGIN_MODES, None),
        stop_loss=row.number("stop_loss"),
        take_profit=row.number("take_profit"),
        tag=row.text("tag"),
        source="orders.csv",
    )


def read_orders(path: Path) -> list[PlaceOrder]:
    """Parse every row (all or nothing), returned in time order (ties keep file order)."""
    return [order for _, order in read_order_rows(path)]


def read_order_rows(path: Path) -> list[tuple[int, PlaceOrder]]:
    """(row number, order) for every row, in time order; the number names the row in errors.

    Streamed: a line longer than ``MAX_LINE_CHARS`` is refused before it is read whole, a cell
    longer than ``MAX_CELL_CHARS`` or a file with more than ``MAX_ROWS`` orders is refused
    naming the row, so a hostile file costs bounded memory. A UTF-8 byte-order mark (Excel's
    "CSV UTF-8") is accepted; a row with more cells than the header is refused.
    """
    if path.is_dir():
        raise InputError(f"orders file {path} is a folder; pass the CSV file itself")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            return _parse(path, f)
    except FileNotFoundError:
        raise InputError(f"orders file {path} was not found") from None
    except UnicodeDecodeError:
        raise InputError(f"orders file {path} is not UTF-8 text") from None
    except OSError as e:
        raise InputError(f"orders file {path} cannot be read: {e.strerror or e}") from None


def _lines(path: Path, f: TextIO) -> Iterator[str]:
    """The file's lines, each read with a length cap (a 10 GB line is never held whole)."""
    number = 0
    while True:
        line = f.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise InputError(
                f"{path.name} line {number} is longer than {MAX_LINE_CHARS:,} characters; "
                "is this an orders CSV?"
            )
        yield line


def _parse(path: Path, f: TextIO) -> list[tuple[int, PlaceOrder]]:
    reader = csv.reader(_lines(path, f))
    try:
        header = [h.strip() for h in next(reader, [])]
        if not any(header):
            raise InputError(
                f"{path.name} is empty; it needs a header row ({', '.join(REQUIRED)}, ...) "
                "and one row per order"
            )
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InputError(f"{path.name}: missing column(s) {', '.join(missing)}")
        unknown = [h for h in header if h not in KNOWN]
        if unknown:
            raise InputError(
                f"{path.name}: unknown column(s) {', '.join(unknown)}; known: {', '.join(KNOWN)}"
            )
        orders: list[tuple[int, PlaceOrder]] = []
        for number, cells in enumerate(reader, start=2):
            if not cells:
                continue  # a blank line
            if number - 1 > MAX_ROWS:
                raise InputError(
                    f"{path.name} row {number}: more than {MAX_ROWS:,} orders in one file; split it"
                )
            if len(cells) > len(header):
                raise InputError(
                    f"{path.name} row {number}: {len(cells)} cells but the header has "
                    f"{len(header)} columns (a stray comma?)"
                )
            long = next((i for i, c in enumerate(cells) if len(c) > MAX_CELL_CHARS), None)
            if long is not None:
                raise InputError(
                    f"{path.name} row {number}: {header[long]} is longer than "
                    f"{MAX_CELL_CHARS:,} characters"
                )
            orders.append(
                (number, _order(_Row(path, number, dict(zip(header, cells, strict=False)))))
            )
    except csv.Error as e:
        raise InputError(f"{path.name} line {reader.line_num}: not valid CSV ({e})") from None
    return sorted(orders, key=lambda o: o[1].ts_ms)
