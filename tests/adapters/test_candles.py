"""Recorded candle / funding / mark series load checked, and bad files give one clear error."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from adapters.candles import file_stem, find_series, last_close, load_series, parse_name
from sim.errors import DataError


def test_file_name_maps_to_ccxt_symbol() -> None:
    sf = parse_name(Path("BTC_USDT_USDT-8h-funding_rate.feather"))

    assert sf is not None
    assert (sf.symbol, sf.timeframe, sf.kind) == ("BTC/USDT:USDT", "8h", "funding_rate")
    assert file_stem("BTC/USDT:USDT") == "BTC_USDT_USDT"


def test_recorded_btc_funding_matches_the_worked_example_inputs(shared_data: Path) -> None:
    # exchange-mechanics.md A.6: 2025-03-06 16:00 rate 6.818e-5; 2025-03-07 08:00(.001) -1.539e-5
    sf = find_series("BTC/USDT:USDT", "funding_rate", "8h", [shared_data])
    assert sf is not None

    df = load_series(sf.path)

    assert df["ts_ms"].iloc[0] == 1741276800000
    assert Decimal(str(df["rate"].iloc[0])) == Decimal("6.818e-05")
    assert df["ts_ms"].iloc[2] == 1741334400000  # 08:00:00.001 floored to the second
    assert Decimal(str(df["rate"].iloc[2])) == Decimal("-1.539e-05")


def test_last_recorded_btc_price_is_the_last_1m_close(shared_data: Path) -> None:
    price, ts_ms, path = last_close("BTC/USDT:USDT", [shared_data]) or (None, None, None)

    assert price == Decimal("106588.4")
    assert ts_ms == 1748964660000  # 2025-06-03 15:31 UTC
    assert path is not None
    assert path.name.startswith("BTC_USDT_USDT-1m-futures")


def test_unknown_symbol_has_no_recorded_price(shared_data: Path) -> None:
    assert last_close("DOGE/USDT:USDT", [shared_data]) is None


def test_negative_price_row_is_a_one_line_data_error(tmp_path: Path) -> None:
    f = tmp_path / "BTC_USDT_USDT-1m-futures.csv"
    f.write_text(
        "timestamp_ms,datetime_utc,open,high,low,close,volume\n"
        "1000,x,10,11,9,10,1\n"
        "61000,x,10,11,-9,10,1\n"
    )

    with pytest.raises(DataError, match="row 3"):
        load_series(f)


def test_time_going_backwards_is_a_data_error(tmp_path: Path) -> None:
    f = tmp_path / "BTC_USDT_USDT-1m-futures.csv"
    f.write_text(
        "timestamp_ms,datetime_utc,open,high,low,close,volume\n"
        "61000,x,10,11,9,10,1\n"
        "1000,x,10,11,9,10,1\n"
    )

    with pytest.raises(DataError, match="does not increase"):
        load_series(f)


def test_truncated_feather_is_a_data_error(tmp_path: Path, shared_data: Path) -> None:
    src = shared_data / "ohlcv/binance_usdm/BTC_USDT_USDT-1h-futures.feather"
    f = tmp_path / "BTC_USDT_USDT-1h-futures.feather"
    f.write_bytes(src.read_bytes()[:1000])

    with pytest.raises(DataError, match="could not be read"):
        load_series(f)


def _csv(tmp_path: Path, body: str) -> Path:
    f = tmp_path / "BTC_USDT_USDT-1m-futures.csv"
    f.write_text("timestamp_ms,datetime_utc,open,high,low,close,volume\n" + body)
    return f


def test_non_numeric_cell_is_a_data_error_naming_file_and_row(tmp_path: Path) -> None:
    f = _csv(tmp_path, "1000,x,10,11,9,10,1\n61000,x,10,abc,9,10,1\n")

    with pytest.raises(
        DataError, match=r"BTC_USDT_USDT-1m-futures.csv row 3: high is not a number"
    ):
        load_series(f)


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no rows"):
        load_series(_csv(tmp_path, ""))


def test_empty_file_has_no_rows(tmp_path: Path) -> None:
    f = tmp_path / "BTC_USDT_USDT-1m-futures.csv"
    f.write_text("")

    with pytest.raises(DataError, match="no rows"):
        load_series(f)


@pytest.mark.parametrize(
    "row",
    [
        "61000,x,10,9.5,9,10,1",  # high below open/close (truncated 11 → 9.5)
        "61000,x,10,11,10.5,10,1",  # low above close
        "61000,x,10,11,9,12,1",  # close above high
    ],
)
def test_high_low_that_do_not_bound_the_bar_are_a_data_error(tmp_path: Path, row: str) -> None:
    f = _csv(tmp_path, f"1000,x,10,11,9,10,1\n{row}\n")

    with pytest.raises(DataError, match="row 3: high/low do not bound open/close"):
        load_series(f)
