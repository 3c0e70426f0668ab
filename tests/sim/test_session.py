"""The session kernel: guards judge every exposure-adding command, locked entries are cancelled,
the kernel numbers events gap-free, and the journal commits a batch before subscribers see it."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from sim.engine.account import Account
from sim.engine.commands import AmendOrder, Deposit, PlaceOrder
from sim.engine.events import Event
from sim.engine.market import LastTrade
from sim.guards import GuardLimits, GuardLocked
from sim.journal import Journal
from sim.session import JournalLink, Session, refusal
from tests.sim.engine._specs import BTC_TIERS, btc_usdt

T0 = 1_746_403_200_000  # 2025-05-05 00:00 UTC
SYM = "BTC/USDT:USDT"
VENUE = "binanceusdm"
LIMITS = GuardLimits(D(20), D(3), 10, 60, "USDT")  # lose 3 % of the day's equity: locked 1 h


def _account() -> Account:
    spec = btc_usdt(tiers=BTC_TIERS, taker_fee=D("0.0005"), maker_fee=D("0.0002"))
    return Account("main", {SYM: spec}, slippage_bps=D(0))


def _price(px: int, ts: int) -> LastTrade:
    return LastTrade(VENUE, SYM, ts, D(px), D(0))


def _order(side: str, contracts: str, ts: int, **kw: object) -> PlaceOrder:
    return PlaceOrder(ts_ms=ts, symbol=SYM, side=side, contracts=D(contracts), venue=VENUE, **kw)  # type: ignore[arg-type]


def _kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


@pytest.fixture
def locked() -> tuple[Session, list[Event], dict[str, str]]:
    """Long 0.03 at 70,000; a third sold at 55,000 loses 450 + fees > 3 % of 1,000: locked.

    Working before the loss: an exit (sell limit 0.01 @ 99,000) and two entries (buy limit
    0.01 @ 50,000, buy stop 0.01 @ 90,000). Returns the session, every event seen by a
    subscriber, and the order ids by role.
    """
    s = Session(_account(), limits=LIMITS)
    seen: list[Event] = []
    s.subscribe(seen.extend)
    s.submit(Deposit(ts_ms=T0, currency="USDT", amount=D(1000), venue=VENUE))
    s.feed(_price(70000, T0 + 1))
    s.submit(_order("buy", "0.03", T0 + 2, leverage=D(10)))
    ids = {}
    for role, order in (
        ("exit", _order("sell", "0.01", T0 + 3, order_type="limit", price=D(99000))),
        ("limit_entry", _order("buy", "0.01", T0 + 3, order_type="limit", price=D(50000))),
        (
            "stop_entry",
            _order("buy", "0.01", T0 + 3, order_type="stop_market", trigger_price=D(90000)),
        ),
    ):
        ids[role] = next(e.order_id for e in s.submit(order) if e.kind == "OrderAccepted")  # type: ignore[attr-defined]
    s.feed(_price(55000, T0 + 4))
    batch = s.submit(_order("sell", "0.01", T0 + 5, reduce_only=True))
    assert "GuardLocked" in _kinds(batch)
    return s, seen, ids


def test_lock_cancels_working_entries_and_keeps_exits(locked) -> None:
    s, seen, ids = locked
    lock_at = _kinds(seen).index("GuardLocked")
    cancelled = [e.order_id for e in seen[lock_at:] if e.kind == "OrderCancelled"]  # type: ignore[attr-defined]

    reasons = {e.reason for e in seen[lock_at:] if e.kind == "OrderCancelled"}  # type: ignore[attr-defined]
    assert cancelled == [ids["limit_entry"], ids["stop_entry"]]
    assert reasons == {"entries locked by the daily loss limit"}
    assert [o.order_id for o in s.open_orders()] == [ids["exit"]]
    # The stop entry's trigger is crossed during the lock: nothing fills, no new trade.
    before = s.guards.state.trades_today  # type: ignore[union-attr]
    assert _kinds(s.feed(_price(95000, T0 + 6))) == []
    assert s.position_contracts(SYM) == D("0.02")
    assert s.guards.state.trades_today == before  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "extra",
    [
        {},  # a market entry
        {"order_type": "limit", "price": D(54000)},  # one rung of a scale ladder
        {"stop_loss": D(50000), "take_profit": D(60000)},  # a bracketed entry
        {"order_type": "stop_market", "trigger_price": D(56000)},  # a stop entry
    ],
)
def test_lock_denies_every_new_entry(locked, extra: dict) -> None:
    s, _, _ = locked
    before = s.account.snapshot()

    out = s.submit(_order("buy", "0.01", T0 + 6, **extra))

    assert _kinds(out) == ["OrderDenied"]
    assert "entries locked by the daily loss limit" in out[0].reason  # type: ignore[attr-defined]
    assert refusal(out) is out[0]
    after = s.account.snapshot()
    assert after["orders"] == before["orders"]
    assert after["positions"] == before["positions"]


def test_lock_denies_an_amend_that_adds_exposure_but_not_one_that_exits(locked) -> None:
    s, _, ids = locked
    exit_id = ids["exit"]

    grow = s.submit(AmendOrder(ts_ms=T0 + 6, order_id=exit_id, contracts=D("0.05"), venue=VENUE))
    move = s.submit(AmendOrder(ts_ms=T0 + 7, order_id=exit_id, price=D(99500), venue=VENUE))

    assert _kinds(grow) == ["OrderDenied"]
    assert grow[0].order_id == exit_id
    assert _kinds(move) == ["OrderAmended"]
    assert s.account.orders[exit_id].contracts == D("0.01")


def test_the_desk_bypass_is_closed_amending_a_locked_entry_opens_nothing(locked) -> None:
    """Issue 13: `amend o31 price 1806` under a lock filled as a new position. Now the entry was
    cancelled at the lock, so the amend is refused and the position does not grow."""
    s, _, ids = locked
    s.feed(_price(55000, T0 + 6))

    out = s.submit(
        AmendOrder(ts_ms=T0 + 7, order_id=ids["limit_entry"], price=D(56000), venue=VENUE)
    )

    assert refusal(out) is not None
    assert s.position_contracts(SYM) == D("0.02")


def test_exits_pass_during_the_lock(locked) -> None:
    s, _, _ = locked

    out = s.submit(_order("sell", "0.02", T0 + 6, reduce_only=True))

    assert "OrderFilled" in _kinds(out)
    assert s.position_contracts(SYM) == 0


def test_lock_ends_after_the_cooling_off_period(locked) -> None:
    s, seen, _ = locked
    until = next(e for e in seen if isinstance(e, GuardLocked)).until_ms

    out = s.submit(_order("buy", "0.01", until))

    assert _kinds(out)[:2] == ["GuardUnlocked", "OrderAccepted"]


def test_seq_numbers_are_gap_free_and_owned_by_the_kernel(locked) -> None:
    s, seen, _ = locked
    kinds = set(_kinds(seen))

    assert {"GuardLocked", "OrderFilled", "OrderCancelled", "WalletCredited"} <= kinds
    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
    assert s.seq == len(seen) == s.account.seq
    assert s.next_seq() == len(seen) + 1


def test_journal_commits_each_batch_before_subscribers_see_it(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.ensure_account("main", VENUE, "USDT", D(1000))
    s = Session(_account(), limits=LIMITS, journal=JournalLink(journal, "main"))
    committed: list[tuple[int, int]] = []

    def look(batch) -> None:
        stored = journal.events("main")
        committed.append((batch[-1].seq, stored[-1].seq if stored else 0))

    s.subscribe(look)
    s.submit(Deposit(ts_ms=T0, currency="USDT", amount=D(1000), venue=VENUE))
    s.feed(_price(70000, T0 + 1))
    s.submit(_order("buy", "0.01", T0 + 2))
    snap = journal.latest_snapshot("main")
    journal.close()

    assert committed
    assert all(last == stored for last, stored in committed)
    assert snap is not None
    assert snap["guards"]["deposits_today"] == "1000"


def test_without_guards_the_kernel_is_the_bare_account() -> None:
    """A guard-free session (replay, benchmarks) gives exactly the account's events."""
    inputs = [
        Deposit(ts_ms=T0, currency="USDT", amount=D(1000), venue=VENUE),
        _price(70000, T0 + 1),
        _order("buy", "0.01", T0 + 2, stop_loss=D(69000)),
        _price(68000, T0 + 3),
    ]
    bare = _account()
    expected = [e for inp in inputs for e in bare.apply(inp)]
    s = Session(_account())

    got = [e for inp in inputs for e in s.feed(inp)]

    assert got == expected
    assert s.stats.events == len(expected)
