"""ORDERS.csv parsing: blanks mean not set; a malformed row stops everything with its number."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from adapters.orders_csv import read_order_rows, read_orders
from sim.errors import InputError

HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)


def _write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def test_rows_become_commands_in_time_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "2025-05-05T12:00:00Z,BTC/USDT:USDT,sell,trailing_stop_market,0.01,,,1.5,true,,,,,trail\n"
        "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,limit,0.01,94000,,,,10,isolated,93000,96000,x\n",
    )

    first, second = read_orders(path)

    assert (first.ts_ms, first.order_type, first.price, first.leverage) == (
        1746403200000,
        "limit",
        D("94000"),
        D("10"),
    )
    assert (first.margin_mode, first.stop_loss, first.take_profit, first.tag) == (
        "isolated",
        D("93000"),
        D("96000"),
        "x",
    )
    assert first.reduce_only is False
    assert first.trigger_price is None
    assert (second.callback_pct, second.reduce_only) == (D("1.5"), True)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,-1,,,,,,,,,\n",
            "orders.csv row 4: contracts must be > 0, was '-1'",
        ),
        (
            "yesterday,BTC/USDT:USDT,buy,market,1,,,,,,,,,\n",
            "orders.csv row 4: time must be ISO-8601 UTC, like 2025-05-05T12:00:00Z, "
            "was 'yesterday'",
        ),
        (
            "2025-05-05T00:00:00Z,BTC/USDT:USDT,hold,market,1,,,,,,,,,\n",
            "orders.csv row 4: side must be one of buy, sell, was 'hold'",
        ),
        (
            "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,iceberg,1,,,,,,,,,\n",
            "orders.csv row 4: type must be one of market, limit, stop_market, stop_limit, "
            "take_profit_market, take_profit_limit, trailing_stop_market, was 'iceberg'",
        ),
        (
            "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,limit,1,abc,,,,,,,,\n",
            "orders.csv row 4: price must be a number, was 'abc'",
        ),
        (
            "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,1e99,,,,,,,,,\n",
            "orders.csv row 4: contracts is out of range: expected a number between 1e-12 and "
            "1e15, was '1e99'",
        ),
        (
            "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,1,,,,maybe,,,,,\n",
            "orders.csv row 4: reduce_only must be true or false, was 'maybe'",
        ),
    ],
)
def test_malformed_row_names_row_and_reason(tmp_path: Path, row: str, message: str) -> None:
    good = "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,1,,,,,,,,,\n"
    path = _write(tmp_path, good + good + row)

    with pytest.raises(InputError) as err:
        read_orders(path)

    assert str(err.value) == message


def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("time,symbol,side,contracts,colour\n", encoding="utf-8")

    with pytest.raises(InputError, match="missing column"):
        read_orders(path)
    path.write_text("time,symbol,side,type,contracts,colour\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown column"):
        read_orders(path)


def test_rows_keep_their_file_row_number_after_sorting_by_time(tmp_path: Path) -> None:
    f = tmp_path / "ORDERS.csv"
    f.write_text(
        "time,symbol,side,type,contracts\n"
        "2025-05-06T00:00:00Z,BTC/USDT:USDT,sell,market,1\n"
        "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,2\n",
        encoding="utf-8",
    )

    rows = read_order_rows(f)

    assert [(n, o.side, o.contracts) for n, o in rows] == [(3, "buy", D(2)), (2, "sell", D(1))]


@pytest.mark.parametrize("content", ["", "\n\n", "  \n"])
def test_an_empty_file_says_it_is_empty(tmp_path: Path, content: str) -> None:
    path = tmp_path / "ORDERS.csv"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(InputError, match=r"^ORDERS\.csv is empty; it needs a header row") as e:
        read_orders(path)
    assert "missing column" not in str(e.value)
