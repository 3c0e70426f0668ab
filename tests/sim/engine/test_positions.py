"""Position bookkeeping: reductions realize PnL, flips are split, margin released pro rata."""

from __future__ import annotations

from decimal import Decimal as D

from sim.engine.positions import Position, apply_fill, average
from tests.sim.engine._account_fixtures import synthetic_spec

SPEC = synthetic_spec()
INVERSE = synthetic_spec("BTC/USD:BTC", linear=False, contract_size="100", step="1")


def test_reduction_realizes_pnl_and_releases_margin_pro_rata() -> None:
    pos = Position("BTC/USDT:USDT", D(10), "isolated")
    apply_fill(pos, SPEC, "buy", D("0.5"), D("5000"))
    pos.isolated_margin = D(250)

    effect = apply_fill(pos, SPEC, "sell", D("0.2"), D("5500"))

    assert (effect.closed, effect.opened, effect.realized_pnl) == (D("0.2"), D(0), D("100"))
    assert effect.margin_released == D("100")
    assert (pos.contracts, pos.entry_price, pos.isolated_margin) == (D("0.3"), D("5000"), D(150))


def test_inverse_fills_average_harmonically() -> None:
    pos = Position("BTC/USD:BTC", D(10), "cross")

    apply_fill(pos, INVERSE, "sell", D("10"), D("5000"))
    apply_fill(pos, INVERSE, "sell", D("20"), D("6000"))
    effect = apply_fill(pos, INVERSE, "buy", D("30"), D("5000"))

    assert average(INVERSE, [(D(10), D(5000)), (D(20), D(6000))]) == D("5625")
    # short 3,000 USD from 5,625 closed at 5,000: 3,000 × (1/5,000 − 1/5,625) = 0.0666… BTC
    assert effect.realized_pnl.quantize(D("0.000001")) == D("0.066667")
    assert pos.contracts == 0
    assert pos.entry_price is None
