"""`-e` names the venue of a capture kept outside a venue-named folder, and a funding-rate
series with a hole is named in the replay summary (no funding is charged inside it)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from adapters.pricepath import funding_holes

HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)
H8 = 8 * 3_600_000


def _orders(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_exchange_flag_names_the_venue_of_a_capture_outside_a_venue_folder(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    loose = tmp_path / "captures" / "ws_raw_btcusdt_20240808.gz"
    loose.parent.mkdir()
    shutil.copyfile(shared_data / "binanceusdm/ws_raw_btcusdt_20240808.gz", loose)
    orders = _orders(
        tmp_path,
        "2024-08-08T23:56:00Z,BTC/USDT:USDT,buy,market,0.1,,,,,10,isolated,,,",
        "2024-08-08T23:58:00Z,BTC/USDT:USDT,sell,market,0.1,,,,,10,isolated,,,",
    )

    with_e = run_cli(
        "replay", "-e", "binanceusdm", "--data", str(loose), "--orders", str(orders), "--json"
    )
    in_folder = run_cli(
        "replay",
        "--data",
        str(shared_data / "binanceusdm/ws_raw_btcusdt_20240808.gz"),
        "--orders",
        str(orders),
        "--json",
    )
    unknown = run_cli("replay", "-e", "mexc", "--data", str(loose), "--orders", str(orders))

    assert with_e.exit_code == 0, with_e.stderr
    assert (
        json.loads(with_e.stdout)["closed_trades"] == json.loads(in_folder.stdout)["closed_trades"]
    )
    assert json.loads(with_e.stdout)["closed_trades"][0]["exit_price"] == "61628.10"
    assert unknown.exit_code == 2
    assert "\n" not in unknown.stderr.strip()


def test_a_hole_in_the_funding_series_is_noted(run_cli, shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "ohlcv/binance_usdm"
    data = tmp_path / "holey"
    data.mkdir()
    for name in ("BTC_USDT_USDT-1h-futures.csv", "BTC_USDT_USDT-8h-mark.csv"):
        shutil.copyfile(src / name, data / name)
    lines = (
        (src / "BTC_USDT_USDT-8h-funding_rate.csv")
        .read_text(encoding="utf-8")
        .splitlines(keepends=True)
    )
    (data / "BTC_USDT_USDT-8h-funding_rate.csv").write_text(
        "".join(lines[:20] + lines[92:]), encoding="utf-8"
    )  # 72 instants (24 days) removed
    orders = _orders(
        tmp_path,
        "2025-03-07T15:40:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,,,",
        "2025-04-04T18:40:00Z,BTC/USDT:USDT,sell,market,0.01,,,,,10,isolated,,,",
    )

    holey = run_cli("replay", "--data", str(data), "--orders", str(orders), "--json")
    whole = run_cli(
        "replay", "--data", str(src), "--timeframe", "1h", "--orders", str(orders), "--json"
    )

    hole = (
        "BTC/USDT:USDT: the funding-rate series has a hole from 2025-03-12 16:00 to "
        "2025-04-05 10:00 UTC (23 d 18 h; instants every 8h expected); no funding is charged in it"
    )
    assert holey.exit_code == 0, holey.stderr
    assert hole in json.loads(holey.stdout)["notes"]
    assert not any("hole" in n for n in json.loads(whole.stdout)["notes"])


def test_funding_holes_are_spacings_above_one_and_a_half_intervals() -> None:
    regular = [0, H8, 2 * H8, 3 * H8, 4 * H8, 5 * H8, 6 * H8]
    three_missing = [0, H8, 2 * H8, 6 * H8]
    late = [0, H8, 2 * H8, 3 * H8 + H8 // 2 + 1, 4 * H8, 5 * H8, 6 * H8]  # 1.5x + 1 ms

    assert funding_holes("X", regular, 0, 6 * H8 + 1) == []
    assert funding_holes("X", three_missing, 0, 6 * H8 + 1) == [
        "X: the funding-rate series has a hole from 1970-01-01 16:00 to 1970-01-03 00:00 UTC "
        "(1 d 8 h; instants every 8h expected); no funding is charged in it"
    ]
    assert len(funding_holes("X", late, 0, 6 * H8 + 1)) == 1
    assert funding_holes("X", three_missing, 3 * H8, 5 * H8) == [
        "X: the funding-rate series has a hole from 1970-01-02 00:00 to 1970-01-02 16:00 UTC "
        "(16 h; instants every 8h expected); no funding is charged in it"
    ]  # a replay inside the hole: the part it covers is named
