"""Fault-test fixtures: a real journal made by replaying two orders on the recorded BTC candles."""

from __future__ import annotations

from pathlib import Path

import pytest

HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)
DATA = "ohlcv/binance_usdm"


def write_orders(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(
        HEADER
        + "2025-05-04T15:40:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,,,\n"
        + "2025-05-04T18:40:00Z,BTC/USDT:USDT,sell,market,0.01,,,,,10,isolated,,,\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def real_journal(run_cli, shared_data: Path, tmp_path: Path) -> Path:
    db = tmp_path / "made" / "journal.sqlite"
    orders = write_orders(tmp_path)
    result = run_cli(
        "replay", "--data", str(shared_data / DATA), "--orders", str(orders), "--db", str(db)
    )
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "made" / "journal.sqlite-wal").exists()  # closed cleanly
    return db
