"""microfut on its own: the bundled sample serves the README's commands without --data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bundled_only(run_cli, monkeypatch: pytest.MonkeyPatch):
    """run_cli with no recorded-data folder configured: only downloads and the bundled sample."""
    monkeypatch.setenv("MICROFUT_DATA__DIRS", "[]")
    return run_cli


def test_readme_replay_runs_the_shipped_orders_on_the_bundled_month(bundled_only) -> None:
    result = bundled_only(
        "replay", "--exchange", "binanceusdm", "--orders", str(ROOT / "examples/orders.csv"),
        "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    reasons = [t["exit_reason"] for t in out["closed_trades"]]
    assert reasons == ["take_profit", "manual", "trailing", "manual", "liquidation", "stop"]
    assert "sample" in out["data"]


def test_readme_strategy_example_never_crashes_on_the_bundled_data(bundled_only) -> None:
    # the only BTC 1m bar of the month down 0.5 % (2025-05-12 18:05) closes at its low,
    # 102,043.8: no room for a stop below the entry, so the example skips it (it used to crash)
    result = bundled_only("run", str(ROOT / "examples/dip.py"), "-p", "drop_pct=0.5", "--json")

    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["bars"], out["summary"]["trades"]) == (43_199, 0)


def test_readme_strategy_example_trades_the_bundled_month(bundled_only) -> None:
    # 36 bars fall 0.3 %, 34 of them close above their low; the rest wait for a flat position
    result = bundled_only("run", str(ROOT / "examples/dip.py"), "-p", "drop_pct=0.3", "--json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["trades"] == 28


def test_calc_liq_readme_example_on_bundled_specs(bundled_only) -> None:
    result = bundled_only(
        "calc", "liq", "--exchange", "binanceusdm", "--symbol", "BTC/USDT:USDT", "--side",
        "long", "--entry", "60000", "--contracts", "0.01", "--leverage", "10", "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["liquidation_price"] == "54216.87"


def test_no_candles_anywhere_says_how_to_get_them(bundled_only, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("time,symbol,side,type,contracts\n2025-05-05T00:00:00Z,XRP,buy,market,1\n")

    result = bundled_only("replay", "--exchange", "bybit", "--orders", str(orders), "--mmr", "0.01")

    assert result.exit_code == 2
    assert "microfut data download" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
