"""The vectorized replay equals the tick-by-tick replay: same events, same final account.

Synthetic tapes (generated, named synthetic_*) of trades, marks and book tops on two symbols,
with funding announcements, and orders, amends, cancels and deposits at random times; candle
replays on two symbols sharing a cross wallet. ``tests/sim/test_runner.py`` already checks one
symbol's random-walk candles; this adds ticks, marks, looping, amends and cross wallets.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from adapters.pricepath import CandleSeries
from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.commands import AmendOrder, CancelOrder, Deposit, PlaceOrder
from sim.engine.market import BookTop, FundingRate, LastTrade, MarkPrice
from sim.engine.triggers import PriceTape
from sim.runner import CandleReplay, Runner, TickReplay
from tests.properties.conftest import scenarios
from tests.sim.engine._account_fixtures import synthetic_spec

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
SPECS = {
    BTC: synthetic_spec(BTC, tick="0.1", step="0.001"),
    ETH: synthetic_spec(ETH, tick="0.01", step="0.01"),
}
BASE = {BTC: D(50_000), ETH: D(2_500)}
V = "binanceusdm"

row = st.tuples(
    st.sampled_from([BTC, ETH]),
    st.sampled_from(["last", "last", "mark", "book", "funding"]),
    st.integers(-40, 40),  # walk step in basis points
    st.integers(0, 3_000),  # ms since the previous row
)
command = st.fixed_dictionaries(
    {
        "at": st.floats(0, 1),  # where in the tape, as a fraction of its span
        "what": st.sampled_from(
            ["market", "limit", "stop", "tp", "trail", "bracket", "cancel", "amend", "deposit"]
        ),
        "symbol": st.sampled_from([BTC, ETH]),
        "side": st.sampled_from(["buy", "sell"]),
        "offset_bp": st.integers(-150, 150),
        "source": st.sampled_from(["last", "mark"]),
        "mode": st.sampled_from(["isolated", "cross"]),
        "leverage": st.sampled_from([D(5), D(50), D(125)]),
        "target": st.integers(1, 12),
    }
)


def synthetic_tape(rows: list[tuple]) -> list[object]:
    """Price inputs from per-stream random walks (synthetic, not recorded)."""
    ts = 1_000_000
    walk = {(s, k): 0 for s in (BTC, ETH) for k in ("last", "mark", "book")}
    out: list[object] = []
    for sym, kind, step, dt in rows:
        ts += dt
        key = (sym, "last" if kind == "funding" else kind)
        walk[key] = max(-3000, min(3000, walk[key] + step))
        px = SPECS[sym].round_price(BASE[sym] * (1 + D(walk[key]) / 10_000))
        tick = SPECS[sym].price_tick
        if kind == "last":
            out.append(LastTrade(V, sym, ts, px, D(1)))
        elif kind == "mark":
            out.append(MarkPrice(V, sym, ts, px))
        elif kind == "book":
            out.append(BookTop(V, sym, ts, px - tick, D(3), px + tick, D(3)))
        else:
            out.append(FundingRate(V, sym, ts, D(step) / 100_000, ts + 5_000 + 50 * dt))
    return out


def commands(cmds: list[dict], tape: list[object]) -> list[tuple[int, int, object]]:
    t0 = tape[0].ts_ms  # type: ignore[attr-defined]
    span = tape[-1].ts_ms - t0 + 1  # type: ignore[attr-defined]
    out: list[tuple[int, int, object]] = [
        (t0, -1, Deposit(ts_ms=t0, currency="USDT", amount=D(3000)))
    ]
    for c in cmds:
        ts = t0 + 1 + int(c["at"] * span)
        sym = c["symbol"]
        level = SPECS[sym].round_price(BASE[sym] * (1 + D(c["offset_bp"]) / 10_000))
        size = D("0.05") if sym == BTC else D("1")
        common = {"ts_ms": ts, "symbol": sym, "side": c["side"], "contracts": size}
        common |= {"leverage": c["leverage"], "margin_mode": c["mode"]}
        what = c["what"]
        cmd: object
        if what == "market":
            cmd = PlaceOrder(**common)
        elif what == "limit":
            cmd = PlaceOrder(**common, order_type="limit", price=level)
        elif what in ("stop", "tp"):
            kind = "stop_market" if what == "stop" else "take_profit_market"
            cmd = PlaceOrder(
                **common, order_type=kind, trigger_price=level, trigger_source=c["source"]
            )
        elif what == "trail":
            cmd = PlaceOrder(
                **common,
                order_type="trailing_stop_market",
                callback_pct=D("0.3"),
                trigger_source=c["source"],
            )
        elif what == "bracket":
            away = level * D("0.004")
            lo, hi = SPECS[sym].round_price(level - away), SPECS[sym].round_price(level + away)
            sl, tp = (lo, hi) if c["side"] == "buy" else (hi, lo)
            cmd = PlaceOrder(
                **common, order_type="limit", price=level, stop_loss=sl, take_profit=tp
            )
        elif what == "cancel":
            cmd = CancelOrder(ts_ms=ts, order_id=f"o{c['target']}", symbol=sym)
        elif what == "amend":
            cmd = AmendOrder(ts_ms=ts, order_id=f"o{c['target']}", trigger_price=level, symbol=sym)
        else:
            cmd = Deposit(ts_ms=ts, currency="USDT", amount=D(-500 if c["side"] == "sell" else 500))
        out.append((ts, 1, cmd))
    return out


def _tick_run(
    tape: PriceTape, timed: list, fast: bool, laps: int, from_last: bool
) -> tuple[list, dict]:
    acct = Account("eq", SPECS, slippage_bps=D(2), mark_from_last=from_last)
    events: list = []
    bus = Bus()
    bus.subscribe(events.extend)
    TickReplay(Runner(acct, bus), tape, timed, fast=fast, laps=laps).run()
    return events, acct.snapshot()


@scenarios(ci=150)
@example(  # a lap's skipped tail must be caught up at that lap's times, not the next lap's
    [
        (BTC, "funding", 0, 1),
        (BTC, "funding", 0, 0),
        (BTC, "last", 0, 1175),
        (BTC, "last", 0, 1325),
    ],
    [],
    2,
    False,
)
@given(
    st.lists(row, min_size=2, max_size=300),
    st.lists(command, max_size=10),
    st.integers(1, 2),
    st.booleans(),
)
def test_tick_replay_with_skips_equals_every_tick(
    rows: list, cmds: list, laps: int, from_last: bool
) -> None:
    inputs = synthetic_tape(rows)
    tape = PriceTape(inputs)
    timed = commands(cmds, inputs)

    fast = _tick_run(tape, timed, fast=True, laps=laps, from_last=from_last)
    plain = _tick_run(tape, timed, fast=False, laps=laps, from_last=from_last)

    assert fast == plain


def synthetic_candles(symbol: str, steps: list[int]) -> CandleSeries:
    """A random-walk 1m series around the symbol's base price (synthetic, not recorded)."""
    base = float(BASE[symbol])
    close = base * (1 + np.cumsum(np.array(steps, dtype="float64")) / 10_000)
    open_ = np.concatenate([[base], close[:-1]])
    wick = base * 0.0008
    digits = 1 if symbol == BTC else 2
    return CandleSeries(
        symbol=symbol,
        timeframe="1m",
        period_ms=60_000,
        ts=np.arange(len(steps), dtype="int64") * 60_000,
        open=np.round(open_, digits),
        high=np.round(np.maximum(open_, close) + wick, digits),
        low=np.round(np.minimum(open_, close) - wick, digits),
        close=np.round(close, digits),
        path=Path(f"synthetic_{symbol.split('/')[0]}"),
    )


def _candle_run(candles: list[CandleSeries], timed: list, fast: bool) -> tuple[list, dict]:
    acct = Account("eq", SPECS, slippage_bps=D(2), mark_from_last=True)
    events: list = []
    bus = Bus()
    bus.subscribe(events.extend)
    CandleReplay(Runner(acct, bus), candles, timed, fast=fast).run()
    return events, acct.snapshot()


@scenarios(ci=60)
@given(
    st.lists(st.integers(-30, 30), min_size=5, max_size=200),
    st.lists(st.integers(-30, 30), min_size=5, max_size=200),
    st.lists(command, max_size=8),
    st.lists(st.integers(-50, 50), max_size=4),
)
def test_two_symbol_candle_replay_with_skips_equals_every_bar(
    btc: list[int], eth: list[int], cmds: list, rates: list[int]
) -> None:
    candles = [synthetic_candles(BTC, btc), synthetic_candles(ETH, eth)]
    ends = [
        LastTrade(V, BTC, 0, BASE[BTC], D(0)),
        LastTrade(V, BTC, 60_000 * len(btc), BASE[BTC], D(0)),
    ]
    timed = commands(cmds, ends)
    for i, r in enumerate(rates):  # funding announced at its instant, as the candle replay does
        t = (i + 1) * 60_000 * len(btc) // (len(rates) + 1)
        timed.append((t, 0, FundingRate(V, BTC if i % 2 else ETH, t, D(r) / 100_000, t)))

    assert _candle_run(candles, timed, fast=True) == _candle_run(candles, timed, fast=False)


def _merged_reference(inputs: list[object], timed: list) -> tuple[list, dict]:
    """The plain merge: each command before the first input at or after its time."""
    acct = Account("eq", SPECS, slippage_bps=D(2))
    events: list = []
    pending = sorted(timed, key=lambda x: (x[0], x[1]))
    k = 0
    for inp in inputs:
        while k < len(pending) and pending[k][0] <= inp.ts_ms:  # type: ignore[attr-defined]
            events += acct.apply(pending[k][2])
            k += 1
        events += acct.apply(inp)
    for _, _, cmd in pending[k:]:
        events += acct.apply(cmd)
    return events, acct.snapshot()


@scenarios(ci=100)
@given(
    st.lists(row, min_size=2, max_size=250),
    st.lists(command, max_size=8),
    st.lists(st.integers(0, 249), max_size=5),
    st.integers(7, 120),
)
def test_chunked_merge_with_skips_equals_the_plain_merge(
    rows: list, cmds: list, back: list[int], chunk: int
) -> None:
    inputs = synthetic_tape(rows)
    for i in back:  # exchange times may step back a little between frames
        if 0 < i < len(inputs):
            x = inputs[i]
            inputs[i] = type(x)(
                **{**{f: getattr(x, f) for f in x.__slots__}, "ts_ms": x.ts_ms - 1500}
            )  # type: ignore[attr-defined]
    timed = commands(cmds, inputs)
    acct = Account("eq", SPECS, slippage_bps=D(2))
    events: list = []
    bus = Bus()
    bus.subscribe(events.extend)

    Runner(acct, bus).run_merged(inputs, timed, chunk=chunk)

    assert (events, acct.snapshot()) == _merged_reference(inputs, timed)


def test_skipped_rows_that_step_back_still_move_the_clock_to_the_newest() -> None:
    """Found by the nightly profile of the property above: ETH at 1,000,001 ms skipped, then
    the stream's last row stepping back to 998,501 ms; the catch-up played that last row only,
    so the fast clock stayed at 1,000,000 where the plain merge saw 1,000,001."""
    inputs = synthetic_tape([(BTC, "last", 0, 0), (BTC, "last", 0, 0), (ETH, "last", 0, 0),
                             (ETH, "last", 0, 1), (ETH, "last", 0, 0)])  # fmt: skip
    inputs[4] = replace(inputs[4], ts_ms=inputs[4].ts_ms - 1500)  # type: ignore[attr-defined]
    timed = commands([], inputs)
    acct = Account("eq", SPECS, slippage_bps=D(2))

    stats = Runner(acct, Bus()).run_merged(inputs, timed, chunk=7)

    assert stats.ticks_skipped > 0  # the 1,000,001 row was skipped, not played
    assert acct.now_ms == 1_000_001
    assert acct.snapshot() == _merged_reference(inputs, timed)[1]
