"""Order entry in trader's words, on the real BTC/ETH perpetual specs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.specs import SpecBook
from sim.desk.parse import (
    ClosePosition,
    HedgeRequest,
    Invalid,
    Orders,
    Pace,
    SetMode,
    Simple,
    SizeRequest,
    ladder,
    parse,
)
from sim.engine.commands import AmendOrder, CancelOrder, SetLeverage

TS = 1_717_000_000_000


def one(book: SpecBook, line: str):
    intent = parse(line, book.get, TS)
    assert isinstance(intent, Orders), intent
    assert len(intent.orders) == 1
    return intent.orders[0]


def test_market_buy_with_unified_symbol(book: SpecBook) -> None:
    order = one(book, "buy 5 BTC/USDT:USDT")

    assert (order.symbol, order.side, order.order_type) == ("BTC/USDT:USDT", "buy", "market")
    assert order.contracts == Decimal(5)
    assert order.venue == "binanceusdm"
    assert order.ts_ms == TS


def test_limit_sell_with_bare_base_resolves_the_perpetual(book: SpecBook) -> None:
    order = one(book, "sell 2 ETH limit 3500")

    assert (order.symbol, order.order_type, order.price) == (
        "ETH/USDT:USDT",
        "limit",
        Decimal(3500),
    )


def test_entry_with_attached_stop_and_take_profit(book: SpecBook) -> None:
    order = one(book, "buy 3 BTC stop 69000 tp 73000")

    assert order.order_type == "market"
    assert (order.stop_loss, order.take_profit) == (Decimal(69000), Decimal(73000))
    assert not order.reduce_only


def test_reduce_only_stop_becomes_a_stop_market_exit(book: SpecBook) -> None:
    order = one(book, "sell 0.01 BTC reduce stop 69000 mark")

    assert (order.order_type, order.trigger_price) == ("stop_market", Decimal(69000))
    assert order.reduce_only
    assert order.trigger_source == "mark"
    assert order.stop_loss is None


def test_trigger_with_limit_is_a_stop_limit(book: SpecBook) -> None:
    order = one(book, "buy 0.002 BTC trigger 71000 limit 71100 lev 5 cross ioc tag breakout")

    assert (order.order_type, order.trigger_price, order.price) == (
        "stop_limit",
        Decimal(71000),
        Decimal(71100),
    )
    assert (order.leverage, order.margin_mode, order.time_in_force) == (Decimal(5), "cross", "IOC")
    assert order.tag == "breakout"


def test_trailing_stop(book: SpecBook) -> None:
    order = one(book, "sell 0.01 BTC trail 1.5 reduce")

    assert (order.order_type, order.callback_pct) == ("trailing_stop_market", Decimal("1.5"))


def test_desk_words(book: SpecBook) -> None:
    assert parse("close BTC", book.get, TS) == ClosePosition("BTC/USDT:USDT")
    assert parse("cancel 12", book.get, TS) == CancelOrder(ts_ms=TS, order_id="12")
    assert parse("amend 12 price 70100", book.get, TS) == AmendOrder(
        ts_ms=TS, order_id="12", price=Decimal(70100)
    )
    lev = parse("lev BTC 5", book.get, TS)
    assert isinstance(lev, SetLeverage)
    assert (lev.symbol, lev.leverage) == ("BTC/USDT:USDT", Decimal(5))
    assert parse("mode ETH cross", book.get, TS) == SetMode("ETH/USDT:USDT", "cross")
    assert parse("size BTC stop 69300", book.get, TS) == SizeRequest(
        "BTC/USDT:USDT", Decimal(69300)
    )
    assert parse("hedge 500 beta 1.5", book.get, TS) == HedgeRequest(Decimal(500), Decimal("1.5"))
    assert parse("hedge -500 beta 1.5 ETH", book.get, TS) == HedgeRequest(
        Decimal(-500), Decimal("1.5"), "ETH/USDT:USDT"
    )
    assert parse("quit", book.get, TS) == Simple("quit")


def test_scale_ladder_spaces_prices_and_puts_remainder_on_last_rung(book: SpecBook) -> None:
    intent = parse("scale buy 0.01 BTC from 70000 to 68000 in 3", book.get, TS)

    assert isinstance(intent, Orders)
    rows = [(o.price, o.contracts, o.order_type) for o in intent.orders]
    assert rows == [
        (Decimal(70000), Decimal("0.003"), "limit"),
        (Decimal(69000), Decimal("0.003"), "limit"),
        (Decimal(68000), Decimal("0.004"), "limit"),
    ]


def test_scale_prices_round_to_the_tick(book: SpecBook) -> None:
    spec = book.get("BTC")

    rungs = ladder(spec, "buy", Decimal("0.003"), Decimal(70000), Decimal("69000.05"), 3)

    # gap −499.975: 69500.025 → 69500.0 and 69000.05 → 69000.1 on the 0.1 tick (half up)
    assert [p for p, _ in rungs] == [Decimal("70000.0"), Decimal("69500.0"), Decimal("69000.1")]
    assert sum(c for _, c in rungs) == Decimal("0.003")


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("", "type a command"),
        ("buy x BTC", "contracts must be a number, was 'x'"),
        ("buy -1 BTC", "contracts must be above 0"),
        ("buy 1 DOGE", "unknown symbol 'DOGE' on binanceusdm"),
        ("buy 1", "missing symbol"),
        ("buy 1 BTC limit", "missing value after 'limit'"),
        ("buy 1 BTC limit 70000 stop 71000", "stop must lie below 70000, was 71000"),
        ("sell 1 BTC limit 70000 tp 71000", "take-profit must lie below 70000"),
        ("buy 1 BTC banana", "unknown word 'banana'"),
        ("buy 1 BTC lev 5 lev 6", "'lev' was given twice"),
        ("frobnicate", "unknown command 'frobnicate'"),
        ("scale buy 10 BTC from 70000 to 68000", "scale needs in"),
        ("scale buy 0.002 BTC from 70000 to 68000 in 5", "below the minimum 0.001"),
        ("scale buy 0.0015 BTC from 70000 to 68000 in 1", "multiple of the amount step 0.001"),
        ("scale buy 1 BTC from 70000 to 68000 in two", "whole number, was 'two'"),
        ("amend 12", "amend needs what to change"),
        ("mode BTC hedge", "cross or isolated, was 'hedge'"),
        ("size BTC", "size needs a stop"),
        ("hedge 500 gamma 1", "hedge NOTIONAL beta B"),
        ("close BTC now", "unexpected 'now' at the end"),
        ("buy NaN BTC", "finite"),
        ("buy 1e99 BTC", "contracts 1e99 is out of range: expected a number between 1e-12"),
        ("buy 0.01 BTC limit 1e-99", "limit 1e-99 is out of range"),
        ("speed 0", "speed (× real time) must be"),
        ("speed fast", "must be a number, was 'fast'"),
        ("step 2.5", "step takes a whole number of bars, was 2.5"),
        ("pause now", "unexpected 'now' at the end"),
    ],
)
def test_bad_input_is_explained_in_one_line(book: SpecBook, line: str, fragment: str) -> None:
    intent = parse(line, book.get, TS)

    assert isinstance(intent, Invalid)
    assert fragment in intent.message
    assert "\n" not in intent.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_no_input_raises(line: str) -> None:
    from adapters.specs import SpecBook as Book

    empty = Book("binanceusdm", [], "none")

    intent = parse(line, empty.get, TS)

    assert intent is not None


@settings(max_examples=100, deadline=None)
@given(
    steps=st.integers(min_value=1, max_value=5000),
    rungs=st.integers(min_value=1, max_value=20),
    first=st.integers(min_value=600_000, max_value=800_000),
    last=st.integers(min_value=600_000, max_value=800_000),
)
def test_ladder_adds_up_and_stays_on_the_grid(
    book: SpecBook, steps: int, rungs: int, first: int, last: int
) -> None:
    spec = book.get("BTC")
    contracts = spec.amount_step * steps
    if steps < rungs:
        return

    out = ladder(spec, "buy", contracts, Decimal(first) / 10, Decimal(last) / 10, rungs)

    assert sum(c for _, c in out) == contracts
    assert all(c % spec.amount_step == 0 and c >= spec.min_amount for _, c in out)
    assert all(p % spec.price_tick == 0 for p, _ in out)


@pytest.mark.parametrize(
    ("line", "intent"),
    [
        ("pause", Pace("pause")),
        ("RESUME", Pace("resume")),
        ("speed 60", Pace("speed", Decimal(60))),
        ("step", Pace("step")),
        ("step 5", Pace("step", Decimal(5))),
    ],
)
def test_replay_clock_words(book: SpecBook, line: str, intent: Pace) -> None:
    assert parse(line, book.get, TS) == intent
