"""A journaled replay that can be killed and resumed, for the resume tests.

``python -m tests.sim.journal.replay_harness JOURNAL`` replays the synthetic inputs below through
the real ``Runner`` and ``Account``; the journal subscribes to the bus and commits each batch with
``{"account": Account.snapshot(), "inputs": n}``. On start it resumes from the journal's latest
snapshot, the way the runner resumes a paper account. It prints the input count after each
committed batch, so a test can SIGKILL it in the middle.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.events import Event
from sim.engine.market import FundingRate, LastTrade, MarkPrice
from sim.journal import Journal
from sim.journal.restore import resume_point
from sim.runner import Runner
from tests.sim.engine._account_fixtures import synthetic_spec

D = Decimal
BTC = "BTC/USDT:USDT"
VENUE = "binanceusdm"
T0 = 1_709_510_400_000  # 2024-03-04 00:00 UTC
SPECS = {BTC: synthetic_spec(BTC)}


def synthetic_inputs(ticks: int = 900) -> list[object]:
    """A synthetic_ BTC wave (±600 around 60000) with bracketed market orders and funding."""
    out: list[object] = [Deposit(ts_ms=T0, currency="USDT", amount=D(1000))]
    for i in range(1, ticks + 1):
        ts = T0 + i * 60_000
        price = D(str(round(60000 + 600 * math.sin(i / 15) + 40 * math.sin(i / 3.7), 1)))
        if i % 480 == 1:
            funding_at = ts - ts % (8 * 3_600_000) + 8 * 3_600_000
            out.append(FundingRate(VENUE, BTC, ts, D("0.0001"), funding_at))
        out.append(MarkPrice(VENUE, BTC, ts, price))
        out.append(LastTrade(VENUE, BTC, ts + 1, price, D("0.005")))
        if i % 45 == 5:
            side = "buy" if (i // 45) % 2 == 0 else "sell"
            sign = 1 if side == "buy" else -1
            out.append(
                PlaceOrder(
                    ts_ms=ts + 2, symbol=BTC, side=side, contracts=D("0.010"),
                    leverage=D(10), margin_mode="isolated",
                    stop_loss=price - sign * 250, take_profit=price + sign * 350,
                )
            )  # fmt: skip
    return out


def new_account() -> Account:
    return Account("main", SPECS, slippage_bps=D(2))


def run(path: Path, inputs: Sequence[object], report: bool = False) -> Account:
    """Replay ``inputs`` into the journal at ``path``, resuming from its latest snapshot."""
    journal = Journal.open(path)
    journal.ensure_account("main", VENUE, "USDT", D(1000))
    point = resume_point(journal, "main")
    if point.snapshot is None:
        account, done = new_account(), 0
    else:
        account, done = Account.restore(point.snapshot["account"], SPECS), point.snapshot["inputs"]
    position = [done]

    def commit(events: Sequence[Event]) -> None:
        snap = {"account": account.snapshot(), "inputs": position[0] + 1}
        journal.append("main", list(events), snap)
        if report:
            print(position[0] + 1, flush=True)

    bus = Bus()
    bus.subscribe(commit)
    runner = Runner(account, bus)
    for index in range(done, len(inputs)):
        position[0] = index
        runner.feed(inputs[index])
    journal.close()
    return account


if __name__ == "__main__":
    run(Path(sys.argv[1]), synthetic_inputs(), report=True)
