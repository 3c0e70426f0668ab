"""Funding: mark × size × rate at the funding instant, sign from the side, never twice."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

from adapters.candles import load_series
from adapters.pricepath import funding_inputs, load_candles
from config.settings import load_settings
from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.funding import funding_amount
from sim.engine.market import FundingRate
from sim.runner import CandleReplay, Runner
from tests.sim.engine._account_fixtures import Driver, account, synthetic_spec

BTC = "BTC/USDT:USDT"


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_real_data_funding_example_long_pays_0_06073(shared_data: Path) -> None:
    # exchange-mechanics.md §A.6: long 0.01 BTC held 2025-03-06 15:30 → 2025-03-07 17:00 on the
    # recorded BTC 8h funding + mark series: 0.06189 − 0.00550 − 0.01359 + 0.01793 = 0.06073 paid.
    from adapters.specs import load_spec_book

    folder = shared_data / "ohlcv" / "binance_usdm"
    spec = load_spec_book("binanceusdm", load_settings()).get(BTC)
    acct = Account("funding", {BTC: spec}, slippage_bps=D(2), mark_from_last=True)
    candles = load_candles(folder / "BTC_USDT_USDT-1h-futures.feather", BTC, "1h")
    rates = load_series(folder / "BTC_USDT_USDT-8h-funding_rate.feather")
    marks = load_series(folder / "BTC_USDT_USDT-8h-mark.feather")
    start, end = int(candles.ts[0]), int(candles.ts[-1])
    timed: list[tuple[int, int, object]] = [
        (start, -1, Deposit(ts_ms=start, currency="USDT", amount=D(1000))),
        *funding_inputs("binanceusdm", BTC, rates, marks, start, end),
    ]
    for when, side in (("2025-03-06 15:30", "buy"), ("2025-03-07 17:00", "sell")):
        order = PlaceOrder(
            ts_ms=_ms(when), symbol=BTC, side=side, contracts=D("0.01"), reduce_only=side == "sell"
        )
        timed.append((order.ts_ms, 1, order))
    runner = Runner(acct)
    events: list = []
    runner.bus.subscribe(events.extend)

    CandleReplay(runner, [candles], timed).run()

    paid = [e for e in events if e.kind == "FundingPaid"]
    assert [(e.mark_price.quantize(D("0.01")), e.rate) for e in paid] == [
        (D("90776.95"), D("0.00006818")),
        (D("89887.90"), D("-0.00000612")),
        (D("88311.89"), D("-0.00001539")),
        (D("88417.95"), D("0.00002028")),
    ]
    trade = next(e for e in events if e.kind == "TradeClosed")
    assert trade.funding.quantize(D("0.00001")) == D("-0.06073")
    assert sum(e.amount for e in paid) == trade.funding


def test_funding_sign_long_pays_short_receives_inverse_in_coin() -> None:
    inverse = synthetic_spec("BTC/USD:BTC", linear=False, contract_size="100")

    assert funding_amount(synthetic_spec(), D("0.01"), D("50000"), D("0.0001")) == D("-0.05")
    assert funding_amount(synthetic_spec(), D("-0.01"), D("50000"), D("0.0001")) == D("0.05")
    assert funding_amount(inverse, D("10"), D("50000"), D("0.0001")) == D("-0.000002")


def test_funding_only_for_the_position_open_at_the_instant_and_never_twice() -> None:
    d = Driver(account(synthetic_spec(maker="0", taker="0"), mark_from_last=True))
    d.deposit("1000")
    d.last("100")
    t = 1_000_000
    d(FundingRate("binanceusdm", BTC, d.tick(), D("0.001"), t))  # announced, not yet due
    d.order(side="buy", order_type="market", contracts="1", leverage="10")
    assert d.of("FundingPaid") == []

    d.ts = t - 1
    d.last("100")
    d.ts = t
    d.last("110")  # the instant passes: pays on the mark at that time (last stands in)
    d(FundingRate("binanceusdm", BTC, t + 5, D("0.001"), t))  # the same instant again
    d.order(side="sell", order_type="market", contracts="1")
    d.ts = t + 8 * 3600_000
    d(FundingRate("binanceusdm", BTC, d.ts, D("0.001"), d.ts))  # flat at the next instant

    paid = d.of("FundingPaid")
    assert [(e.contracts, e.mark_price, e.amount) for e in paid] == [(D(1), D(100), D("-0.1"))]
    assert d.of("TradeClosed")[0].funding == D("-0.1")


def test_isolated_funding_moves_the_isolated_margin() -> None:
    d = Driver(account(synthetic_spec(maker="0", taker="0")))
    d.deposit("1000")
    d.last("100")
    d.order(side="buy", order_type="market", contracts="1", leverage="10", margin_mode="isolated")

    d(FundingRate("binanceusdm", BTC, d.tick(), D("0.01"), d.ts))

    assert d.account.positions()[0].isolated_margin == D("9")
    assert d.account.wallets()["USDT"] == D("999")
