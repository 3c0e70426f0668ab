"""Hostile orders files and settings through the real CLI: one line on stderr, exit 2, no
traceback, bounded memory. The cases are the ones issue 17 found exiting 70 or 1."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from adapters import orders_csv
from adapters.orders_csv import MAX_CELL_CHARS, MAX_ROWS, read_order_rows
from config.settings import load_settings
from sim.errors import ConfigError, InputError

HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)
ROW = "2025-05-04T15:40:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,,,"
DATA = "ohlcv/binance_usdm"


def _one_line(stderr: str) -> str:
    text = stderr.strip()
    assert "\n" not in text, text
    assert "Traceback" not in text
    return text


def _replay(run_cli, shared_data: Path, orders: Path):
    return run_cli("replay", "--data", str(shared_data / DATA), "--orders", str(orders))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEADER + ROW + "x" * 10_000_000 + "\n", "orders.csv line 2 is longer than 64,000"),
        (HEADER + ROW + "x" * 5000 + "\n", "orders.csv row 2: tag is longer than 1,000"),
        (HEADER + ROW + "\n" + ROW + ",oops\n", "orders.csv row 3: 15 cells but the header has 14"),
    ],
    ids=["10MB_line", "long_cell", "extra_cell"],
)
def test_bad_orders_file_is_one_line_exit_2(
    run_cli, shared_data: Path, tmp_path: Path, content: str, message: str
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(content, encoding="utf-8")

    result = _replay(run_cli, shared_data, orders)

    assert result.exit_code == 2, result.stderr
    assert message in _one_line(result.stderr)


def test_a_million_rows_stop_at_the_limit_without_reading_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = tmp_path / "orders.csv"
    with orders.open("w", encoding="utf-8") as f:
        f.write(HEADER)
        f.writelines(ROW + "\n" for _ in range(1_000_000))
    monkeypatch.setattr(orders_csv, "MAX_ROWS", 1_000)  # the real 100,000 parses for seconds

    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            read_order_rows(orders)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert str(info.value) == "orders.csv row 1002: more than 1,000 orders in one file; split it"
    assert peak < 8 * 2**20  # streamed: a thousand orders held, never the million rows


def test_the_limits_are_the_documented_ones(tmp_path: Path) -> None:
    assert (MAX_ROWS, MAX_CELL_CHARS) == (100_000, 1_000)
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + (ROW + "\n") * 3 + "\n", encoding="utf-8")  # a blank last line
    assert [n for n, _ in read_order_rows(orders)] == [2, 3, 4]


def test_excel_byte_order_mark_is_accepted(run_cli, shared_data: Path, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_bytes(b"\xef\xbb\xbf" + (HEADER + ROW + "\r\n").encode())

    rows = read_order_rows(orders)
    result = _replay(run_cli, shared_data, orders)

    assert [(n, str(o.contracts), o.side) for n, o in rows] == [(2, "0.01", "buy")]
    assert result.exit_code == 0, result.stderr


def test_a_folder_as_orders_is_one_line_exit_2(run_cli, shared_data: Path, tmp_path: Path) -> None:
    result = _replay(run_cli, shared_data, tmp_path)
    assert result.exit_code == 2
    assert _one_line(result.stderr).endswith(
        f"orders file {tmp_path} is a folder; pass the CSV file itself"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_orders_file_is_one_line_exit_2(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + ROW + "\n", encoding="utf-8")
    orders.chmod(0)
    result = _replay(run_cli, shared_data, orders)
    assert result.exit_code == 2
    assert "cannot be read: Permission denied" in _one_line(result.stderr)


def test_unreadable_path_maps_oserror_to_input_error(tmp_path: Path) -> None:
    # a path through a regular file: ENOTDIR, an OSError that is neither missing nor a folder
    plain = tmp_path / "plain"
    plain.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be read: Not a directory"):
        read_order_rows(plain / "orders.csv")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "MICROFUT_DATA__DIRS",
            "not json",
            "bad value for setting 'data.dirs' (from environment variable MICROFUT_DATA__DIRS): "
            "not valid JSON (Expecting value); a list is written as JSON, "
            "e.g. MICROFUT_DATA__DIRS='[\"/path/to/data\"]'",
        ),
        (
            "MICROFUT_RISK",
            "{",
            "bad value for setting 'risk' (from environment variable MICROFUT_RISK): not valid "
            "JSON (Expecting property name enclosed in double quotes); a table is written as "
            'JSON, e.g. MICROFUT_RISK=\'{"key": "value"}\'',
        ),
        (
            "MICROFUT_RISK__RISK_PCT",
            "abc",
            "bad value for setting 'risk.risk_pct' (from environment variable "
            "MICROFUT_RISK__RISK_PCT): Input should be a valid decimal",
        ),
        (
            "MICROFUT_DATA__DIRS",
            "5",
            "bad value for setting 'data.dirs' (from environment variable MICROFUT_DATA__DIRS): "
            "Input should be a valid list",
        ),
    ],
    ids=["dirs_not_json", "table_not_json", "decimal", "not_a_list"],
)
def test_bad_environment_variable_is_one_line_naming_it(
    run_cli, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError) as info:
        load_settings()
    result = run_cli("journal", "list")

    assert str(info.value) == message
    assert result.exit_code == 2
    assert _one_line(result.stderr) == f"error: {message}"
