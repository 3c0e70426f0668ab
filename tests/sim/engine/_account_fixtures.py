"""Builders shared by the account-engine tests: synthetic specs and a few input shortcuts.

Specs here are synthetic (named so): they carry the tier numbers of the exchange examples the
tests reproduce. Tests on real specs load them through ``adapters.specs``.
"""

from __future__ import annotations

from decimal import Decimal as D

from sim.engine.account import Account
from sim.engine.commands import Deposit, PlaceOrder
from sim.engine.events import Event
from sim.engine.market import LastTrade, MarkPrice
from sim.engine.spec import ContractSpec, MarginTier


def synthetic_spec(
    symbol: str = "BTC/USDT:USDT",
    *,
    venue: str = "binanceusdm",
    linear: bool = True,
    contract_size: str = "1",
    tick: str = "0.1",
    step: str = "0.001",
    min_amount: str | None = "0.001",
    min_notional: str | None = "5",
    maker: str = "0.0002",
    taker: str = "0.0005",
    mmr: str = "0.004",
    cum: str = "0",
    max_leverage: str = "125",
    tiers: tuple[MarginTier, ...] | None = None,
    kind: str = "swap",
    expiry_ms: int | None = None,
) -> ContractSpec:
    base, rest = symbol.split("/")
    quote, settle = rest.split(":")
    settle = settle.split("-")[0]
    return ContractSpec(
        venue=venue,
        symbol=symbol,
        venue_id=f"synthetic_{base}{quote}",
        base=base,
        quote=quote,
        settle=settle,
        linear=linear,
        kind=kind,
        contract_size=D(contract_size),  # type: ignore[arg-type]
        price_tick=D(tick),
        amount_step=D(step),
        min_amount=None if min_amount is None else D(min_amount),
        min_notional=None if min_notional is None else D(min_notional),
        max_leverage=D(max_leverage),
        maker_fee=D(maker),
        taker_fee=D(taker),
        expiry_ms=expiry_ms,
        tiers=tiers or (MarginTier(1, D(0), None, D(mmr), D(cum), D(max_leverage)),),
    )


class Driver:
    """Feed an account by hand and keep every event it returned."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.events: list[Event] = []
        self.ts = 1_000

    def __call__(self, inp: object) -> list[Event]:
        out = self.account.apply(inp)
        self.events.extend(out)
        return out

    def tick(self) -> int:
        self.ts += 1_000
        return self.ts

    def deposit(self, amount: str, currency: str = "USDT") -> None:
        self(Deposit(ts_ms=self.tick(), currency=currency, amount=D(amount)))

    def last(self, price: str, symbol: str = "BTC/USDT:USDT") -> list[Event]:
        return self(LastTrade(self.account.venue, symbol, self.tick(), D(price), D(0)))

    def mark(self, price: str, symbol: str = "BTC/USDT:USDT") -> list[Event]:
        return self(MarkPrice(self.account.venue, symbol, self.tick(), D(price)))

    def order(self, symbol: str = "BTC/USDT:USDT", **kw: object) -> list[Event]:
        for key in (
            "contracts",
            "price",
            "trigger_price",
            "callback_pct",
            "leverage",
            "stop_loss",
            "take_profit",
        ):
            if isinstance(kw.get(key), str):
                kw[key] = D(kw[key])  # type: ignore[arg-type]
        return self(PlaceOrder(ts_ms=self.tick(), symbol=symbol, **kw))  # type: ignore[arg-type]

    def kinds(self, events: list[Event] | None = None) -> list[str]:
        return [e.kind for e in (self.events if events is None else events)]

    def of(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]


def account(*specs: ContractSpec, slippage: str = "0", **kw: object) -> Account:
    return Account("test", {s.symbol: s for s in specs}, slippage_bps=D(slippage), **kw)  # type: ignore[arg-type]
