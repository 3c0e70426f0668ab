"""The half-line skip of the candle replay (``sim/engine/quiet.py``) equals the every-bar run.

Synthetic random-walk candles (generated, named synthetic_*) on up to five symbols sharing one
cross wallet, with trending stretches so trailing stops activate, trail and fire; orders of
every kind (trailing stops with and without an activation price, on both sides, limits, stops,
take-profits, brackets), amends, cancels, deposits and withdrawals at random times: the replay
that skips by the cached bounds must give the same events and the same final account.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.pricepath import CandleSeries
from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.commands import AmendOrder, CancelOrder, Deposit, PlaceOrder
from sim.engine.market import FundingRate
from sim.runner import CandleReplay, Runner
from tests.properties.conftest import scenarios
from tests.sim.engine._account_fixtures import synthetic_spec

SYMBOLS = [f"S{k}/USDT:USDT" for k in range(5)]
SPECS = {s: synthetic_spec(s, tick="0.01", step="0.01") for s in SYMBOLS}
V = "binanceusdm"
MIN = 60_000


def synthetic_walk(symbol: str, steps: list[int], drift: int) -> CandleSeries:
    """A 1m random walk around 100 with a drift in bp a bar (synthetic, not recorded)."""
    moves = (np.array(steps, dtype="float64") + drift) / 10_000
    close = 100 * np.exp(np.cumsum(moves))
    open_ = np.concatenate([[100.0], close[:-1]])
    return CandleSeries(
        symbol=symbol,
        timeframe="1m",
        period_ms=MIN,
        ts=np.arange(len(steps), dtype="int64") * MIN,
        open=np.round(open_, 2),
        high=np.round(np.maximum(open_, close) * 1.0006, 2),
        low=np.round(np.minimum(open_, close) * 0.9994, 2),
        close=np.round(close, 2),
        path=Path(f"synthetic_{symbol.split('/')[0]}"),
    )


KINDS = ["market", "market", "trail", "trail_act", "limit", "stop", "tp", "bracket"]
KINDS += ["cancel", "amend", "deposit"]
order = st.fixed_dictionaries(
    {
        "bar": st.integers(0, 199),
        "sym": st.integers(0, 4),
        "what": st.sampled_from(KINDS),
        "side": st.sampled_from(["buy", "sell"]),
        "offset_bp": st.integers(-120, 120),
        "callback": st.sampled_from([D("0.1"), D("0.3"), D("1")]),
        "reduce": st.booleans(),
        "leverage": st.sampled_from([D(50), D(100)]),
        "target": st.integers(1, 20),
        "size": st.sampled_from([D(2), D(40), D(600)]),
    }
)


def commands(orders: list[dict], n_sym: int, closes: dict[str, np.ndarray]) -> list:
    out: list = [(0, -1, Deposit(ts_ms=0, currency="USDT", amount=D(2_000)))]
    for o in orders:
        sym = SYMBOLS[o["sym"] % n_sym]
        bar = min(o["bar"], len(closes[sym]) - 1)
        ts = bar * MIN + 7_000
        spec = SPECS[sym]
        px = D(repr(float(closes[sym][max(bar - 1, 0)])))
        level = spec.round_price(px * (1 + D(o["offset_bp"]) / 10_000))
        common = {"ts_ms": ts, "symbol": sym, "side": o["side"], "contracts": o["size"]}
        common |= {"leverage": o["leverage"], "margin_mode": "cross"}
        what = o["what"]
        cmd: object
        if what == "market":
            cmd = PlaceOrder(**common)
        elif what in ("trail", "trail_act"):
            act = level if what == "trail_act" else None
            cmd = PlaceOrder(**common, order_type="trailing_stop_market", trigger_price=act,
                             callback_pct=o["callback"], reduce_only=o["reduce"])  # fmt: skip
        elif what == "limit":
            cmd = PlaceOrder(**common, order_type="limit", price=level)
        elif what in ("stop", "tp"):
            kind = "stop_market" if what == "stop" else "take_profit_market"
            cmd = PlaceOrder(**common, order_type=kind, trigger_price=level,
                             reduce_only=o["reduce"])  # fmt: skip
        elif what == "bracket":
            away = px * D("0.006")
            lo, hi = spec.round_price(px - away), spec.round_price(px + away)
            sl, tp = (lo, hi) if o["side"] == "buy" else (hi, lo)
            cmd = PlaceOrder(**common, stop_loss=sl, take_profit=tp)
        elif what == "cancel":
            cmd = CancelOrder(ts_ms=ts, order_id=f"o{o['target']}", symbol=sym)
        elif what == "amend":
            cmd = AmendOrder(ts_ms=ts, order_id=f"o{o['target']}", trigger_price=level, symbol=sym)
        else:
            amount = D(-600 if o["side"] == "sell" else 600)
            cmd = Deposit(ts_ms=ts, currency="USDT", amount=amount)
        out.append((ts, 1, cmd))
    return out


def run(candles: list[CandleSeries], timed: list, fast: bool) -> tuple[list, dict]:
    acct = Account("eq", {c.symbol: SPECS[c.symbol] for c in candles}, mark_from_last=True)
    events: list = []
    bus = Bus()
    bus.subscribe(events.extend)
    CandleReplay(Runner(acct, bus), candles, timed, fast=fast).run()
    return events, acct.snapshot()


@scenarios(ci=60)
@given(
    st.integers(1, 5),
    st.lists(st.integers(-25, 25), min_size=10, max_size=200),
    st.lists(st.integers(-8, 8), min_size=5, max_size=5),
    st.lists(order, min_size=3, max_size=14),
    st.lists(st.integers(-40, 40), max_size=3),
)
def test_bounded_skip_equals_every_bar_with_trailing_stops_and_cross_wallets(
    n_sym: int, steps: list[int], drifts: list[int], orders: list, rates: list[int]
) -> None:
    candles = [synthetic_walk(SYMBOLS[k], steps[k:] + steps[:k], drifts[k]) for k in range(n_sym)]
    timed = commands(orders, n_sym, {c.symbol: c.close for c in candles})
    for i, r in enumerate(rates):  # funding at its instant, as the candle replay gets it
        t = (i + 1) * MIN * len(steps) // (len(rates) + 1)
        timed.append((t, 0, FundingRate(V, SYMBOLS[i % n_sym], t, D(r) / 100_000, t)))

    assert run(candles, timed, fast=True) == run(candles, timed, fast=False)


@pytest.mark.parametrize("activation", [None, D("101.00")])
def test_a_trailing_stop_is_skipped_while_it_trails_and_fires_where_every_bar_fires(
    activation: D | None,
) -> None:
    # A steady rise (the extreme climbs past the activation), then a slow fall that first
    # crosses back under the activation and then reaches the callback: it fires there.
    up = [4] * 120 + [-3] * 300
    candles = [synthetic_walk(SYMBOLS[0], up, 0)]
    timed = [
        (0, -1, Deposit(ts_ms=0, currency="USDT", amount=D(2_000))),
        (61_000, 1, PlaceOrder(ts_ms=61_000, symbol=SYMBOLS[0], side="buy", contracts=D(2),
                               leverage=D(5))),
        (62_000, 1, PlaceOrder(ts_ms=62_000, symbol=SYMBOLS[0], side="sell", contracts=D(2),
                               order_type="trailing_stop_market", callback_pct=D(4),
                               trigger_price=activation, reduce_only=True)),
    ]  # fmt: skip
    acct = Account("eq", {SYMBOLS[0]: SPECS[SYMBOLS[0]]}, mark_from_last=True)
    events: list = []
    bus = Bus()
    bus.subscribe(events.extend)
    stats = CandleReplay(Runner(acct, bus), candles, timed, fast=True).run()

    assert stats.bars_played < 20  # not one bar per new high
    assert "OrderTriggered" in [e.kind for e in events]
    assert (events, acct.snapshot()) == run(candles, timed, fast=False)
