"""`microfut replay` on the recorded BTC/ETH 1m month, every figure re-derived by hand here."""

from __future__ import annotations

import contextlib
import json
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path

import pandas as pd
import pytest

HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)
ORDERS = (
    "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,93000,96000,tp\n"
    "2025-05-10T00:00:00Z,ETH/USDT:USDT,sell,market,0.5,,,,,5,cross,,,funding\n"
    "2025-05-20T00:00:00Z,ETH/USDT:USDT,buy,market,0.5,,,,true,,,,,\n"
    "2025-05-21T00:00:00Z,BTC/USDT:USDT,buy,market,0.05,,,,,100,isolated,,,liq\n"
    "2025-05-29T00:00:00Z,ETH/USDT:USDT,buy,market,0.2,,,,,10,isolated,2600,,stop\n"
)
TICK_BTC, TICK_ETH = D("0.1"), D("0.01")
SLIP = D("1.0002")
TAKER = D("0.0005")


def _ms(text: str) -> int:
    return int(pd.Timestamp(text).value // 1_000_000)


def _dec(x: float) -> D:
    return D(repr(float(x)))


def _tick(x: D, tick: D, rounding: str) -> D:
    return (x / tick).to_integral_value(rounding=rounding) * tick


def _price_before(bars: pd.DataFrame, t: int) -> D:
    """The last price known at ``t``: the close of the bar before (no look-ahead)."""
    return _dec(bars[bars.ts < t].iloc[-1].close)


def _bars(folder: Path, stem: str) -> pd.DataFrame:
    return pd.read_feather(folder / f"{stem}-1m-futures.feather").assign(
        ts=lambda f: pd.to_datetime(f["date"], utc=True).astype("int64") // 1_000_000
    )


def _funding(folder: Path, stem: str, contracts: D, start: int, end: int) -> D:
    """Σ −s·N·mark·rate over the instants start < t ≤ end, mark = 8h mark candle open at t.

    At equal times funding comes before orders: a position opened at t does not pay at t, one
    closed at t does.
    """
    rates = pd.read_feather(folder / f"{stem}-8h-funding_rate.feather")
    marks = pd.read_feather(folder / f"{stem}-8h-mark.feather")
    mark_at = dict(
        zip(
            (pd.to_datetime(marks["date"], utc=True).astype("int64") // 10**6).tolist(),
            marks["open"].tolist(),
            strict=True,
        )
    )
    total = D(0)
    for date, rate in zip(rates["date"], rates["open"], strict=True):
        t = int(pd.Timestamp(date).value // 10**6) // 1000 * 1000
        if start < t <= end:
            total += -contracts * _dec(mark_at[t]) * _dec(rate)
    return total


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> dict:
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from sim.cli import main as cli_main
    from sim.cli import render

    orders = tmp_path_factory.mktemp("replay") / "ORDERS.csv"
    orders.write_text(HEADER + ORDERS, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        render.stderr.file = err
        try:
            cli_main.main(
                [
                    "replay",
                    "--exchange",
                    "binanceusdm",
                    "--data",
                    str(shared_data / "ohlcv" / "binance_usdm"),
                    "--orders",
                    str(orders),
                    "--balance",
                    "1000",
                    "--json",
                ]
            )
        except SystemExit as e:
            code = e.code
        else:
            code = 0
        finally:
            render.stderr.file = None  # type: ignore[assignment]
    assert code in (0, None), err.getvalue()
    return {"json": json.loads(out.getvalue()), "folder": shared_data / "ohlcv" / "binance_usdm"}


def _trade(result: dict, tag: str) -> dict:
    return next(t for t in result["json"]["closed_trades"] if t["tag"] == tag)


def test_take_profit_trade_matches_hand_calculation(replay: dict) -> None:
    btc = _bars(replay["folder"], "BTC_USDT_USDT")
    t_in = _ms("2025-05-05T00:00:00Z")
    after = btc[btc.ts >= t_in]
    hit = after[after.high >= 96000].iloc[0]
    assert (after[after.ts <= hit.ts].low > 93000).all()  # the stop was never touched first
    entry = _tick(_price_before(btc, t_in) * SLIP, TICK_BTC, ROUND_CEILING)
    exit_ = _tick(D(96000) * (2 - SLIP), TICK_BTC, ROUND_FLOOR)  # 96,000 × 0.9998

    trade = _trade(replay, "tp")

    assert (trade["exit_reason"], D(trade["entry_price"]), D(trade["exit_price"])) == (
        "take_profit",
        entry,
        exit_,
    )
    assert D(trade["realized_pnl"]) == D("0.01") * (exit_ - entry)
    assert D(trade["fees"]) == D("0.01") * (entry + exit_) * TAKER
    assert hit.ts <= trade["ts_ms"] < hit.ts + 60_000
    funding = _funding(replay["folder"], "BTC_USDT_USDT", D("0.01"), t_in, trade["ts_ms"])
    assert D(trade["funding"]) == funding
    assert funding < 0  # positive rates that week: the long paid


def test_short_held_ten_days_collects_funding_and_closes_manually(replay: dict) -> None:
    eth = _bars(replay["folder"], "ETH_USDT_USDT")
    t_in, t_out = _ms("2025-05-10T00:00:00Z"), _ms("2025-05-20T00:00:00Z")
    entry = _tick(_price_before(eth, t_in) * (2 - SLIP), TICK_ETH, ROUND_FLOOR)
    exit_ = _tick(_price_before(eth, t_out) * SLIP, TICK_ETH, ROUND_CEILING)

    trade = _trade(replay, "funding")

    assert (trade["side"], trade["exit_reason"]) == ("short", "manual")
    assert (D(trade["entry_price"]), D(trade["exit_price"])) == (entry, exit_)
    assert D(trade["realized_pnl"]) == D("0.5") * (entry - exit_)
    assert D(trade["funding"]) == _funding(
        replay["folder"], "ETH_USDT_USDT", D("-0.5"), t_in, t_out
    )


def test_high_leverage_long_is_liquidated_at_the_binance_price_losing_its_margin(
    replay: dict,
) -> None:
    btc = _bars(replay["folder"], "BTC_USDT_USDT")
    t_in = _ms("2025-05-21T00:00:00Z")
    entry = _tick(_price_before(btc, t_in) * SLIP, TICK_BTC, ROUND_CEILING)
    n, margin = D("0.05"), D("0.05") * entry / 100
    # Binance isolated, tier 1 (MMR 0.4 %, cum 0): LP = (WB − N·EP) / (N·MMR − N)
    lp = (margin - n * entry) / (n * D("0.004") - n)
    bankrupt = _tick(entry - margin / n, TICK_BTC, ROUND_HALF_UP)
    after = btc[btc.ts >= t_in]
    first = after[after.low <= float(lp)].iloc[0]

    trade = _trade(replay, "liq")

    assert trade["exit_reason"] == "liquidation"
    assert D(trade["exit_price"]) == bankrupt
    assert D(trade["realized_pnl"]) == n * (bankrupt - entry)
    # The close price sits on the tick, so the loss is the margin to within one tick of size.
    assert D(0) <= margin + D(trade["realized_pnl"]) < n * TICK_BTC
    assert D(trade["fees"]) == n * entry * TAKER  # the opening fee; the margin paid the rest
    assert first.ts <= trade["ts_ms"] < first.ts + 60_000


def test_stop_loss_trade_and_final_balance(replay: dict) -> None:
    eth = _bars(replay["folder"], "ETH_USDT_USDT")
    t_in = _ms("2025-05-29T00:00:00Z")
    entry = _tick(_price_before(eth, t_in) * SLIP, TICK_ETH, ROUND_CEILING)
    exit_ = _tick(D(2600) * (2 - SLIP), TICK_ETH, ROUND_FLOOR)

    trade = _trade(replay, "stop")
    result = replay["json"]

    assert (trade["exit_reason"], D(trade["exit_price"])) == ("stop", exit_)
    assert D(trade["realized_pnl"]) == D("0.2") * (exit_ - entry)
    trades = result["closed_trades"]
    assert len(trades) == 4
    assert result["positions"] == []
    assert result["rejected"] == []
    net = sum(D(t["realized_pnl"]) - D(t["fees"]) + D(t["funding"]) for t in trades)
    assert D(result["balances"]["USDT"]) == D(1000) + net


def test_table_output_and_bad_row(run_cli, shared_data: Path, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text(
        HEADER + "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,cross,,,open\n",
        encoding="utf-8",
    )
    data = str(shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1m-futures.feather")

    ok = run_cli("replay", "--data", data, "--orders", str(orders))
    orders.write_text(HEADER + "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,-1,,,,,,,,,\n")
    bad = run_cli("replay", "--data", data, "--orders", str(orders))

    assert ok.exit_code == 0, ok.stderr
    assert "open positions" in ok.stdout
    assert "liq. price" in ok.stdout
    assert "last price stands in for mark" in ok.stderr or "mark price = last" in ok.stderr
    assert bad.exit_code == 2
    assert "orders.csv row 2: contracts must be > 0, was '-1'" in bad.stderr


def test_db_flag_journals_every_event(run_cli, shared_data: Path, tmp_path: Path) -> None:
    from sim.journal.store import Journal

    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + ORDERS, encoding="utf-8")
    db = tmp_path / "replay.sqlite"

    result = run_cli(
        "replay",
        "--data",
        str(shared_data / "ohlcv" / "binance_usdm"),
        "--orders",
        str(orders),
        "--db",
        str(db),
        "--json",
    )

    assert result.exit_code == 0, result.stderr
    stats = json.loads(result.stdout)["stats"]
    with Journal.open(db) as journal:
        events = journal.events("main")
    assert len(events) == stats["events"]
    assert [e.kind for e in events].count("TradeClosed") == 4
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


def test_raw_capture_market_order_walks_the_recorded_book(
    run_cli,
    shared_data: Path,
    tmp_path: Path,
) -> None:
    from adapters.replay import open_replay

    capture = shared_data / "binanceusdm" / "ws_raw_btcusdt_20240808.gz"
    t = _ms("2024-08-08T23:55:00Z")
    book = None
    for inp in open_replay(capture, symbols=["BTC/USDT:USDT"]):
        if inp.ts_ms > t:
            break
        if type(inp).__name__ == "BookDepth":
            book = inp
    assert book is not None
    left, cost = D("0.8"), D(0)
    for price, qty in book.asks:  # the hand walk: best ask first until 0.8 is filled
        take = min(left, qty)
        cost += take * price
        left -= take
        if left == 0:
            break
    orders = tmp_path / "orders.csv"
    orders.write_text(
        HEADER + "2024-08-08T23:55:00Z,BTC/USDT:USDT,buy,market,0.8,,,,,20,isolated,,,\n",
        encoding="utf-8",
    )

    result = run_cli(
        "replay", "--data", str(capture), "--orders", str(orders), "--balance", "5000", "--json"
    )

    assert result.exit_code == 0, result.stderr
    position = json.loads(result.stdout)["positions"][0]
    assert D(position["entry_price"]) == cost / D("0.8")
    assert D(position["contracts"]) == D("0.8")


def _orders(tmp_path: Path, body: str) -> Path:
    orders = tmp_path / "ORDERS.csv"
    orders.write_text(HEADER + body, encoding="utf-8")
    return orders


def test_order_after_the_data_ends_is_refused_before_the_run(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    orders = _orders(
        tmp_path,
        "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,cross,,,\n"
        "2030-05-05T00:00:00Z,BTC/USDT:USDT,sell,market,0.01,,,,true,,,,,\n",
    )
    data = str(shared_data / "ohlcv" / "binance_usdm")

    result = run_cli("replay", "--data", data, "--orders", str(orders))

    assert result.exit_code == 2
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line
    assert "ORDERS.csv row 3: time 2030-05-05 00:00 UTC is outside the recorded 1m data" in line
    assert "BTC/USDT:USDT (2025-05-04 15:33 → 2025-06-03 15:32 UTC)" in line


def test_may_orders_on_1h_data_ending_in_april_are_refused(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    orders = _orders(tmp_path, "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,,,,\n")
    folder = shared_data / "ohlcv" / "binance_usdm"
    bars = pd.read_feather(folder / "BTC_USDT_USDT-1h-futures.feather")
    last_close = pd.Timestamp(bars["date"].iloc[-1]) + pd.Timedelta(hours=1)

    result = run_cli("replay", "--timeframe", "1h", "--data", str(folder), "--orders", str(orders))

    assert result.exit_code == 2
    assert "row 2: time 2025-05-05 00:00 UTC is outside the recorded 1h data" in result.stderr
    assert f"→ {last_close:%Y-%m-%d %H:%M} UTC" in result.stderr


def test_typo_symbol_gets_did_you_mean_before_any_data_lookup(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    orders = _orders(tmp_path, "2025-05-05T00:00:00Z,BTC/USDT:USDX,buy,market,0.01,,,,,,,,,\n")

    result = run_cli("replay", "--data", str(shared_data / "ohlcv"), "--orders", str(orders))

    assert result.exit_code == 2
    assert "ORDERS.csv row 2: unknown symbol 'BTC/USDT:USDX'" in result.stderr
    assert "did you mean 'BTC/USDT:USDT'?" in result.stderr
    assert "trade-candle" not in result.stderr


def test_symbol_without_data_lists_the_symbols_that_have_some(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    orders = _orders(tmp_path, "2025-05-05T00:00:00Z,ETH/USDT:USDT,buy,market,0.01,,,,,,,,,\n")
    only_btc = shared_data / "ohlcv" / "binance_usdm" / "BTC_USDT_USDT-1h-futures.feather"

    result = run_cli("replay", "--data", str(only_btc), "--orders", str(orders))

    assert result.exit_code == 2
    assert "ETH/USDT:USDT" in result.stderr
    assert "data there: BTC/USDT:USDT (1h)" in result.stderr


def test_second_replay_into_one_journal_gets_the_next_free_account(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    from sim.journal.store import Journal

    orders = _orders(tmp_path, ORDERS)
    db = tmp_path / "j.sqlite"
    args = ("replay", "--data", str(shared_data / "ohlcv" / "binance_usdm"),
            "--orders", str(orders), "--db", str(db), "--balance", "1000", "--json")  # fmt: skip

    first = run_cli(*args)
    second = run_cli(*args)
    named = run_cli(*args, "--account", "swing")

    assert (first.exit_code, second.exit_code, named.exit_code) == (0, 0, 0), second.stderr
    assert json.loads(second.stdout)["account"] == "main-2"
    assert "account 'main' already exists" in second.stderr
    assert "'main-2'" in second.stderr
    assert json.loads(named.stdout)["account"] == "swing"
    with Journal.open(db) as journal:
        a, b = journal.events("main"), journal.events("main-2")
        infos = {i.name: i for i in journal.accounts()}
    assert len(a) == len(b) == json.loads(second.stdout)["stats"]["events"]
    assert infos["main"].starting_balance == infos["main-2"].starting_balance == D(1000)
    assert infos["swing"].starting_balance == D(1000)


def test_coin_m_replay_needs_mmr_and_says_the_tier_came_from_it(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    capture = shared_data / "binancecoinm" / "ws_raw_btcusd_perp_20240808.gz"
    orders = _orders(tmp_path, "2024-08-08T23:55:00Z,BTC/USD:BTC,buy,market,1,,,,,10,isolated,,,\n")
    base = ("replay", "-e", "binancecoinm", "--data", str(capture), "--orders", str(orders),
            "--balance", "0.1")  # fmt: skip

    refused = run_cli(*base)
    ran = run_cli(*base, "--mmr", "0.005", "--maint-amount", "0", "--json")

    assert refused.exit_code == 2
    assert "BTC/USD:BTC on binancecoinm has no recorded maintenance-margin tiers" in refused.stderr
    assert "pass --mmr RATE" in refused.stderr
    assert ran.exit_code == 0, ran.stderr
    out = json.loads(ran.stdout)
    assert any("maintenance margin from --mmr 0.005" in n for n in out["notes"])
    position = out["positions"][0]
    assert D(position["contracts"]) == 1
    notional = D(100) / D(position["mark_price"])  # 1 contract × 100 USD, in BTC at mark
    assert D(position["notional"]) == notional
    assert D(position["maintenance_margin"]) == notional * D("0.005")  # − maint amount 0


@pytest.fixture
def narrow(run_cli):
    """The stdout console at 100 columns (a common terminal), restored afterwards."""
    from sim.cli import render

    old = render.stdout._width
    render.stdout.width = 100
    yield run_cli
    render.stdout._width = old


def test_table_fits_100_columns_with_rounded_money_and_exit_time_order(
    narrow, shared_data: Path, tmp_path: Path
) -> None:
    import re

    orders = _orders(
        tmp_path,
        "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,93000,96000,tp\n"
        "2025-05-10T00:00:00Z,ETH/USDT:USDT,sell,market,0.5,,,,,5,cross,,,\n"
        "2025-05-20T00:00:00Z,ETH/USDT:USDT,buy,market,0.5,,,,true,,,,,\n"
        "2025-05-21T00:00:00Z,BTC/USDT:USDT,buy,market,0.05,,,,,100,isolated,,,liq\n"
        "2025-05-29T00:00:00Z,ETH/USDT:USDT,sell,market,0.2,,,,,10,isolated,,,\n",
    )
    args = ("replay", "--data", str(shared_data / "ohlcv" / "binance_usdm"),
            "--orders", str(orders), "--balance", "1000")  # fmt: skip

    table = narrow(*args)
    full = json.loads(narrow(*args, "--json").stdout)

    assert table.exit_code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert "…" not in table.stdout
    balance = D(full["balances"]["USDT"])
    assert re.search(rf"balance USDT +│ +{balance.quantize(D('0.01')):,} │", table.stdout)
    assert "closed trades (3 trades, by exit time)" in table.stdout
    rows = [line for line in lines if re.match(r"(BTC|ETH)/USDT:USDT ", line)]
    trade_rows = [r for r in rows if re.search(r"\d\d-\d\d \d\d:\d\d", r)]
    assert [r.split()[0] for r in trade_rows] == ["BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USDT:USDT"]
    position = next(r for r in rows if r not in trade_rows).split()
    assert position[:3] == ["ETH/USDT:USDT", "short", "0.2"]  # contracts shown positive
    liq = D(full["positions"][0]["liquidation_price"])
    assert f"{liq.quantize(D('0.01')):,}" in position  # ETH tick 0.01
    t = full["closed_trades"][0]
    net = D(t["realized_pnl"]) - D(t["fees"]) + D(t["funding"])
    assert trade_rows[0].split()[-2] == f"{net.quantize(D('0.01')):,}"


def test_one_trade_is_singular(narrow, shared_data: Path, tmp_path: Path) -> None:
    orders = _orders(
        tmp_path,
        "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,10,isolated,93000,96000,tp\n",
    )

    result = narrow(
        "replay", "--data", str(shared_data / "ohlcv" / "binance_usdm"), "--orders", str(orders)
    )

    assert "closed trades (1 trade, by exit time)" in result.stdout


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--mmr", "2"), "--mmr is a fraction between 0 and 1"),
        (("--mmr", "x"), "--mmr expects a number, was 'x'"),
        (("--maint-amount", "5"), "--maint-amount needs --mmr"),
        (("--mmr", "0.01", "--maint-amount", "-1"), "--maint-amount must not be negative"),
    ],
)
def test_bad_mmr_flags_exit_2(run_cli, tmp_path: Path, flags: tuple, message: str) -> None:
    orders = _orders(tmp_path, "2025-05-05T00:00:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,,,,,\n")

    result = run_cli("replay", "--data", str(tmp_path), "--orders", str(orders), *flags)

    assert result.exit_code == 2
    assert message in result.stderr


@pytest.mark.parametrize(
    ("when", "row"),
    [("2025-08-08T23:55:00Z", "after the capture"), ("2024-08-08T20:00:00Z", "before it")],
)
def test_raw_capture_refuses_orders_outside_its_time_span(
    run_cli, shared_data: Path, tmp_path: Path, when: str, row: str
) -> None:
    capture = shared_data / "binanceusdm" / "ws_raw_btcusdt_20240808.gz"
    orders = _orders(tmp_path, f"{when},BTC/USDT:USDT,buy,market,0.01,,,,,20,,,,\n")

    result = run_cli("replay", "--data", str(capture), "--orders", str(orders))

    assert result.exit_code == 2, row
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line
    assert "ORDERS.csv row 2: time" in line
    assert "is outside the data recorded in ws_raw_btcusdt_20240808.gz for BTC/USDT:USDT" in line
    assert "(2024-08-08 23:54:16 → 2024-08-09 00:00:01 UTC)" in line


def _recording_from_capture(capture: Path, out: Path, lines: int) -> Path:
    """A closed microfut recording holding the first ``lines`` frames of a capture."""
    import gzip

    from adapters.record import Recorder

    with Recorder(out, "binanceusdm", ["BTC/USDT:USDT"], "test") as rec, gzip.open(capture) as f:
        for _, line in zip(range(lines), f, strict=False):
            stamp, _, raw = line.decode().partition(" ")
            rec.write(int(stamp), "binanceusdm", raw.strip())
    return out


def test_microfut_recording_refuses_orders_after_its_end(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    capture = shared_data / "binanceusdm" / "ws_raw_btcusdt_20240808.gz"
    folder = _recording_from_capture(capture, tmp_path / "rec", 3000)
    orders = _orders(tmp_path, "2024-08-09T00:30:00Z,BTC/USDT:USDT,buy,market,0.01,,,,,20,,,,\n")

    result = run_cli("replay", "--data", str(folder), "--orders", str(orders))

    assert result.exit_code == 2
    assert "is outside the data recorded in rec for BTC/USDT:USDT (2024-08-08 23:54:16 →" in (
        result.stderr
    )


def test_dated_future_without_data_says_so_before_asking_for_mmr(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    orders = _orders(
        tmp_path, "2025-05-05T00:00:00Z,BTC/USDT:USDT-220325,buy,market,0.01,,,,,,,,,\n"
    )

    result = run_cli(
        "replay", "--data", str(shared_data / "ohlcv" / "binance_usdm"), "--orders", str(orders)
    )

    assert result.exit_code == 2
    assert "no trade-candle files for BTC/USDT:USDT-220325" in result.stderr
    assert "--mmr" not in result.stderr


def test_ctrl_c_says_where_the_replay_stopped_and_the_journal_keeps_that_much(
    shared_data: Path, tmp_path: Path, run_cli, wait_for_row
) -> None:
    import os
    import signal
    import sqlite3
    import subprocess
    import sys

    capture = shared_data / "binanceusdm" / "ws_raw_btcusdt_20240808.gz"
    orders = _orders(tmp_path, "2024-08-08T23:54:30Z,BTC/USDT:USDT,buy,market,0.01,,,,,20,,,,\n")
    db = tmp_path / "j.sqlite"
    env = {**os.environ, "MICROFUT_HOME": str(tmp_path / "data")}
    cmd = [sys.executable, "-c", "from sim.cli.main import main; main()", "replay"]
    cmd += ["--data", str(capture), "--orders", str(orders), "--db", str(db)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # the first batch (deposit, fill) is committed
        wait_for_row(db, "SELECT count(*) FROM snapshots")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 130
    line = err.strip()
    assert "\n" not in line
    assert line.startswith("interrupted at 2024-08-08 23:")
    assert line.endswith(
        " UTC; the journal holds everything up to there (account main); "
        "rerun the same command (or add --resume) to continue"
    )
    with contextlib.closing(sqlite3.connect(db)) as con:
        snapshot = json.loads(con.execute("SELECT data FROM snapshots").fetchone()[0])
        kinds = [k for (k,) in con.execute("SELECT kind FROM events ORDER BY seq")]
    assert line.startswith(f"interrupted at {pd.Timestamp(snapshot['now_ms'], unit='ms'):%Y-%m-%d}")
    assert "OrderFilled" in kinds
    with contextlib.closing(sqlite3.connect(db)) as con:
        params = json.loads(con.execute("SELECT params FROM sessions").fetchone()[0])
    assert params["status"] == "interrupted"
    report = run_cli("journal", "report", "--db", str(db))
    assert report.exit_code == 0, report.stderr
    assert "journal report: main (interrupted)" in report.stdout
    as_json = json.loads(run_cli("journal", "report", "--db", str(db), "--json").stdout)
    assert [a["status"] for a in as_json["accounts"]] == ["interrupted"]
