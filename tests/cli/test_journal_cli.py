"""`microfut journal ...` as a user runs it, on the five-trade journal built in the test."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from tests.sim.journal.builders import build_review_journal


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The five-trade journal at the default journal path run_cli points to."""
    path = tmp_path / "data" / "journal.sqlite"
    build_review_journal(path).close()
    return path


def test_missing_journal_is_one_line_and_exit_2(run_cli, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.sqlite"

    result = run_cli("journal", "list", "--db", str(missing))

    assert result.exit_code == 2
    assert f"no journal at {missing} yet; run `microfut replay`/`demo` first" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not missing.exists()


def test_foreign_file_is_one_line_exit_5_and_untouched(run_cli, tmp_path: Path) -> None:
    path = tmp_path / "photos.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE photos (name TEXT)")
    con.commit()
    con.close()
    before = path.read_bytes()

    result = run_cli("journal", "report", "--db", str(path))

    assert result.exit_code == 5
    assert "another program" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert path.read_bytes() == before


def test_list_json_with_filters(run_cli, db: Path) -> None:
    result = run_cli("journal", "list", "--symbol", "ETH/USDT:USDT", "--json")

    trades = json.loads(result.stdout)["trades"]
    assert result.exit_code == 0
    assert [(t["id"], t["net_pnl"], t["r_multiple"]) for t in trades] == [
        (2, "-3.00", "-1"),
        (5, "-1.50", "-0.25"),
    ]


def test_list_table_by_date_range(run_cli, db: Path) -> None:
    result = run_cli("journal", "list", "--since", "2024-03-05", "--until", "2024-03-06")

    assert result.exit_code == 0
    assert "liquidation" in result.stdout  # trade 3, closed on the 5th
    assert "take_profit" not in result.stdout  # trade 1, the 4th
    assert "manual" in result.stdout  # trade 4, closed on the 6th (--until includes the day)


def test_bad_date_is_exit_2(run_cli, db: Path) -> None:
    result = run_cli("journal", "list", "--since", "last tuesday")

    assert result.exit_code == 2
    assert "--since must be a date" in result.stderr


def test_show_tells_the_whole_story(run_cli, db: Path) -> None:
    run_cli("journal", "note", "1", "waited for the retest")

    table = run_cli("journal", "show", "1")
    as_json = json.loads(run_cli("journal", "show", "1", "--json").stdout)

    assert table.exit_code == 0
    assert "stop_market" in table.stdout
    assert "oco" in table.stdout
    assert "waited for the retest" in table.stdout
    assert [o["event"] for o in as_json["orders"]] == ["accepted", "accepted", "cancelled"]
    assert [f["fee"] for f in as_json["fills"]] == ["0.25", "0.25"]
    assert as_json["funding"][0]["amount"] == "-0.10"
    assert as_json["r_multiple"] == "2"


def test_note_and_tag_then_filter_by_tag(run_cli, db: Path) -> None:
    noted = json.loads(run_cli("journal", "note", "2", "chased the move", "--json").stdout)
    tagged = run_cli("journal", "tag", "2", "fomo")

    listed = json.loads(run_cli("journal", "list", "--tag", "fomo", "--json").stdout)
    assert noted == {"trade": 2, "note": 1, "text": "chased the move"}
    assert tagged.exit_code == 0
    assert [t["id"] for t in listed["trades"]] == [2]


def test_unknown_trade_is_exit_2(run_cli, db: Path) -> None:
    result = run_cli("journal", "show", "77")

    assert result.exit_code == 2
    assert "no trade '77'" in result.stderr


def test_report_json_has_the_hand_computed_numbers(run_cli, db: Path) -> None:
    result = run_cli("journal", "report", "--account", "main", "--json")

    (rep,) = json.loads(result.stdout)["accounts"]
    assert result.exit_code == 0
    assert rep["summary"]["win_rate"] == "0.4"
    assert rep["summary"]["expectancy"] == "1.80"
    assert rep["summary"]["profit_factor"] == "2"
    assert rep["summary"]["max_drawdown"] == "7.50"
    assert rep["discipline"]["without_stop"] == [3]


def test_report_tables_and_period(run_cli, db: Path) -> None:
    full = run_cli("journal", "report")
    monday = run_cli("journal", "report", "--until", "2024-03-04", "--json")

    assert full.exit_code == 0
    assert "discipline review" in full.stdout
    assert "profit factor" in full.stdout
    assert json.loads(monday.stdout)["accounts"][0]["summary"]["trades"] == 2


def test_report_of_unknown_account_is_exit_2(run_cli, db: Path) -> None:
    result = run_cli("journal", "report", "--account", "ghost")

    assert result.exit_code == 2
    assert "no account 'ghost'" in result.stderr


def test_plot_writes_pngs_and_draws_in_the_terminal(run_cli, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts"

    result = run_cli("journal", "plot", "--out", str(out), "--terminal")
    again = run_cli("journal", "plot", "--out", str(out), "--json")
    listed = json.loads(run_cli("journal", "plot", "--out", str(out), "--json", "--force").stdout)

    assert result.exit_code == 0
    assert f"created folder {out}" in result.stdout
    assert again.exit_code == 2  # the folder holds the first run's PNGs now
    assert "is not empty; pass --force" in again.stderr
    assert listed["created_folder"] is None
    assert "main: equity" in result.stdout
    assert "\x1b" not in result.stdout  # piped: no colour codes
    assert len(listed["files"]) == 3
    assert all(Path(f).read_bytes().startswith(b"\x89PNG") for f in listed["files"])


def test_export_csv_keeps_exact_decimals(run_cli, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"

    result = run_cli("journal", "export", "--format", "csv", "--out", str(out), "--json")

    files = {f["table"]: f for f in json.loads(result.stdout)["files"]}
    assert {k: v["rows"] for k, v in files.items()} == {"trades": 5, "fills": 10, "funding": 2}
    trades = pd.read_csv(out / "trades.csv", dtype=str)
    assert list(trades["net_pnl"]) == ["6.00", "-3.00", "-4.50", "12.00", "-1.50"]
    assert list(trades["risk_at_entry"].fillna("")) == ["3.000", "3.00", "", "15.000", "6.00"]


def test_export_parquet_has_decimal_columns(run_cli, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"

    result = run_cli("journal", "export", "--format", "parquet", "--out", str(out))

    import pyarrow.parquet as pq

    table = pq.read_table(out / "trades.parquet")
    assert result.exit_code == 0
    assert str(table.schema.field("net_pnl").type).startswith("decimal")
    assert [str(v) for v in table.column("net_pnl").to_pylist()] == [
        "6.00", "-3.00", "-4.50", "12.00", "-1.50",
    ]  # fmt: skip
    assert (out / "fills.parquet").exists()


def test_export_rejects_an_unknown_format(run_cli, db: Path) -> None:
    result = run_cli("journal", "export", "--format", "xlsx")

    assert result.exit_code == 2
    assert "--format must be 'csv' or 'parquet'" in result.stderr


@pytest.fixture
def narrow(run_cli):
    """The stdout console at 100 columns (a common terminal), restored afterwards."""
    from sim.cli import render

    old = render.stdout._width
    render.stdout.width = 100
    yield run_cli
    render.stdout._width = old


def test_list_fits_100_columns_and_counts_in_words(narrow, db: Path) -> None:
    every = narrow("journal", "list")
    one = narrow("journal", "list", "--since", "2024-03-07")

    lines = every.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "…" not in every.stdout
    assert "closed trades · account main (5 trades)" in every.stdout
    assert "5 trades in" in every.stderr
    assert "03-05 11:00" in every.stdout  # trade 3's close, short form
    assert "1 trade in" in one.stderr
    assert "(1 trade)" in one.stdout


def test_show_fits_100_columns(narrow, db: Path) -> None:
    result = narrow("journal", "show", "3")

    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 100
    assert "…" not in result.stdout
    assert "0.010 long" in result.stdout  # position after the entry fill: size and side


def test_show_rounds_a_long_liquidation_price_to_the_tick_json_keeps_it(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    import re
    from decimal import Decimal

    orders = tmp_path / "ORDERS.csv"
    orders.write_text(
        "time,symbol,side,type,contracts,leverage,margin_mode\n"
        "2025-05-21T00:00:00Z,BTC/USDT:USDT,buy,market,0.05,100,isolated\n",
        encoding="utf-8",
    )
    journal = tmp_path / "replay.sqlite"
    replay = run_cli(
        "replay", "--data", str(shared_data / "ohlcv" / "binance_usdm"), "--orders",
        str(orders), "--balance", "1000", "--db", str(journal),
    )  # fmt: skip
    assert replay.exit_code == 0, replay.stderr

    table = run_cli("journal", "show", "1", "--db", str(journal))
    full = json.loads(run_cli("journal", "show", "1", "--db", str(journal), "--json").stdout)

    liq = Decimal(full["liquidations"][0]["liquidation_price"])
    assert len(liq.as_tuple().digits) > 10  # the exact quotient, kept in JSON
    shown = re.search(r"liquidation_price +│ +([\d,.]+) │", table.stdout)
    assert shown is not None
    on_tick = liq.quantize(Decimal("0.1"))  # BTC tick 0.1; a whole number drops its ".0"
    assert shown.group(1) == f"{on_tick.normalize() if on_tick % 1 == 0 else on_tick:,}"
    loss = Decimal(full["liquidations"][0]["loss"])
    assert re.search(rf"loss +│ +{loss.quantize(Decimal('0.01')):,} │", table.stdout)


def scaled_journal(path: Path, shared_data: Path) -> None:
    """A scaled trade typed at the desk: buy 0.004 at 20x with a stop, lev 5, add 0.005, sell
    0.004, add 0.004, close; then a leverage change long after the close."""
    from decimal import Decimal

    from adapters.specs import load_spec_book
    from config.settings import load_settings
    from sim.desk.session import DeskOptions, DeskSession
    from sim.engine.market import LastTrade

    settings = load_settings(data={"dirs": [str(shared_data)]})
    book = load_spec_book("binanceusdm", settings)
    t0, btc = 1_700_000_000_000, "BTC/USDT:USDT"
    desk = DeskSession.open(DeskOptions.from_settings(settings, account="scaled"), book, path,
                            start_ms=t0)  # fmt: skip
    desk.feed(LastTrade("binanceusdm", btc, t0, Decimal(60000), Decimal(1)))
    for line, price, minute in [
        ("buy 0.004 BTC lev 20 cross stop 58000", 60000, 1), ("lev BTC 5", 60100, 2),
        ("buy 0.005 BTC", 59000, 3), ("sell 0.004 BTC", 61000, 4), ("buy 0.004 BTC", 60500, 5),
        ("close BTC", 61500, 6), ("lev BTC 10", 61500, 186),
    ]:  # fmt: skip
        desk.feed(LastTrade("binanceusdm", btc, t0 + minute * 60_000, Decimal(price), Decimal(1)))
        assert desk.submit(line).ok
    desk.close()


def test_a_scaled_trade_reconciles_in_list_show_and_report(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "scaled.sqlite"
    scaled_journal(db, shared_data)

    (row,) = json.loads(run_cli("journal", "list", "--db", str(db), "--json").stdout)["trades"]
    story = json.loads(run_cli("journal", "show", "1", "--db", str(db), "--json").stdout)
    table = run_cli("journal", "show", "1", "--db", str(db)).stdout
    listed = run_cli("journal", "list", "--db", str(db)).stdout

    # 0.004 + 0.005 + 0.004 bought; at most 0.009 held
    assert (row["size_traded"], row["contracts"]) == ("0.013", "0.009")
    assert "0.013 / 0.009" in listed
    # first fill o1: 0.004 @ 60,012 (60,000 + 2 bps slippage), stop 58,000 → 8.048 at risk
    assert (row["entry_at_open"], row["contracts_at_open"]) == ("60012.0", "0.004")
    assert Decimal(row["risk_at_open"]) == (Decimal("60012") - 58000) * Decimal("0.004")
    assert Decimal(row["risk_at_entry"]) != Decimal(row["risk_at_open"])  # engine: final avg
    assert (row["leverage_at_open"], row["leverage"]) == ("20", "5")
    assert "20x cross at open (5x at close)" in table
    # the 5x change during the trade is listed; the 10x three hours after the close is not
    assert [c["leverage"] for c in story["leverage_changes"]] == ["5"]
    assert [o["seq"] for o in story["orders"]] == sorted(o["seq"] for o in story["orders"])
    assert Decimal(story["r_multiple"]) == Decimal(row["net_pnl"]) / Decimal(row["risk_at_open"])


def test_notes_keep_bracketed_text_and_the_report_prints_the_real_period(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "scaled.sqlite"
    scaled_journal(db, shared_data)
    assert (
        run_cli("journal", "note", "1", "[stop moved] to breakeven", "--db", str(db)).exit_code == 0
    )

    shown = run_cli("journal", "show", "1", "--db", str(db)).stdout

    assert "[stop moved] to breakeven" in shown


def test_run_and_journal_report_agree_on_the_drawdown(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    db = tmp_path / "run.sqlite"
    run = run_cli("run", "breakout", "--replay", str(shared_data / "ohlcv" / "binance_usdm"),
                  "--from", "2025-05-04T16:00", "--until", "2025-05-05T04:00",
                  "-p", "lookback=10", "--db", str(db), "--json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    summary = json.loads(run.stdout)["summary"]

    report = json.loads(run_cli("journal", "report", "--db", str(db), "--json").stdout)
    (account,) = report["accounts"]

    assert summary["trades"] == account["summary"]["trades"] == 9
    assert summary["max_drawdown"] == account["summary"]["max_drawdown"]  # to the last digit
    assert summary["net_pnl"] == account["summary"]["net_pnl"]


def test_no_share_of_a_near_zero_gross() -> None:
    from decimal import Decimal

    from sim.review.stats import _share

    assert _share(Decimal("33.79"), Decimal("5.79")) is None  # was "583.5%"
    assert _share(Decimal("3"), Decimal("-60")) == Decimal("0.05")


def test_funding_rates_read_in_percent_as_on_the_desk() -> None:
    from sim.cli.journal_render import rate_pct

    assert rate_pct(Decimal("0.0001")) == "0.01%"
    assert rate_pct(Decimal("-0.00025")) == "-0.025%"
