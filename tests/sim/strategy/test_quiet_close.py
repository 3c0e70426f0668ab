"""``Session.observe_quiet``: a price that touches no quiet level leaves the account exactly as
feeding it through the kernel would (the shortcut a strategy replay takes on a quiet bar).

Two sessions get the same orders and the same random walk of last prices; where a step's range
(previous price to this one) holds none of ``Account.quiet_levels`` and no due instant comes,
one session observes the price and the other feeds it, which must give no events; after every
step both accounts' snapshots, last and mark prices and clocks are equal.
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.market import LastTrade
from sim.engine.triggers import EPS
from sim.guards import GuardLimits
from sim.session import Session
from tests.sim.engine._specs import BTC_TIERS, btc_usdt

T0 = 1_746_403_200_000  # 2025-05-05 00:00 UTC
SYM = "BTC/USDT:USDT"
VENUE = "binanceusdm"


def _session() -> Session:
    spec = btc_usdt(tiers=BTC_TIERS, taker_fee=D("0.0005"), maker_fee=D("0.0002"))
    acct = Account("main", {SYM: spec}, slippage_bps=D(2), mark_from_last=True)
    s = Session(acct, limits=GuardLimits(D(20), D(3), 10, 60, "USDT"))
    s.submit(Deposit(ts_ms=T0, currency="USDT", amount=D(10_000), venue=VENUE))
    s.feed(LastTrade(VENUE, SYM, T0 + 1, D(70_000), D(0)))

    def place(**kw: object) -> None:
        s.submit(PlaceOrder(ts_ms=T0 + 2, symbol=SYM, venue=VENUE, **kw))  # type: ignore[arg-type]

    place(side="buy", contracts=D("0.05"), leverage=D(20), margin_mode="isolated")
    place(side="sell", contracts=D("0.01"), order_type="limit", price=D(73_000))
    place(side="buy", contracts=D("0.01"), order_type="limit", price=D(67_500))
    place(side="sell", contracts=D("0.02"), order_type="stop_market", trigger_price=D(66_000),
          reduce_only=True)  # fmt: skip
    place(side="sell", contracts=D("0.01"), order_type="trailing_stop_market",
          callback_pct=D(1), trigger_price=D(71_000), reduce_only=True)  # fmt: skip
    return s


def _quiet(s: Session, prev: D, px: D, ts: int) -> bool:
    levels = s.account.quiet_levels(SYM)
    due = s.next_due_ms()
    if levels is None or (due is not None and due <= ts):
        return False
    lo, hi = float(min(prev, px)) * (1 - EPS), float(max(prev, px)) * (1 + EPS)
    return not any(lo <= float(x) <= hi for x in levels)


def _state(s: Session) -> tuple[object, ...]:
    acct = s.account
    return (acct.snapshot(), acct.book(SYM).last, acct.mark(SYM), acct.now_ms, s.seq)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-400, 400), min_size=5, max_size=80))
def test_observing_a_quiet_price_equals_feeding_it(moves: list[int]) -> None:
    fed, observed = _session(), _session()
    px, ts, quiet = D(70_000), T0 + 10, 0
    for step in moves:
        prev, px, ts = px, px + D(step) * 10 + D("0.1"), ts + 60_000
        trade = LastTrade(VENUE, SYM, ts, px, D(0))
        if _quiet(fed, prev, px, ts):
            quiet += 1
            assert fed.feed(trade) == []
            observed.observe_quiet(trade)
        else:
            assert fed.feed(trade) == observed.feed(trade)
        assert _state(fed) == _state(observed)
    assert fed.stats.inputs == observed.stats.inputs


def test_a_quiet_walk_is_observed_without_events() -> None:
    fed, observed = _session(), _session()
    for i, px in enumerate((D(70_100), D(69_900), D("70000.5"))):
        trade = LastTrade(VENUE, SYM, T0 + 60_000 * (i + 1), px, D(0))
        assert _quiet(fed, fed.account.book(SYM).last or px, px, trade.ts_ms)
        assert fed.feed(trade) == []
        observed.observe_quiet(trade)
    assert _state(fed) == _state(observed)
    assert observed.account.mark(SYM) == D("70000.5")
