"""Hand-built BTC specs shared by the calculator and margin tests.

They carry the numbers of the exchange examples the tests reproduce (exchange-mechanics.md §A.1);
tests on real specs load them through ``adapters.specs``.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from sim.engine.spec import ContractSpec, MarginTier

# Real BTC/USDT:USDT brackets, first three (exchange-mechanics.md §A.1, freqtrade 2026.9 snapshot)
BTC_TIERS = (
    MarginTier(1, D(0), D(300000), D("0.004"), D(0), D(150)),
    MarginTier(2, D(300000), D(800000), D("0.005"), D(300), D(100)),
    MarginTier(3, D(800000), D(3000000), D("0.0065"), D(1500), D(75)),
)

_BTC_USDT = ContractSpec(
    venue="binanceusdm",
    symbol="BTC/USDT:USDT",
    venue_id="BTCUSDT",
    base="BTC",
    quote="USDT",
    settle="USDT",
    linear=True,
    kind="swap",
    contract_size=D(1),
    price_tick=D("0.1"),
    amount_step=D("0.001"),
)


def btc_usdt(**changes: object) -> ContractSpec:
    """Binance USDⓈ-M BTC/USDT:USDT (tick 0.1, step 0.001, no tiers) with ``changes`` applied."""
    return replace(_BTC_USDT, **changes)  # type: ignore[arg-type]


def coin_margined(spec: ContractSpec, **changes: object) -> ContractSpec:
    """``spec`` as Binance COIN-M BTC/USD:BTC: 100 USD contracts, whole-contract steps."""
    coin: dict[str, object] = {
        "venue": "binancecoinm",
        "symbol": "BTC/USD:BTC",
        "settle": "BTC",
        "quote": "USD",
        "linear": False,
        "contract_size": D(100),
        "amount_step": D(1),
        "min_amount": D(1),
    }
    return replace(spec, **(coin | changes))  # type: ignore[arg-type]
