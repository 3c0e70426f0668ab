"""Live-path latency: a decoded MarkPrice → liquidation checks and margin ratios, 50 positions.

Run: ``python tests/bench/latency.py [--n N]``; prints one JSON document, asserts nothing.

The account holds 50 open positions on 50 synthetic linear USDT perpetuals (``synthetic_*``
specs, one tier, MMR 0.4 %): 25 isolated and 25 cross (which share one wallet, so every cross
check sums all 25). Each sample sends one ``MarkPrice`` (symbols in turn, prices wandering
±0.5 % around entry, never near a liquidation) and times:

* ``apply``: ``Account.apply(mark)``: triggers, liquidation check of that symbol (for a cross
  position: the whole cross wallet), funding due — the engine's whole live path;
* ``apply_and_changed_ratios``: the same plus what one mark changes: the marked position's
  view (margin ratio, maintenance, uPnL, liquidation price) and, for a cross position, the
  cross wallet's margin ratio (the wallet's terms computed once, ``cross_terms``);
* ``apply_and_changed_views``: the same through the account's view, ``Account.view(symbol)``:
  the marked position's view (for a cross position its margin ratio is the wallet's), read from
  the margin numbers the liquidation check just computed (the account's margin cache);
* ``apply_and_ratios``: the same plus ``Account.positions()``, every position's margin ratio,
  maintenance margin, uPnL and liquidation price, as the trade screen shows them.

Numbers kept between marks (``sim.engine.risk.MarginCache``) are identical to a fresh
computation (tests/sim/engine/test_views_cache.py); the rows time the cached path.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sim.engine.account import Account  # noqa: E402
from sim.engine.commands import Deposit, PlaceOrder  # noqa: E402
from sim.engine.market import LastTrade, MarkPrice  # noqa: E402
from sim.engine.risk import cross_ratio, cross_terms  # noqa: E402
from sim.engine.views import position_view  # noqa: E402
from tests.sim.engine._account_fixtures import synthetic_spec  # noqa: E402

N_POSITIONS = 50
T0 = 1_700_000_000_000


def symbols() -> list[str]:
    return [f"SYN{i:02d}/USDT:USDT" for i in range(N_POSITIONS)]


def build_account() -> tuple[Account, dict[str, Decimal]]:
    """50 open positions, half isolated, half cross, longs and shorts, 5x to 20x."""
    specs = {s: synthetic_spec(s, tick="0.01", step="0.001") for s in symbols()}
    acct = Account("latency", specs)
    acct.apply(Deposit(ts_ms=T0, currency="USDT", amount=Decimal(10_000_000)))
    entry: dict[str, Decimal] = {}
    for i, sym in enumerate(symbols()):
        px = Decimal(100 + 37 * i)
        entry[sym] = px
        acct.apply(LastTrade("binanceusdm", sym, T0 + i, px, Decimal(1)))
        acct.apply(MarkPrice("binanceusdm", sym, T0 + i, px))
        events = acct.apply(
            PlaceOrder(
                ts_ms=T0 + i,
                symbol=sym,
                side="buy" if i % 3 else "sell",
                contracts=Decimal(5),
                leverage=Decimal(5 + i % 4 * 5),
                margin_mode="isolated" if i % 2 else "cross",
            )
        )
        if not any(e.kind == "OrderFilled" for e in events):
            sys.exit(f"benchmark position {sym} did not open: {[e.kind for e in events]}")
    return acct, entry


def marks(entry: dict[str, Decimal], n: int) -> list[MarkPrice]:
    """Deterministic wandering marks, decoded ahead (the bench starts from a decoded event)."""
    out: list[MarkPrice] = []
    syms = sorted(entry)
    for k in range(n):
        sym = syms[k % len(syms)]
        wiggle = Decimal((k * 7919) % 1001 - 500) / Decimal(100_000)  # ±0.5 %
        px = (entry[sym] * (1 + wiggle)).quantize(Decimal("0.01"))
        out.append(MarkPrice("binanceusdm", sym, T0 + 1_000 + k, px))
    return out


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "n": len(ordered),
        "p50": at(0.5),
        "p90": at(0.9),
        "p99": at(0.99),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


def bench(n: int) -> dict[str, Any]:
    acct, entry = build_account()
    inputs = marks(entry, n)
    mode = {s: p.margin_mode for s, p in acct.positions_by_symbol.items()}
    apply_us: list[float] = []
    events = 0
    for inp in inputs:
        t0 = time.perf_counter_ns()
        events += len(acct.apply(inp))
        apply_us.append((time.perf_counter_ns() - t0) / 1000)
    acct3, _ = build_account()
    changed_us: list[float] = []
    for inp in inputs:
        t0 = time.perf_counter_ns()
        acct3.apply(inp)
        pos = acct3.positions_by_symbol[inp.symbol]
        cross = cross_terms(acct3, "USDT") if pos.margin_mode == "cross" else None
        position_view(acct3, inp.symbol, cross)
        if cross is not None:
            cross_ratio(acct3, "USDT", cross)
        changed_us.append((time.perf_counter_ns() - t0) / 1000)
    acct4, _ = build_account()
    views_us: list[float] = []
    for inp in inputs:
        t0 = time.perf_counter_ns()
        acct4.apply(inp)
        acct4.view(inp.symbol)
        views_us.append((time.perf_counter_ns() - t0) / 1000)
    acct2, _ = build_account()
    both_us: list[float] = []
    for inp in inputs:
        t0 = time.perf_counter_ns()
        acct2.apply(inp)
        views = acct2.positions()
        both_us.append((time.perf_counter_ns() - t0) / 1000)
    return {
        "positions": len(views),
        "isolated": sum(1 for v in views if v.margin_mode == "isolated"),
        "cross": sum(1 for v in views if v.margin_mode == "cross"),
        "samples": n,
        "engine_events": events,
        "apply_us": percentiles(apply_us),
        "apply_us_isolated_marks": percentiles(
            [us for us, i in zip(apply_us, inputs, strict=True) if mode[i.symbol] == "isolated"]
        ),
        "apply_us_cross_marks": percentiles(
            [us for us, i in zip(apply_us, inputs, strict=True) if mode[i.symbol] == "cross"]
        ),
        "apply_and_changed_ratios_us": percentiles(changed_us),
        "apply_and_changed_views_us": percentiles(views_us),
        "apply_and_changed_views_us_cross_marks": percentiles(
            [us for us, i in zip(views_us, inputs, strict=True) if mode[i.symbol] == "cross"]
        ),
        "apply_and_ratios_us": percentiles(both_us),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="mark prices to time")
    args = parser.parse_args()
    report = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "latency": bench(args.n),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
