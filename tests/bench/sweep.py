"""Sweep benchmark: the same grid with ``--jobs 1`` and ``--jobs 2`` (local process pool).

Run: ``python tests/bench/sweep.py [--hours 24]``; prints one JSON document, asserts nothing.
Grid: ``breakout`` lookback × reward (8 runs) on the recorded BTC/ETH 1m candles, each run
``--hours`` long, journals in a temporary folder. The speed-up is bounded by the free cores:
on the shared 2-core machine other work competes for the second one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from adapters.specs import load_spec_book  # noqa: E402
from config.settings import load_settings  # noqa: E402
from sim.guards import GuardLimits  # noqa: E402
from sim.strategy import loader  # noqa: E402
from sim.strategy import params as P  # noqa: E402
from sim.strategy.run import RunOptions  # noqa: E402
from sim.strategy.sweep import run_sweep  # noqa: E402
from tests.bench import shared_data  # noqa: E402

START_MS = 1_746_374_400_000  # 2025-05-04 16:00 UTC, inside the recorded candles


def _data_dir() -> Path:
    return shared_data()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=400)
    args = parser.parse_args()
    data = _data_dir()
    settings = load_settings(data={"dirs": [str(data)]})
    book = load_spec_book("binanceusdm", settings)
    grid = P.parse_grid(loader.load("breakout").cls, ["lookback=10,20,30,40", "reward=1,3"])
    options = RunOptions(
        exchange="binanceusdm", balance=Decimal(1000), slippage_bps=Decimal(2),
        upnl_price="mark", risk_pct=Decimal(1),
        guards=GuardLimits(Decimal(20), Decimal(3), 20, 60, "USDT"), db=None,
    )  # fmt: skip
    until = START_MS + int(args.hours * 3_600_000)
    seconds = {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in (1, 2):
            started = time.perf_counter()
            result = run_sweep(
                "breakout", grid, options, book, data / "ohlcv" / "binance_usdm",
                Path(tmp) / f"jobs{jobs}", jobs=jobs, since_ms=START_MS, until_ms=until,
            )  # fmt: skip
            seconds[jobs] = time.perf_counter() - started
            assert not result.failed, result.failed
    print(
        json.dumps(
            {
                "grid_runs": len(grid),
                "hours_per_run": args.hours,
                "cpus": os.cpu_count(),
                "jobs_1_s": round(seconds[1], 2),
                "jobs_2_s": round(seconds[2], 2),
                "speedup_jobs_2": round(seconds[1] / seconds[2], 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
