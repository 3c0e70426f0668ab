"""Journal benchmark: durable events/s and fills/s, and report time on a 100k-trade journal.

Fills/s are measured three ways in one run: one engine batch per commit (desk, live), group
commit (replays and strategy runs: ``--per-commit`` batches of one fill per transaction), and
the baseline, raw ``sqlite3.executemany`` of bare fill rows with the same rows per commit.

Run: ``python -m tests.bench.journal [--trades 100000] [--batches 300] [--fills 20000]``.
Prints one JSON
document and asserts nothing (pytest does not collect it). Synthetic events only.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sim.engine.events import Event, OrderAccepted, OrderFilled, TradeClosed
from sim.journal import Journal
from sim.review import frames, stats

D = Decimal
T0 = 1_709_510_400_000
BASE = {"account": "bench", "venue": "binanceusdm"}
SYMBOLS = ("BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT")


def _fill(seq: int, symbol: str, side: str, price: Decimal, pnl: Decimal, pos: Decimal) -> Event:
    return OrderFilled(
        seq=seq, ts_ms=T0 + seq * 1000, symbol=symbol, **BASE, order_id=f"o{seq}", side=side,
        contracts=D("0.010"), price=price, fee=D("0.024"), currency="USDT", liquidity="taker",
        realized_pnl=pnl, contract_size=D(1), position_after=pos,
        entry_price_after=price if pos else None, wallet_after=D("1000") + pnl,
    )  # fmt: skip


def _trade(seq: int, n: int) -> list[Event]:
    """One synthetic round trip: entry order, two fills, TradeClosed (4 events)."""
    symbol = SYMBOLS[n % 3]
    entry = D(60000) + n % 500
    exit_ = entry + (n * 37 % 200) - 100
    pnl = (exit_ - entry) * D("0.010")
    return [
        OrderAccepted(
            seq=seq, ts_ms=T0 + seq * 1000, symbol=symbol, **BASE, order_id=f"o{seq}",
            side="buy", order_type="market", contracts=D("0.010"), stop_loss=entry - 150,
        ),
        _fill(seq + 1, symbol, "buy", entry, D(0), D("0.010")),
        _fill(seq + 2, symbol, "sell", exit_, pnl, D(0)),
        TradeClosed(
            seq=seq + 3, ts_ms=T0 + (seq + 3) * 1000, symbol=symbol, **BASE, trade_id=f"T{n}",
            side="long", open_ts_ms=T0 + (seq + 1) * 1000, entry_price=entry, exit_price=exit_,
            contracts=D("0.010"), contract_size=D(1), leverage=D(10), margin_mode="isolated",
            stop_at_entry=entry - 150, risk_at_entry=D("1.50"), realized_pnl=pnl,
            fees=D("0.048"), funding=D(0), currency="USDT", exit_reason="manual",
        ),
    ]  # fmt: skip


def durable_writes(path: Path, batches: int) -> dict[str, float]:
    """Events/s in batches of one trade (4 events + snapshot) and fills/s one per commit."""
    journal = Journal.open(path)
    seq, started = 1, time.perf_counter()
    for n in range(batches):
        events = _trade(seq, n)
        journal.append("bench", events, {"seq": seq + 3})
        seq += 4
    events_s = batches * 4 / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(batches):
        journal.append("bench", [_fill(seq, SYMBOLS[0], "buy", D(60000), D(0), D("0.01"))])
        seq += 1
    fills_s = batches / (time.perf_counter() - started)
    journal.close()
    return {"events_per_s": round(events_s, 1), "fills_per_s": round(fills_s, 1)}


def group_fills(path: Path, fills: int, per_commit: int) -> dict[str, float]:
    """Fills/s durable with group commit: one fill per engine batch (events, fills and equity
    rows plus the snapshot), ``per_commit`` batches per transaction, as a replay writes them."""
    journal = Journal.open(path)
    group = journal.group(batches=per_commit, seconds=3600)
    seq, started = 1, time.perf_counter()
    for _ in range(fills):
        fill = _fill(seq, SYMBOLS[0], "buy", D(60000), D(0), D("0.01"))
        group.append("bench", [fill], {"seq": seq})
        seq += 1
    journal.close()  # commits the last group
    elapsed = time.perf_counter() - started
    return {"fills": fills, "batches_per_commit": per_commit, "fills_per_s": round(fills / elapsed)}


def raw_sqlite_fills(path: Path, fills: int, per_commit: int) -> dict[str, float]:
    """The baseline: plain ``sqlite3.executemany`` of the same fill rows (one table, no events,
    no projections, no snapshot), same WAL + synchronous=FULL, ``per_commit`` rows per commit."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = WAL")
    con.execute("PRAGMA synchronous = FULL")
    columns = ("account", "seq", "ts_ms", "venue", "symbol", "order_id", "side", "contracts",
               "price", "fee", "currency", "liquidity", "realized_pnl", "contract_size",
               "position_after", "wallet_after", "reason")  # fmt: skip
    con.execute(f"CREATE TABLE fills (id INTEGER PRIMARY KEY, {', '.join(columns)})")
    insert = f"INSERT INTO fills ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    started = time.perf_counter()
    for start in range(0, fills, per_commit):
        rows = [
            ("bench", s, T0 + s, "binanceusdm", SYMBOLS[0], f"o{s}", "buy", "0.010", "60000",
             "0.024", "USDT", "taker", "0", "1", "0.01", "1000", "order")
            for s in range(start, min(fills, start + per_commit))
        ]  # fmt: skip
        con.execute("BEGIN IMMEDIATE")
        con.executemany(insert, rows)
        con.execute("COMMIT")
    elapsed = time.perf_counter() - started
    con.close()
    return {"fills": fills, "rows_per_commit": per_commit, "fills_per_s": round(fills / elapsed)}


def big_journal(path: Path, trades: int, per_batch: int = 1000) -> float:
    """Write ``trades`` round trips in large batches; return seconds taken."""
    journal = Journal.open(path)
    journal.ensure_account("bench", "binanceusdm", "USDT", D(1000))
    seq, started = 1, time.perf_counter()
    for start in range(0, trades, per_batch):
        batch: list[Event] = []
        for n in range(start, min(trades, start + per_batch)):
            batch += _trade(seq, n)
            seq += 4
        journal.append("bench", batch, {"seq": seq - 1})
    journal.close()
    return time.perf_counter() - started


def report_time(path: Path) -> dict[str, float]:
    """Seconds for what `microfut journal report` computes (frames + statistics)."""
    journal = Journal.open(path)
    started = time.perf_counter()
    trades = frames.trades_frame(journal)
    loaded = time.perf_counter()
    locks, denials = frames.guard_times(journal, "bench")
    rep = stats.account_report(trades, "bench", D(1000), D(1), locks, denials)
    done = time.perf_counter()
    journal.close()
    return {
        "trades": rep.summary.trades,
        "load_s": round(loaded - started, 3),
        "stats_s": round(done - loaded, 3),
        "report_s": round(done - started, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--fills", type=int, default=20_000, help="fills for the group-commit run")
    parser.add_argument("--per-commit", type=int, default=100, help="batches (rows) per commit")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        writes = durable_writes(Path(tmp) / "durable.sqlite", args.batches)
        grouped = group_fills(Path(tmp) / "group.sqlite", args.fills, args.per_commit)
        raw = raw_sqlite_fills(Path(tmp) / "raw.sqlite", args.fills, args.per_commit)
        build_s = big_journal(Path(tmp) / "big.sqlite", args.trades)
        size = (Path(tmp) / "big.sqlite").stat().st_size
        result = {
            "synchronous": "FULL",
            "durable_one_batch_per_commit": writes,
            "durable_group_commit": grouped,
            "raw_sqlite3_same_rows_per_commit": raw,
            "group_vs_raw_sqlite3": round(grouped["fills_per_s"] / raw["fills_per_s"], 2),
            "build_100k": {
                "trades": args.trades,
                "seconds": round(build_s, 1),
                "mb": round(size / 1e6, 1),
            },
            "report": report_time(Path(tmp) / "big.sqlite"),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
