"""Discipline guards on hand-built event sequences: warnings, the loss limit, the trade limit."""

from __future__ import annotations

import itertools
from decimal import Decimal

from sim.engine.commands import PlaceOrder
from sim.engine.events import OrderDenied, OrderFilled, WalletCredited
from sim.guards import (
    GuardLimits,
    GuardLocked,
    Guards,
    GuardState,
    GuardUnlocked,
    is_exit,
    liquidation_inside_stop,
)

DAY = 86_400_000
T0 = 20_000 * DAY + 3_600_000  # 01:00 UTC on some day
SYM = "BTC/USDT:USDT"
LIMITS = GuardLimits(
    leverage_warning=Decimal(20),
    daily_loss_limit_pct=Decimal(3),
    max_trades_per_day=3,
    cooloff_minutes=60,
)


def make_guards(state: GuardState | None = None) -> Guards:
    counter = itertools.count(100)
    return Guards("main", LIMITS, lambda: next(counter), state)


def order(side: str, contracts: str, ts: int = T0, **kw: object) -> PlaceOrder:
    return PlaceOrder(
        ts_ms=ts, symbol=SYM, side=side, contracts=Decimal(contracts), venue="binanceusdm", **kw
    )  # type: ignore[arg-type]


def fill(side: str, contracts: str, after: str, wallet: str, ts: int = T0, seq: int = 1):
    return OrderFilled(
        seq=seq, ts_ms=ts, account="main", venue="binanceusdm", symbol=SYM, order_id="1",
        side=side, contracts=Decimal(contracts), price=Decimal(70000), fee=Decimal(0),
        currency="USDT", liquidity="taker", realized_pnl=Decimal(0), contract_size=Decimal(1),
        position_after=Decimal(after), entry_price_after=None, wallet_after=Decimal(wallet),
    )  # fmt: skip


def test_leverage_above_threshold_warns() -> None:
    g = make_guards()

    out = g.warnings(order("buy", "0.01"), Decimal(25), None, None)

    assert [w.guard for w in out] == ["leverage"]
    assert "leverage 25x is above your warning level of 20x" in out[0].message
    assert g.warnings(order("buy", "0.01"), Decimal(20), None, None) == []


def test_liquidation_inside_stop_warns_for_long_and_short() -> None:
    g = make_guards()

    # Binance micro example: long 0.01 BTC @60,000 at 10x liquidates at 54,216.87
    long_out = g.warnings(order("buy", "0.01"), Decimal(10), Decimal("54216.87"), Decimal(54000))
    short_out = g.warnings(order("sell", "0.01"), Decimal(10), Decimal("65737.05"), Decimal(66000))
    safe = g.warnings(order("buy", "0.01"), Decimal(10), Decimal("54216.87"), Decimal(55000))

    assert [w.guard for w in long_out] == ["liquidation_inside_stop"]
    assert "liquidation at 54216.87 comes before your stop at 54000" in long_out[0].message
    assert [w.guard for w in short_out] == ["liquidation_inside_stop"]
    assert safe == []
    assert liquidation_inside_stop("buy", Decimal(100), Decimal(100))


def test_reduce_only_orders_never_warn() -> None:
    g = make_guards()

    out = g.warnings(order("sell", "0.01", reduce_only=True), Decimal(50), Decimal(1), Decimal(2))

    assert out == []


def test_exit_detection() -> None:
    assert is_exit(order("sell", "0.01", reduce_only=True), Decimal(0))
    assert is_exit(order("sell", "0.01"), Decimal("0.02"))
    assert not is_exit(order("sell", "0.03"), Decimal("0.02"))  # a flip opens a new short
    assert not is_exit(order("buy", "0.01"), Decimal("0.02"))
    assert is_exit(order("buy", "0.02"), Decimal("-0.02"))


def test_daily_loss_limit_locks_entries_allows_exits_then_unlocks() -> None:
    g = make_guards()
    g.tick(T0, wallet=Decimal(1000), equity=Decimal(1000))
    # limit: 3 % of 1,000 = 30; a loss of 29.99 is still allowed
    assert g.observe([fill("sell", "0.01", "0", "970.01")], Decimal("970.01")) == []

    locked = g.observe([fill("sell", "0.01", "0", "970")], Decimal(970))

    assert len(locked) == 1
    lock = locked[0]
    assert isinstance(lock, GuardLocked)
    assert (lock.guard, lock.day_result, lock.until_ms) == (
        "daily_loss",
        Decimal(-30),
        T0 + 3_600_000,
    )
    assert "lost 30.00 USDT today, the limit is 3% of 1000.00 = 30.00 USDT" in lock.reason
    denied = g.check(order("buy", "0.01", ts=T0 + 60_000), Decimal(0))
    assert isinstance(denied, OrderDenied)
    assert denied.guard == "daily_loss"
    assert "for 59 more minutes; take a break" in denied.reason
    assert g.check(order("sell", "0.01", ts=T0 + 60_000, reduce_only=True), Decimal(0)) is None
    assert g.check(order("sell", "0.005", ts=T0 + 60_000), Decimal("0.01")) is None
    assert g.tick(T0 + 3_599_999, Decimal(970), Decimal(970)) == []
    unlocked = g.tick(T0 + 3_600_000, Decimal(970), Decimal(970))
    assert [type(e) for e in unlocked] == [GuardUnlocked]
    assert g.check(order("buy", "0.01", ts=T0 + 3_600_000), Decimal(0)) is None


def test_further_loss_after_unlock_locks_again_but_a_win_does_not() -> None:
    g = make_guards()
    g.tick(T0, Decimal(1000), Decimal(1000))
    g.observe([fill("sell", "0.01", "0", "960")], Decimal(960))
    g.tick(T0 + 3_600_000, Decimal(960), Decimal(960))

    win = g.observe([fill("sell", "0.01", "0", "965", ts=T0 + 3_700_000)], Decimal(965))
    loss = g.observe([fill("sell", "0.01", "0", "964", ts=T0 + 3_800_000)], Decimal(964))

    assert win == []
    assert [e.guard for e in loss] == ["daily_loss"]  # type: ignore[attr-defined]


def test_deposits_do_not_count_as_results_and_new_day_resets() -> None:
    g = make_guards()
    g.tick(T0, Decimal(1000), Decimal(1000))
    credit = WalletCredited(seq=2, ts_ms=T0, account="main", currency="USDT",
                            amount=Decimal(500), balance_after=Decimal(1500))  # fmt: skip
    g.observe([credit], Decimal(1500))
    assert g.day_result == 0

    g.tick(T0 + DAY, Decimal(1480), Decimal(1490))

    assert (g.state.day_open_equity, g.day_result, g.state.trades_today) == (Decimal(1490), 0, 0)
    assert g.loss_limit == Decimal("44.70")


def test_max_trades_counts_positions_opened_or_flipped() -> None:
    g = make_guards()
    g.tick(T0, Decimal(1000), Decimal(1000))

    g.observe([fill("buy", "0.01", "0.01", "1000")], Decimal(1000))  # trade 1 opened
    g.observe([fill("buy", "0.01", "0.02", "1000")], Decimal(1000))  # scale in: same trade
    g.observe([fill("sell", "0.04", "-0.02", "1000")], Decimal(1000))  # flip: trade 2
    out = g.observe([fill("buy", "0.02", "0", "1000"), fill("buy", "0.01", "0.01", "1000")],
                    Decimal(1000))  # fmt: skip

    assert g.state.trades_today == 3
    assert [e.guard for e in out] == ["max_trades"]  # type: ignore[attr-defined]
    assert g.check(order("sell", "0.01"), Decimal("0.01")) is None
    assert isinstance(g.check(order("buy", "0.01"), Decimal("0.01")), OrderDenied)


def test_state_round_trips_for_resume() -> None:
    g = make_guards()
    g.tick(T0, Decimal(1000), Decimal(1000))
    g.observe([fill("sell", "0.01", "0", "950")], Decimal(950))

    restored = make_guards(GuardState.from_dict(g.state.to_dict()))

    assert restored.state == g.state
    assert restored.locked
    assert isinstance(restored.check(order("buy", "0.01"), Decimal(0)), OrderDenied)


def test_events_take_the_account_sequence() -> None:
    g = make_guards()
    g.tick(T0, Decimal(1000), Decimal(1000))

    first = g.warnings(order("buy", "1"), Decimal(50), None, None)[0]
    lock = g.observe([fill("sell", "1", "0", "900")], Decimal(900))[0]

    assert (first.seq, lock.seq) == (100, 101)
