"""The shipped examples on recorded Binance candles: the trades a hand check predicts."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from adapters.candles import load_series
from adapters.specs import SpecBook
from sim.journal import Journal
from sim.journal.writer import encode_payload
from sim.review.frames import trades_frame
from sim.strategy import loader
from sim.strategy.run import RunOptions, run_replay
from tests.sim.strategy.conftest import SLICE_FROM_MS, SLICE_UNTIL_MS, with_db

TICK = Decimal("0.1")  # BTC/USDT:USDT price tick in the recorded exchangeInfo
STEP = Decimal("0.001")  # and its amount step
SLIP = Decimal("0.0002")  # 2 bps against the taker


def bars(folder: Path, stem: str, since: int, until: int) -> pd.DataFrame:
    df = load_series(folder / f"{stem}.feather")
    df = df[(df["ts_ms"] >= since) & (df["ts_ms"] < until)].reset_index(drop=True)
    for col in ("open", "high", "low", "close"):
        df[col] = [Decimal(repr(float(x))) for x in df[col]]
    return df


def tick(x: Decimal, rounding: str) -> Decimal:
    return (x / TICK).quantize(Decimal(1), rounding=rounding) * TICK


def taker(side: str, base: Decimal) -> Decimal:
    if side == "buy":
        return tick(base * (1 + SLIP), ROUND_CEILING)
    return tick(base * (1 - SLIP), ROUND_FLOOR)


def expected_breakout(df: pd.DataFrame, lookback: int) -> dict[str, object]:
    """First channel breakout of the slice, its risk-sized bracket and where the path exits it."""
    hi, lo, close = list(df["high"]), list(df["low"]), list(df["close"])
    i = next(
        k
        for k in range(lookback, len(df))
        if close[k] > max(hi[k - lookback : k]) or close[k] < min(lo[k - lookback : k])
    )
    long = close[i] > max(hi[i - lookback : i])
    stop = min(lo[i - lookback : i]) if long else max(hi[i - lookback : i])
    per_contract = abs(close[i] - stop) + Decimal("0.0005") * (close[i] + stop)
    contracts = (Decimal(10) / per_contract / STEP).to_integral_value(ROUND_FLOOR) * STEP
    target = tick(close[i] + 2 * (close[i] - stop), ROUND_HALF_UP)
    sign = 1 if long else -1

    def exit_at(exit_base: Decimal, why: str) -> dict[str, object]:
        return {
            "i": i,
            "long": long,
            "stop": stop,
            "contracts": contracts,
            "entry": taker("buy" if long else "sell", close[i]),
            "exit": taker("sell" if long else "buy", exit_base),
            "why": why,
        }

    prev = close[i]
    for j in range(i + 1, len(df)):
        o, h, low, c = (df.loc[j, k] for k in ("open", "high", "low", "close"))
        for p in (o, low, h, c) if long else (o, h, low, c):
            if sign * (p - stop) <= 0:
                return exit_at(stop if sign * (prev - stop) > 0 else p, "stop")
            if sign * (p - target) >= 0:
                return exit_at(target if sign * (prev - target) < 0 else p, "take_profit")
            prev = p
    raise AssertionError("the slice holds no exit for the hand-checked trade")


def test_breakout_first_trade_matches_the_hand_check(
    candles_dir: Path, book: SpecBook, options: RunOptions
) -> None:
    df = bars(candles_dir, "BTC_USDT_USDT-1m-futures", SLICE_FROM_MS, SLICE_UNTIL_MS)
    want = expected_breakout(df, 20)

    result = run_replay(
        loader.load("breakout"),
        {"lookback": 20},
        options,
        book,
        candles_dir,
        since_ms=SLICE_FROM_MS,
        until_ms=SLICE_UNTIL_MS,
    )

    assert result.bars == len(df) == 120
    with Journal.open(options.db) as journal:  # type: ignore[arg-type]
        trade = trades_frame(journal, result.account).iloc[0]
    assert trade["side"] == ("long" if want["long"] else "short")
    assert trade["open_ts_ms"] == int(df.loc[want["i"], "ts_ms"]) + 59_999
    assert trade["entry_price"] == want["entry"]
    assert trade["contracts"] == want["contracts"]
    assert trade["stop_at_entry"] == want["stop"]
    assert trade["exit_reason"] == want["why"]
    assert trade["exit_price"] == want["exit"]
    assert trade["tag"] == "breakout"


def test_breakout_on_this_slice_buys_0_036_btc_at_95519_3(
    candles_dir: Path, book: SpecBook, options: RunOptions
) -> None:
    # Hand check of the numbers above: the 16:24 bar closes at 95,500.2 above the 20-bar high;
    # stop = 20-bar low 95,319.9; risk 10 USDT / (180.3 + 0.0005 × 190,820.1) = 0.0363 → 0.036.
    result = run_replay(
        loader.load("breakout"),
        {},
        options,
        book,
        candles_dir,
        since_ms=SLICE_FROM_MS,
        until_ms=SLICE_UNTIL_MS,
    )

    fill = next(e for e in result.events if e.kind == "OrderFilled")
    assert (fill.side, fill.contracts, fill.price) == ("buy", Decimal("0.036"), Decimal("95519.3"))  # type: ignore[attr-defined]
    accepted = next(e for e in result.events if e.kind == "OrderAccepted")
    assert accepted.source == "breakout"  # type: ignore[attr-defined]
    assert accepted.stop_loss == Decimal("95319.9")  # type: ignore[attr-defined]


def hedge_fills(btc: pd.DataFrame, eth: pd.DataFrame) -> list[tuple[int, str, Decimal, Decimal]]:
    """(ts, side, contracts, price) the hedge should trade: target = round(2 ETH × 1.2 / BTC)."""
    out, short = [], Decimal(0)
    for i in range(len(btc)):
        btc_close, value = btc.loc[i, "close"], 2 * eth.loc[i, "close"]
        exposure = value * Decimal("1.2")
        if abs(exposure - short * btc_close) <= exposure * Decimal("0.10"):
            continue
        target = (exposure / btc_close / STEP).quantize(Decimal(1), ROUND_HALF_UP) * STEP
        change = target - short
        if change:
            side = "sell" if change > 0 else "buy"
            out.append(
                (int(btc.loc[i, "ts_ms"]) + 3_599_999, side, abs(change), taker(side, btc_close))
            )
            short = target
    return out


def test_hedged_bag_trades_the_hand_computed_hedges(
    candles_dir: Path, book: SpecBook, options: RunOptions
) -> None:
    since, until = 1_741_262_400_000, 1_741_262_400_000 + 10 * 86_400_000  # 2025-03-06 12:00, 10 d
    btc = bars(candles_dir, "BTC_USDT_USDT-1h-futures", since, until)
    eth = bars(candles_dir, "ETH_USDT_USDT-1h-futures", since, until)
    assert list(btc["ts_ms"]) == list(eth["ts_ms"])
    want = hedge_fills(btc, eth)

    result = run_replay(
        loader.load("hedged_bag"),
        {"timeframe": "1h"},
        options,
        book,
        candles_dir,
        since_ms=since,
        until_ms=until,
    )

    got = [
        (e.ts_ms, e.side, e.contracts, e.price)
        for e in result.events  # type: ignore[attr-defined]
        if e.kind == "OrderFilled"
    ]
    assert len(want) >= 2
    assert got == want
    assert result.summary.funding != 0  # the short pays or receives funding every 8 h
    assert result.summary.open_positions == 1


def event_rows(db: Path, account: str) -> list[tuple[int, str, int, str]]:
    with Journal.open(db) as journal:
        return [(e.seq, e.kind, e.ts_ms, encode_payload(e)) for e in journal.events(account)]


def test_same_strategy_and_data_twice_give_identical_journals(
    candles_dir: Path, book: SpecBook, options: RunOptions, tmp_path: Path
) -> None:
    runs = []
    for name in ("a.sqlite", "b.sqlite"):
        opts = with_db(options, tmp_path / name)
        runs.append(
            run_replay(
                loader.load("breakout"),
                {"lookback": 15},
                opts,
                book,
                candles_dir,
                since_ms=SLICE_FROM_MS,
                until_ms=SLICE_UNTIL_MS,
            )
        )

    first = event_rows(tmp_path / "a.sqlite", runs[0].account)
    second = event_rows(tmp_path / "b.sqlite", runs[1].account)
    assert len(first) > 10
    assert first == second
    assert runs[0].summary == runs[1].summary
