"""Engine outputs: every state change of an account is one of these, in ``seq`` order.

Outputs are past tense, frozen and slotted. Each carries ``seq`` (per-account counter, the id
source: no uuid or clock in the engine), ``ts_ms`` of the input that caused it, ``account``,
``venue`` and ``symbol``, plus the numbers needed to re-check it. Money is Decimal in the settle
currency named by ``currency``. The journal stores them generically (dataclass fields, Decimals as
text), so adding an event type or a field with a default never breaks storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    seq: int
    ts_ms: int
    account: str
    venue: str = ""
    symbol: str = ""

    @property
    def kind(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletCredited(Event):
    """Money put into (or, negative, taken out of) a wallet outside trading: the opening balance."""

    currency: str
    amount: Decimal
    balance_after: Decimal
    reason: str = "deposit"


@dataclass(frozen=True, slots=True, kw_only=True)
class LeverageSet(Event):
    leverage: Decimal
    margin_mode: str  # "isolated" | "cross"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(Event):
    order_id: str
    side: str  # "buy" | "sell"
    order_type: str  # market, limit, stop_market, stop_limit, take_profit_market, ...
    contracts: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_source: str = "last"  # "last" | "mark"
    callback_pct: Decimal | None = None
    time_in_force: str = "GTC"
    reduce_only: bool = False
    close_position: bool = False
    parent_id: str | None = None  # attached SL/TP point at their entry order
    oco_group: str | None = None
    leverage: Decimal | None = None
    margin_mode: str | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    tag: str | None = None
    source: str = "manual"  # manual | strategy name | demo


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(Event):
    """The exchange would refuse this order (tick, step, min notional, margin, expired ...)."""

    order_id: str
    reason: str
    side: str = ""
    order_type: str = ""
    contracts: Decimal | None = None
    price: Decimal | None = None
    tag: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDenied(Event):
    """microfut's own discipline guards refused the order (loss limit, trade limit, cooling off)."""

    order_id: str
    reason: str
    guard: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAmended(Event):
    order_id: str
    contracts: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTriggered(Event):
    """A stop / take-profit / trailing trigger was crossed; the order now works."""

    order_id: str
    trigger_price: Decimal
    trigger_source: str
    observed_price: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(Event):
    """One fill (possibly partial). ``realized_pnl`` is gross of fees; ``fee`` > 0 is paid."""

    order_id: str
    side: str
    contracts: Decimal
    price: Decimal
    fee: Decimal
    currency: str
    liquidity: str  # "maker" | "taker"
    realized_pnl: Decimal
    contract_size: Decimal
    position_after: Decimal  # signed contracts after this fill
    entry_price_after: Decimal | None
    wallet_after: Decimal
    remaining: Decimal = Decimal(0)  # contracts of the order still working
    reason: str = (
        "order"  # order | stop | take_profit | trailing | liquidation | settlement | close
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled(Event):
    order_id: str
    reason: str = "user"  # user | oco | reduce_only_no_position | liquidation | expired | ioc ...


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired(Event):
    order_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FundingPaid(Event):
    """Funding exchanged at ``funding_time_ms``; ``amount`` signed from the account (− = paid)."""

    funding_time_ms: int
    rate: Decimal
    mark_price: Decimal
    contracts: Decimal  # signed position at the funding instant
    contract_size: Decimal
    amount: Decimal
    currency: str
    wallet_after: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionLiquidated(Event):
    """Mark crossed the liquidation price; the position was closed by the venue's rule."""

    side: str  # side of the position that was liquidated: "long" | "short"
    contracts: Decimal
    entry_price: Decimal
    mark_price: Decimal
    liquidation_price: Decimal
    close_price: Decimal  # bankruptcy price (Bybit) or the venue's liquidation fill price
    margin_mode: str
    leverage: Decimal
    tier: int
    mmr: Decimal
    cum: Decimal
    wallet_before: Decimal  # isolated margin or cross wallet balance used by the formula
    loss: Decimal  # > 0: what the account lost, fees included
    fee: Decimal
    currency: str
    rule: str  # which venue formula acted, e.g. "binance-usdm-isolated"
    realized_pnl: Decimal = Decimal(0)  # gross PnL of the close at close_price (loss = fee − this)
    trigger_source: str = "mark"  # "mark", or "last" when the last price stood in for mark


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionSettled(Event):
    """A dated future expired; the position closed at the settlement price."""

    contracts: Decimal
    entry_price: Decimal
    settle_price: Decimal
    realized_pnl: Decimal
    fee: Decimal
    currency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeClosed(Event):
    """A round trip ended (position back to zero): the journal's trade row."""

    trade_id: str
    side: str  # "long" | "short"
    open_ts_ms: int
    entry_price: Decimal  # average entry over the trade
    exit_price: Decimal  # average exit over the trade
    contracts: Decimal  # largest absolute size held
    contract_size: Decimal
    leverage: Decimal
    margin_mode: str
    stop_at_entry: Decimal | None
    risk_at_entry: Decimal | None  # |entry − stop| × contracts × contract size (settle ccy)
    realized_pnl: Decimal  # gross
    fees: Decimal
    funding: Decimal  # signed, + = received
    currency: str
    exit_reason: str  # stop | take_profit | liquidation | settlement | manual | trailing
    tag: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedStale(Event):
    """Fills for a symbol paused (stale feed) or resumed."""

    stale: bool
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandRejected(Event):
    """A cancel, amend or leverage change the exchange would refuse, with the reason."""

    command: str  # CancelOrder | AmendOrder | SetLeverage
    reason: str
    order_id: str = ""
