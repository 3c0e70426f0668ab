"""Fills: book walk with consumed liquidity, partial maker fills from depth, slippage, fees."""

from __future__ import annotations

from decimal import Decimal as D

from sim.engine.fills import Book, fee, slipped, taker_fills
from sim.engine.market import BookDepth, BookTop
from tests.sim.engine._account_fixtures import Driver, account, synthetic_spec

BTC = "BTC/USDT:USDT"


def _depth(ts: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> BookDepth:
    return BookDepth(
        "binanceusdm",
        BTC,
        ts,
        tuple((D(p), D(q)) for p, q in bids),
        tuple((D(p), D(q)) for p, q in asks),
    )


def _driver(slippage: str = "0") -> Driver:
    d = Driver(account(synthetic_spec(), slippage=slippage))
    d.deposit("100000")
    d.last("100")
    return d


def test_market_order_walks_the_depth() -> None:
    d = _driver()
    d(_depth(d.tick(), [("99.9", "5")], [("100", "1"), ("100.5", "2"), ("101", "5")]))

    d.order(side="buy", order_type="market", contracts="2.5", leverage="10")

    fills = [(f.price, f.contracts) for f in d.of("OrderFilled")]
    assert fills == [(D("100"), D("1")), (D("100.5"), D("1.5"))]
    assert d.account.positions()[0].entry_price == D("100.3")  # (100 + 150.75) / 2.5


def test_second_market_order_does_not_reuse_consumed_liquidity() -> None:
    d = _driver()
    d(_depth(d.tick(), [("99.9", "5")], [("100", "1"), ("100.5", "2")]))
    d.order(side="buy", order_type="market", contracts="1", leverage="10")

    d.order(side="buy", order_type="market", contracts="1", leverage="10")
    d(_depth(d.tick(), [("99.9", "5")], [("100", "1"), ("100.5", "2")]))
    d.order(side="buy", order_type="market", contracts="1", leverage="10")

    prices = [f.price for f in d.of("OrderFilled")]
    assert prices == [D("100"), D("100.5"), D("100")]  # a new depth restores the level


def test_market_order_beyond_recorded_depth_fills_one_slippage_step_past_the_last_level() -> None:
    d = _driver(slippage="10")
    d(_depth(d.tick(), [("99.9", "5")], [("100", "1")]))

    d.order(side="buy", order_type="market", contracts="2", leverage="10")

    assert [(f.price, f.contracts) for f in d.of("OrderFilled")] == [
        (D("100"), D("1")),
        (D("100.1"), D("1")),  # 100 × (1 + 10 bps)
    ]


def test_resting_limit_fills_partially_from_depth_as_maker() -> None:
    d = _driver()
    d.order(side="buy", order_type="limit", contracts="1", price="99", leverage="10")

    d(_depth(d.tick(), [("98", "5")], [("98.5", "0.3"), ("99", "0.2"), ("99.5", "4")]))

    fill = d.of("OrderFilled")[0]
    assert (fill.price, fill.contracts, fill.liquidity, fill.remaining) == (
        D("99"),
        D("0.5"),
        "maker",
        D("0.5"),
    )
    assert d.account.open_orders()[0].status == "partially_filled"


def test_market_order_on_top_of_book_pays_the_slippage() -> None:
    d = _driver(slippage="2")
    d(BookTop("binanceusdm", BTC, d.tick(), D("60000"), D("1"), D("60000.1"), D("1")))

    d.order(side="buy", order_type="market", contracts="0.01", leverage="10")
    d.order(side="sell", order_type="market", contracts="0.01")

    buy, sell = d.of("OrderFilled")
    assert buy.price == D("60012.2")  # 60,000.1 × 1.0002 = 60,012.10002 → tick up
    assert sell.price == D("59988.0")  # 60,000 × 0.9998 = 59,988 exactly
    assert buy.fee == D("0.30006100")  # 0.01 × 60,012.2 × 0.05 %


def test_slippage_rounds_away_from_the_trader() -> None:
    spec = synthetic_spec()

    assert slipped(D("100"), "buy", D("3"), spec) == D("100.1")
    assert slipped(D("100"), "sell", D("3"), spec) == D("99.9")


def test_limit_taker_never_fills_beyond_its_limit() -> None:
    spec = synthetic_spec()
    book = Book()
    book.set_depth(_depth(1, [], [("100", "1"), ("101", "1")]))

    fills = taker_fills(book, "buy", D("2"), D("100.5"), D("100"), D(2), spec)

    assert fills == [(D("100"), D("1"))]


def test_fee_linear_and_inverse() -> None:
    inverse = synthetic_spec("BTC/USD:BTC", linear=False, contract_size="100", taker="0.0005")

    assert fee(synthetic_spec(), D("0.01"), D("60000"), "maker") == D("0.12")
    assert fee(inverse, D("10"), D("50000"), "taker") == D("0.00001")  # 1000 USD / 50k × 5 bp


def test_top_of_book_update_keeps_the_deeper_levels_and_the_consumption() -> None:
    book = Book()
    book.set_depth(_depth(1, [("99", "1")], [("100", "1"), ("100.5", "2"), ("101", "5")]))
    walk_taken = taker_fills(book, "buy", D("1.5"), None, None, D(0), synthetic_spec())

    book.set_top(BookTop("binanceusdm", BTC, 2, D("99.5"), D("3"), D("100.5"), D("4")))

    assert walk_taken == [(D("100"), D("1")), (D("100.5"), D("0.5"))]
    assert book.asks == [[D("100.5"), D("1.5")], [D("101"), D("5")]]  # consumed stays consumed
    assert book.bids == [[D("99.5"), D("3")], [D("99"), D("1")]]
