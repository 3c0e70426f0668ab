"""Orders: one order's state, the table of its legal status moves, and trigger geometry.

An order changes status only through :meth:`Order.apply` with an engine event; a move not in
``TRANSITIONS`` is a bug and raises :class:`InvalidTransition`. ``matching.py`` runs triggers,
trailing stops, trade-throughs and taker fills at each price.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sim.engine.commands import LIMIT_TYPES, TRIGGERED_TYPES, PlaceOrder
from sim.engine.events import Event, OrderAmended, OrderFilled
from sim.engine.money import ZERO
from sim.errors import InvalidTransition

WORKING = frozenset({"open", "triggered", "partially_filled"})

# The fields an order carries from the command through OrderAccepted to the journal row:
# one list, so no layer copies them by hand.
ORDER_FIELDS = (
    "side",
    "order_type",
    "contracts",
    "price",
    "trigger_price",
    "trigger_source",
    "callback_pct",
    "time_in_force",
    "reduce_only",
    "close_position",
    "stop_loss",
    "take_profit",
    "tag",
    "source",
)

# (status, event kind) -> status. OrderFilled lands on "filled" when nothing remains.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("new", "OrderAccepted"): "open",
    ("open", "OrderTriggered"): "triggered",
    ("open", "OrderFilled"): "partially_filled",
    ("triggered", "OrderFilled"): "partially_filled",
    ("partially_filled", "OrderFilled"): "partially_filled",
    ("open", "OrderAmended"): "open",
    ("triggered", "OrderAmended"): "triggered",
    ("partially_filled", "OrderAmended"): "partially_filled",
    ("open", "OrderCancelled"): "cancelled",
    ("triggered", "OrderCancelled"): "cancelled",
    ("partially_filled", "OrderCancelled"): "cancelled",
    ("open", "OrderExpired"): "expired",
    ("triggered", "OrderExpired"): "expired",
    ("partially_filled", "OrderExpired"): "expired",
}


@dataclass(slots=True)
class Order:
    """One order as the account tracks it (contracts are absolute; side says the direction)."""

    order_id: str
    symbol: str
    side: str
    order_type: str
    contracts: Decimal
    ts_ms: int
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_source: str = "last"
    callback_pct: Decimal | None = None
    time_in_force: str = "GTC"
    reduce_only: bool = False
    close_position: bool = False
    parent_id: str | None = None
    oco_group: str | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    tag: str | None = None
    source: str = "manual"
    filled: Decimal = ZERO
    status: str = "new"
    trail_extreme: Decimal | None = None  # best price seen since a trailing stop was placed
    exit_reason: str = "order"  # what a fill of this order means for the trade: stop, take_profit

    @property
    def remaining(self) -> Decimal:
        return self.contracts - self.filled

    @property
    def is_working(self) -> bool:
        return self.status in WORKING

    @property
    def needs_trigger(self) -> bool:
        return self.order_type in TRIGGERED_TYPES and self.status == "open"

    @property
    def is_limit(self) -> bool:
        return self.order_type in LIMIT_TYPES

    @property
    def sign(self) -> int:
        return 1 if self.side == "buy" else -1

    @classmethod
    def from_command(cls, cmd: PlaceOrder, order_id: str) -> Order:
        """The order a ``PlaceOrder`` asks for (close-position orders size at fill time)."""
        order = cls(
            order_id=order_id,
            symbol=cmd.symbol,
            ts_ms=cmd.ts_ms,
            exit_reason=exit_reason_for(cmd.order_type),
            **{name: getattr(cmd, name) for name in ORDER_FIELDS},
        )
        if cmd.close_position:
            order.contracts, order.reduce_only = ZERO, True
        return order

    def accepted_fields(self) -> dict[str, Any]:
        """What OrderAccepted (and so the journal's orders row) says about this order."""
        out = {name: getattr(self, name) for name in ORDER_FIELDS}
        out.update(order_id=self.order_id, parent_id=self.parent_id, oco_group=self.oco_group)
        return out

    def apply(self, event: Event) -> None:
        """Move to the next status for ``event``; an illegal move is a bug."""
        key = (self.status, event.kind)
        target = TRANSITIONS.get(key)
        if target is None:
            raise InvalidTransition(
                f"order {self.order_id}: {event.kind} not allowed when {self.status}"
            )
        if isinstance(event, OrderFilled):
            self.filled += event.contracts
            if self.filled > self.contracts:
                raise InvalidTransition(f"order {self.order_id} overfilled: {self.filled}")
            if self.filled == self.contracts:
                target = "filled"
        elif isinstance(event, OrderAmended):
            self._amend(event)
        self.status = target

    def _amend(self, event: OrderAmended) -> None:
        if event.contracts is not None:
            self.contracts = event.contracts
        if event.price is not None:
            self.price = event.price
        if event.trigger_price is not None:
            self.trigger_price = event.trigger_price

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (Decimals as str) for snapshots and screens."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Decimal) else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Order:
        """Rebuild an order from :meth:`to_dict`."""
        decimals = {"contracts", "price", "trigger_price", "callback_pct", "stop_loss"}
        decimals |= {"take_profit", "filled", "trail_extreme"}
        kwargs = {
            k: (Decimal(v) if k in decimals and v is not None else v) for k, v in data.items()
        }
        return cls(**kwargs)


def fires_upward(order: Order) -> bool:
    """True when the order triggers on a rise (buy stop, sell take-profit), False on a fall."""
    is_stop = order.order_type.startswith(("stop", "trailing"))
    return (order.side == "buy") == is_stop


def update_trail(order: Order, price: Decimal) -> None:
    """Track the best price since a trailing stop became active (activation = trigger_price)."""
    selling = order.side == "sell"
    if order.trail_extreme is None:
        act = order.trigger_price
        if act is not None and (price < act if selling else price > act):
            return
        order.trail_extreme = price
    elif (price > order.trail_extreme) if selling else (price < order.trail_extreme):
        order.trail_extreme = price


def trigger_level(order: Order) -> Decimal | None:
    """The price that fires the order now (trailing: extreme moved back by the callback)."""
    if order.order_type != "trailing_stop_market":
        return order.trigger_price
    if order.trail_extreme is None or order.callback_pct is None:
        return None
    back = order.callback_pct / Decimal(100)
    sign = -1 if order.side == "sell" else 1
    return order.trail_extreme * (1 + sign * back)


def _beyond(up: bool, price: Decimal, level: Decimal) -> bool:
    return price >= level if up else price <= level


def trigger_base(order: Order, price: Decimal, prev: Decimal | None) -> Decimal | None:
    """Where a triggered order starts to fill, or None when ``price`` does not fire it.

    When the previous price was on the untriggered side the market moved through the level
    continuously, so the fill starts at the level; when it was already beyond (a gap, or an order
    placed beyond it) the fill starts at ``price``, the first price seen after the gap.
    """
    if order.order_type == "trailing_stop_market":
        update_trail(order, price)
    level = trigger_level(order)
    if level is None:
        return None
    up = fires_upward(order)
    if not _beyond(up, price, level):
        return None
    if prev is not None and not _beyond(up, prev, level):
        return level
    return price


def trades_through(order: Order, price: Decimal) -> bool:
    """A resting limit fills when the market prints strictly beyond its price."""
    if order.price is None:
        return False
    return price < order.price if order.side == "buy" else price > order.price


def exit_reason_for(order_type: str) -> str:
    """What closing a position with this order type is called in the journal."""
    if order_type.startswith("stop"):
        return "stop"
    if order_type.startswith("take_profit"):
        return "take_profit"
    if order_type.startswith("trailing"):
        return "trailing"
    return "manual"
