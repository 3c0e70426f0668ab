"""Cross positions sharing a wallet no longer turn skipping off, and skipping changes nothing.

Synthetic candles (random walks, named synthetic_*) on BTC and ETH with cross positions on
both symbols at leverages up to 125x, so liquidations happen in many scenarios: the replay that
skips bars by the cross bands (``triggers.cross_band_levels``) equals the every-bar replay.
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.runner import CandleReplay, Runner
from tests.properties.conftest import scenarios
from tests.properties.test_replay_equivalence import (
    BTC,
    ETH,
    SPECS,
    _candle_run,
    synthetic_candles,
)


def cross_pair(lev_btc: D, lev_eth: D, btc_side: str, eth_side: str, wallet: int) -> list:
    return [
        (0, -1, Deposit(ts_ms=0, currency="USDT", amount=D(wallet))),
        (1, 1, PlaceOrder(ts_ms=1, symbol=BTC, side=btc_side, contracts=D("0.2"),  # type: ignore[arg-type]
                          leverage=lev_btc, margin_mode="cross")),
        (2, 1, PlaceOrder(ts_ms=2, symbol=ETH, side=eth_side, contracts=D(4),  # type: ignore[arg-type]
                          leverage=lev_eth, margin_mode="cross")),
    ]  # fmt: skip


@scenarios(ci=80)
@given(
    st.lists(st.integers(-40, 40), min_size=5, max_size=300),
    st.lists(st.integers(-40, 40), min_size=5, max_size=300),
    st.sampled_from([D(10), D(50), D(125)]),
    st.sampled_from([D(10), D(50), D(125)]),
    st.sampled_from(["buy", "sell"]),
    st.sampled_from(["buy", "sell"]),
    st.sampled_from([400, 1_500, 20_000]),
)
def test_cross_pair_with_skips_equals_every_bar(
    btc: list[int], eth: list[int], lb: D, le: D, sb: str, se: str, wallet: int
) -> None:
    candles = [synthetic_candles(BTC, btc), synthetic_candles(ETH, eth)]
    timed = cross_pair(lb, le, sb, se, wallet)

    assert _candle_run(candles, timed, fast=True) == _candle_run(candles, timed, fast=False)


def test_a_calm_cross_pair_is_skipped_and_a_crash_still_liquidates() -> None:
    calm = [1, -1] * 150  # ±1 bp a bar: the bands hold, nearly every bar is skipped
    crash = calm[:200] + [-60] * 100  # BTC then falls 0.6 % a bar: the 50x long liquidates
    for btc, liquidates in ((calm, False), (crash, True)):
        candles = [synthetic_candles(BTC, btc), synthetic_candles(ETH, calm)]
        timed = cross_pair(D(50), D(10), "buy", "sell", 2_000)
        acct = Account("eq", SPECS, slippage_bps=D(2), mark_from_last=True)
        events: list = []
        bus = Bus()
        bus.subscribe(events.extend)
        stats = CandleReplay(Runner(acct, bus), candles, timed, fast=True).run()

        assert stats.bars_skipped > 500
        assert ("PositionLiquidated" in [e.kind for e in events]) is liquidates
        assert (events, acct.snapshot()) == _candle_run(candles, timed, fast=False)
