"""Garbled and re-sent websocket messages never reach the account twice or not at all.

``tests/adapters/binance/test_feed.py`` checks the feed's own counters under these faults; here
the real websockets client reads the loopback exchange (127.0.0.1, recorded BTC capture) with a
garbled message and a dropped connection whose reconnect re-sends recent trades, and the trades
it yields drive an account with a position and working orders. Its events must equal those of
the same account fed the capture decoded straight from the file.
"""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

from adapters.binance.feed import binance_feed
from adapters.loopback.faults import parse_fault_spec
from adapters.stream import FeedStats
from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.market import LastTrade
from tests.adapters.binance.test_feed import FAST, SLICE, USDM, capture, loopback, run_until_done
from tests.sim.engine._account_fixtures import synthetic_spec

BTC = "BTC/USDT:USDT"


def _account_events(trades: list[LastTrade], lo: D, hi: D) -> list:
    """A 20x cross long with a stop, and limits spread over the slice's range [lo, hi]."""
    acct = Account("faults", {BTC: synthetic_spec(BTC)}, slippage_bps=D(1), mark_from_last=True)
    first = trades[0]
    px = first.price
    events = acct.apply(first)
    events += acct.apply(Deposit(ts_ms=first.ts_ms, currency="USDT", amount=D(5_000)))

    def at(x: D) -> D:
        return x.quantize(D("0.1"))

    def place(**kw: object) -> None:
        cmd = PlaceOrder(ts_ms=first.ts_ms, symbol=BTC, **kw)  # type: ignore[arg-type]
        events.extend(acct.apply(cmd))

    place(side="buy", contracts=D("0.5"), leverage=D(20), margin_mode="cross")
    for f in ("0.3", "0.6", "1.2"):
        place(side="buy", order_type="limit", contracts=D("0.1"), price=at(px - (px - lo) * D(f)))
    for f in ("0.5", "1.2"):
        place(
            side="sell",
            order_type="limit",
            contracts=D("0.1"),
            price=at(px + (hi - px) * D(f)),
            reduce_only=True,
        )
    stop = at(px - (px - lo) * D("0.8"))
    place(side="sell", order_type="stop_market", contracts=D("0.2"), trigger_price=stop)
    for t in trades[1:]:
        events += acct.apply(t)
    return events


async def test_garbled_and_resent_messages_leave_the_account_exactly_as_the_clean_capture(
    shared_data: Path,
) -> None:
    recorded = [
        i
        for i in capture(shared_data / USDM, SLICE, "binanceusdm", BTC)
        if isinstance(i, LastTrade)
    ]
    stats = FeedStats()
    async with loopback(
        shared_data, faults=parse_fault_spec("garble@600,drop@1200,garble@1800"), overlap=5
    ) as ex:
        feed = binance_feed([BTC], endpoint=ex.base_url, settings=FAST, stats=stats)

        got = await run_until_done(ex, feed, "BTCUSDT")

    assert [k for _, k in ex.faults.fired] == ["garble", "drop", "garble"]
    assert stats.duplicates > 0  # the reconnect really re-sent trades
    assert stats.bad_messages > 0
    live = [i for i in got if isinstance(i, LastTrade)]
    lo, hi = min(t.price for t in recorded), max(t.price for t in recorded)
    expected = _account_events(recorded, lo, hi)
    assert {e.kind for e in expected} >= {"OrderFilled", "OrderTriggered"}
    assert _account_events(live, lo, hi) == expected
