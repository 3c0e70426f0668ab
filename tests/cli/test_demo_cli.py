"""`microfut demo` end to end on the recorded BTC/ETH data: real figures from the engine."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.candles import load_series
from sim.cli import trade_cmd
from sim.journal import Journal

BTC_SYMBOL = "BTC/USDT:USDT"


def D(value: dict | str) -> Decimal:
    return Decimal(value)


def test_demo_json_shows_stop_funding_and_liquidation_from_the_engine(
    run_cli, shared_data: Path
) -> None:
    result = run_cli("demo", "--json")

    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    trades = doc["trades"]
    stop = next(t for t in trades if t["exit_reason"] == "stop")
    # realized P&L of the stop = contracts × contract size × (exit − entry) for a long
    assert D(stop["realized_pnl"]) == D(stop["contracts"]) * D(stop["contract_size"]) * (
        D(stop["exit_price"]) - D(stop["entry_price"])
    )
    fills = [f for f in doc["fills"] if f["reason"] == "stop"]
    assert len(fills) == 1
    assert D(fills[0]["realized_pnl"]) == D(stop["realized_pnl"])
    stop_fees = sum(D(f["fee"]) for f in doc["fills"] if f["symbol"] == "BTC/USDT:USDT"
                    and f["ts_ms"] <= stop["ts_ms"])  # fmt: skip
    assert D(stop["fees"]) == stop_fees
    # sized at 1 % risk: the stop at entry gives the trade's risk and R
    assert D(stop["stop_at_entry"]) == Decimal(88000)
    assert D(stop["risk_at_entry"]) == D(stop["contracts"]) * (
        D(stop["entry_price"]) - Decimal(88000)
    )
    # funding on the real 2025-03-06 16:00 mark and rate (exchange-mechanics §A.6)
    btc_16 = next(
        f for f in doc["funding"]
        if f["symbol"] == "BTC/USDT:USDT" and f["funding_time_ms"] == 1741276800000
    )  # fmt: skip
    assert D(btc_16["rate"]) == Decimal("0.00006818")
    assert D(btc_16["amount"]) == -(
        D(btc_16["contracts"]) * D(btc_16["mark_price"]) * D(btc_16["rate"])
    )
    assert D(btc_16["amount"]) < 0  # the long paid
    # the 50x long was liquidated on mark, losing its isolated margin
    (liq,) = doc["liquidations"]
    assert liq["margin_mode"] == "isolated"
    assert D(liq["leverage"]) == 50
    assert liq["trigger_source"] == "mark"
    # ... on the recorded 8h mark of 2025-03-09 16:00 UTC (the mark candle's open)
    marks = load_series(
        shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-8h-mark.feather"
    ).set_index("ts_ms")
    assert liq["ts_ms"] == 1741536000000
    assert D(liq["mark_price"]) == Decimal(repr(float(marks.loc[1741536000000, "open"])))
    assert D(liq["mark_price"]) <= D(liq["liquidation_price"])
    # isolated margin = 0.02 × entry / 50; the loss never exceeds it
    assert D(liq["wallet_before"]) == D(liq["contracts"]) * D(liq["entry_price"]) / 50
    assert 0 < D(liq["loss"]) <= D(liq["wallet_before"])
    assert any(t["exit_reason"] == "liquidation" for t in trades)
    # the loss limit locked entries and the next entry was denied
    assert [lock["guard"] for lock in doc["locks"]] == ["daily_loss"]
    assert len(doc["denied"]) == 1
    summary = doc["report"]["summary"]
    assert summary["trades"] == len(trades) == 3
    assert D(doc["wallet"]) == D(summary["ending_equity"])


def test_demo_prints_the_scenes_and_the_report(run_cli, shared_data: Path) -> None:
    result = run_cli("demo")

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "size: 0.005 contracts" in out
    assert "o2 amended: contracts 0.005" in out
    assert "LIQUIDATED long 0.020 BTC/USDT:USDT" in out
    assert "funding BTC/USDT:USDT at 2025-03-06 16:00:00" in out
    assert "DENIED BTC/USDT:USDT: entries locked by the daily loss limit" in out
    assert "journal report: demo" in out
    assert "discipline review" in out


def test_demo_is_deterministic(run_cli, shared_data: Path) -> None:
    first = run_cli("demo", "--json")
    second = run_cli("demo", "--json")

    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout


def test_demo_without_data_says_where_to_get_it(run_cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    result = run_cli("demo", "--data", str(empty))

    assert result.exit_code == 2
    assert "no recorded BTC/ETH 1h candles in" in result.stderr
    assert "../shared/data" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_demo_refuses_a_journal_that_already_holds_a_demo(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "mine.sqlite"
    assert run_cli("demo", "--db", str(db), "--json").exit_code == 0

    again = run_cli("demo", "--db", str(db))

    assert again.exit_code == 2
    assert "already holds a 'demo' account" in again.stderr


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend stdin/stdout are a terminal (the desk then runs headless through its hook)."""
    monkeypatch.setattr(trade_cmd, "has_terminal", lambda: True)


@pytest.mark.parametrize("extra", [(), ("-e", "binanceusdm"), ("--exchange", "binanceusdm")])
def test_trade_without_a_terminal_refuses_in_one_line(
    run_cli, shared_data: Path, extra: tuple[str, ...]
) -> None:
    candles = shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1h-futures.feather"

    result = run_cli("trade", *extra, "--replay", str(candles), "--symbols", "BTC")

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: microfut trade needs an interactive terminal; use `microfut replay` or "
        "`microfut run` for scripted runs"
    )
    assert "\x1b[?" not in result.stdout  # no full-screen escape codes


@pytest.mark.usefixtures("terminal")
def test_trade_with_an_unknown_symbol_is_one_line_exit_2(run_cli, shared_data: Path) -> None:
    result = run_cli("trade", "--symbols", "DOGE", "--replay", str(shared_data / "ohlcv"))

    assert result.exit_code == 2
    assert "unknown symbol 'DOGE' on binanceusdm" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.usefixtures("terminal")
def test_trade_with_a_missing_recording_is_one_line_exit_2(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    result = run_cli("trade", "--replay", str(tmp_path / "nothing.gz"))

    assert result.exit_code == 2
    assert "nothing.gz was not found" in result.stderr


@pytest.mark.usefixtures("terminal")
def test_trade_replays_candles_into_the_desk_and_journal(
    run_cli, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.desk.app import DeskApp

    seen: dict[str, object] = {}
    real_run = DeskApp.run

    async def trader(pilot) -> None:  # what a user types once prices are on the screen
        app = pilot.app
        while not app.desk.account.books.get(BTC_SYMBOL):
            await pilot.pause(0.01)
        before = app.desk.logged
        app.query_one("#command").value = "buy 0.002 BTC stop 80000"
        await pilot.press("enter")
        await pilot.pause()
        seen["lines"] = app.desk.lines_since(before)
        app.query_one("#command").value = "quit"
        await pilot.press("enter")

    def headless(self: DeskApp, **kw: object) -> object:
        return real_run(self, headless=True, size=(200, 50), auto_pilot=trader)

    monkeypatch.setattr(DeskApp, "run", headless)
    candles = shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1h-futures.feather"
    db = tmp_path / "desk.sqlite"

    result = run_cli(
        "trade", "-e", "binanceusdm", "--replay", str(candles), "--symbols", "BTC",
        "--speed", "3600", "--db", str(db), "--json",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    final = json.loads(result.stdout)
    assert final["account"] == "main"
    assert "USDT" in final["wallets"]
    lines = seen["lines"]
    assert isinstance(lines, list)
    echo = next(line for line in lines if line.startswith("→ buy 0.002 BTC/USDT:USDT"))
    filled = next(line for line in lines if line.startswith("o1 filled"))
    price = echo.split("market ≈ ")[1].split(" |")[0]
    assert f"@ {price} (taker" in filled  # the echo was the engine's own fill
    with Journal.open(db) as journal:
        kinds = [e.kind for e in journal.events("main")]
    assert kinds[:1] == ["WalletCredited"]
    assert "OrderFilled" in kinds
