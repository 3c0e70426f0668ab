"""Replay, strategy and desk go through the same kernel: the same inputs, the same journal."""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from adapters.specs import SpecBook
from sim.desk.session import DeskOptions, DeskSession
from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.market import LastTrade
from sim.guards import GuardLimits
from sim.journal import Journal
from sim.runner import Runner
from sim.session import JournalLink, Session
from sim.strategy.api import Strategy
from sim.strategy.loader import LoadedStrategy
from sim.strategy.run import RunOptions, StrategyRun
from tests.sim.engine._specs import BTC_TIERS, btc_usdt

T0 = 1_746_403_200_000  # 2025-05-05 00:00 UTC
SYM = "BTC/USDT:USDT"
VENUE = "binanceusdm"
SPEC = btc_usdt(tiers=BTC_TIERS, taker_fee=D("0.0005"), maker_fee=D("0.0002"))
LIMITS = GuardLimits(D(20), D(3), 20, 60, "USDT")
BALANCE = D(1000)


def _steps() -> list[object]:
    """Prices and orders after the opening deposit: a round trip closed by a resting limit."""
    return [
        LastTrade(VENUE, SYM, T0 + 1000, D(70000), D(0)),
        PlaceOrder(ts_ms=T0 + 1000, symbol=SYM, side="buy", contracts=D("0.01"),
                   leverage=D(10), venue=VENUE),
        LastTrade(VENUE, SYM, T0 + 2000, D(69000), D(0)),
        PlaceOrder(ts_ms=T0 + 2000, symbol=SYM, side="sell", order_type="limit",
                   contracts=D("0.01"), price=D(71000), reduce_only=True, venue=VENUE),
        LastTrade(VENUE, SYM, T0 + 3000, D(71500), D(0)),
    ]  # fmt: skip


def _rows(db: Path, account: str) -> list[dict[str, Any]]:
    with Journal.open(db) as journal:
        events = journal.events(account)
    rows = []
    for e in events:
        row = dataclasses.asdict(e)
        row.pop("account")
        row["kind"] = e.kind
        rows.append(row)
    return rows


def _replay(db: Path) -> list[dict[str, Any]]:
    journal = Journal.open(db)
    journal.ensure_account("replay", VENUE, "USDT", BALANCE)
    acct = Account("replay", {SYM: SPEC}, slippage_bps=D(2), mark_from_last=True)
    runner = Runner(Session(acct, journal=JournalLink(journal, "replay")))
    runner.feed(Deposit(ts_ms=T0, currency="USDT", amount=BALANCE, reason="opening balance"))
    runner.run(_steps())
    journal.close()
    return _rows(db, "replay")


def _desk(db: Path) -> list[dict[str, Any]]:
    options = DeskOptions(
        account="desk", exchange=VENUE, currency="USDT", starting_balance=BALANCE,
        risk_pct=D(1), limits=LIMITS, slippage_bps=D(2), upnl_price="mark", mark_from_last=True,
    )  # fmt: skip
    book = SpecBook(exchange=VENUE, specs=[SPEC], source="test")
    desk = DeskSession.open(options, book, db, start_ms=T0)
    for step in _steps():
        if isinstance(step, PlaceOrder):
            assert desk.place([step]).ok
        else:
            desk.feed(step)
    desk.close()
    return _rows(db, "desk")


class _Quiet(Strategy):
    """Places nothing itself: the test sends the orders through its driver."""


def _strategy(db: Path) -> list[dict[str, Any]]:
    options = RunOptions(
        exchange=VENUE, balance=BALANCE, slippage_bps=D(2), upnl_price="mark", risk_pct=D(1),
        guards=LIMITS, db=db,
    )  # fmt: skip
    book = SpecBook(exchange=VENUE, specs=[SPEC], source="test")
    loaded = LoadedStrategy(_Quiet, "quiet", Path(__file__))
    run = StrategyRun(loaded, {}, options, book, {"source": "test"})
    run.start(T0)
    for step in _steps():
        run.driver.feed(step)
    run.close()
    return _rows(db, run.account.name)


def test_replay_desk_and_strategy_write_the_same_journal(tmp_path: Path) -> None:
    replay = _replay(tmp_path / "replay.sqlite")
    desk = _desk(tmp_path / "desk.sqlite")
    strategy = _strategy(tmp_path / "strategy.sqlite")

    kinds = [r["kind"] for r in replay]
    assert kinds[:4] == ["WalletCredited", "LeverageSet", "OrderAccepted", "OrderFilled"]
    assert kinds[-1] == "TradeClosed"
    assert [r["seq"] for r in replay] == list(range(1, len(replay) + 1))
    assert desk == replay
    assert strategy == replay
