"""`--maker-fee/--taker-fee` on `replay` and `run`: an exchange page's example at another tier."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)
ROUND_TRIP = (
    "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,,,rt\n"
    "2025-05-06T00:00:00Z,BTC/USDT:USDT,sell,market,0.01,,,,true,,,,,\n"
)


def _trade(run_cli, shared_data: Path, tmp_path: Path, *flags: str) -> dict:
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + ROUND_TRIP, encoding="utf-8")
    data = str(shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1m-futures.feather")
    res = run_cli("replay", "--data", data, "--orders", str(orders), "--json", *flags)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    return {**out["closed_trades"][0], "notes": out["notes"]}


def test_taker_fee_flag_charges_the_given_rate_on_both_fills(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    market = _trade(run_cli, shared_data, tmp_path)
    tier = _trade(run_cli, shared_data, tmp_path, "--taker-fee", "0.0004", "--maker-fee", "0")

    def taker(t: dict, rate: D) -> D:  # both fills are market orders: taker on each notional
        return (D(t["entry_price"]) + D(t["exit_price"])) * D("0.01") * rate

    assert D(market["fees"]) == taker(market, D("0.0005"))  # Binance USDⓈ-M VIP 0 taker
    assert D(tier["fees"]) == taker(tier, D("0.0004"))
    assert (tier["entry_price"], tier["exit_price"]) == (
        market["entry_price"],
        market["exit_price"],
    )
    assert any("fee rates given by you: maker 0, taker 0.0004" in n for n in tier["notes"])


def test_fee_flag_that_is_not_a_fraction_exits_2(run_cli, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + ROUND_TRIP, encoding="utf-8")

    res = run_cli("replay", "--data", str(tmp_path), "--orders", str(orders), "--taker-fee", "5")

    assert res.exit_code == 2
    assert "--taker-fee is a fraction like 0.0004 (0.04 %), was 5" in res.stderr


def test_run_takes_the_fee_flags_too(run_cli, shared_data: Path) -> None:
    data = str(shared_data / "ohlcv" / "binance_usdm")
    window = ("--from", "2025-05-04T16:00", "--until", "2025-05-04T18:00")

    res = run_cli("run", "breakout", "--replay", data, *window, "--taker-fee", "0", "--maker-fee",
                  "0", "--json")  # fmt: skip

    assert res.exit_code == 0, res.stderr
    assert D(json.loads(res.stdout)["summary"]["fees"]) == 0
