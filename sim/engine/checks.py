"""Exchange rules checked before an order is accepted; each failure is a reason a trader reads.

Order: symbol, expiry, feed, order fields, tick/step/min amount, min notional, reduce-only,
leverage against the tier of the resulting notional, available margin, immediate triggers.
Each check returns ``None`` (pass) or the reason text that goes into ``OrderRejected``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sim.engine.commands import (
    LIMIT_TYPES,
    MARGIN_MODES,
    ORDER_TYPES,
    TIME_IN_FORCE,
    TRIGGERED_TYPES,
    PlaceOrder,
)
from sim.engine.margin import check_leverage
from sim.engine.money import ZERO, is_multiple
from sim.engine.risk import available
from sim.engine.spec import ContractSpec

if TYPE_CHECKING:
    from sim.engine.state import AccountState


def _num(x: Decimal) -> str:
    return f"{x.normalize():f}"


def _when(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def check_symbol(acct: AccountState, symbol: str, ts_ms: int) -> str | None:
    """Unknown, expired or stale symbols take no orders."""
    spec = acct.specs.get(symbol)
    if spec is None:
        known = ", ".join(sorted(acct.specs)) or "none"
        return f"unknown symbol '{symbol}' on {acct.venue}; this account trades: {known}"
    if symbol in acct.expired or (spec.expiry_ms is not None and ts_ms >= spec.expiry_ms):
        return f"{symbol} expired at {_when(spec.expiry_ms or ts_ms)}; it takes no more orders"
    if symbol in acct.stale:
        return f"the feed for {symbol} is stale; orders are refused until data resumes"
    return None


def check_fields(cmd: PlaceOrder) -> str | None:
    """Order type, time in force, sizes and the prices each type needs."""
    t = cmd.order_type
    if t not in ORDER_TYPES:
        return f"unknown order type '{t}'; use one of {', '.join(ORDER_TYPES)}"
    if cmd.side not in ("buy", "sell"):
        return f"side must be buy or sell, was '{cmd.side}'"
    if cmd.time_in_force not in TIME_IN_FORCE:
        return f"time in force must be one of {', '.join(TIME_IN_FORCE)}, was '{cmd.time_in_force}'"
    if cmd.trigger_source not in ("last", "mark"):
        return f"trigger source must be last or mark, was '{cmd.trigger_source}'"
    if cmd.margin_mode is not None and cmd.margin_mode not in MARGIN_MODES:
        return f"margin mode must be isolated or cross, was '{cmd.margin_mode}'"
    if not cmd.close_position and cmd.contracts <= 0:
        return f"contracts must be > 0, was {_num(cmd.contracts)}"
    if t in LIMIT_TYPES and (cmd.price is None or cmd.price <= 0):
        return f"a {t} order needs a positive limit price"
    if t in TRIGGERED_TYPES - {"trailing_stop_market"} and cmd.trigger_price is None:
        return f"a {t} order needs a trigger price"
    if t == "trailing_stop_market" and not (
        cmd.callback_pct is not None and Decimal("0.1") <= cmd.callback_pct <= 10
    ):
        return "a trailing stop needs a callback between 0.1 % and 10 %"
    if cmd.leverage is not None and cmd.leverage <= 0:
        return f"leverage must be > 0, was {_num(cmd.leverage)}"
    return None


def check_grid(spec: ContractSpec, cmd: PlaceOrder) -> str | None:
    """Prices on the tick, size on the step and within the venue's min/max amount."""
    for label, value in (
        ("price", cmd.price),
        ("trigger price", cmd.trigger_price),
        ("stop-loss", cmd.stop_loss),
        ("take-profit", cmd.take_profit),
    ):
        if value is not None and (value <= 0 or not is_multiple(value, spec.price_tick)):
            return (
                f"{label} {_num(value)} is not on the price tick {_num(spec.price_tick)} of "
                f"{spec.symbol}; round it to the tick"
            )
    if cmd.close_position:
        return None
    c = cmd.contracts
    if not is_multiple(c, spec.amount_step):
        return (
            f"{_num(c)} contracts is not a multiple of the step {_num(spec.amount_step)} "
            f"of {spec.symbol}"
        )
    if spec.min_amount is not None and c < spec.min_amount:
        return f"{_num(c)} contracts is below the minimum {_num(spec.min_amount)} of {spec.symbol}"
    if spec.max_amount is not None and c > spec.max_amount:
        return f"{_num(c)} contracts is above the maximum {_num(spec.max_amount)} of {spec.symbol}"
    return None


def reference_price(acct: AccountState, cmd: PlaceOrder) -> Decimal | None:
    """Price used for notional and margin checks: the limit, trigger, touch or last price."""
    if cmd.order_type in LIMIT_TYPES and cmd.price is not None:
        return cmd.price
    if cmd.trigger_price is not None:
        return cmd.trigger_price
    return acct.taker_base(cmd.symbol, cmd.side)


def increase_of(acct: AccountState, cmd: PlaceOrder) -> Decimal:
    """Contracts by which the order would grow the position (0 for a pure reduction)."""
    pos = acct.position(cmd.symbol)
    sign = 1 if cmd.side == "buy" else -1
    if cmd.reduce_only or cmd.close_position:
        return ZERO
    if pos.side == -sign:
        return max(ZERO, cmd.contracts - abs(pos.contracts))
    return cmd.contracts


def check_position(
    acct: AccountState, spec: ContractSpec, cmd: PlaceOrder, ref: Decimal
) -> str | None:
    """Reduce-only direction, min notional, margin mode and tier leverage."""
    pos = acct.position(cmd.symbol)
    sign = 1 if cmd.side == "buy" else -1
    immediate = cmd.order_type not in TRIGGERED_TYPES
    if (cmd.reduce_only or cmd.close_position) and immediate and pos.side != -sign:
        what = "open a" if pos.side == 0 else "increase the"
        side = "long" if sign > 0 else "short"
        return f"reduce-only {cmd.side} would {what} {side} position in {cmd.symbol}"
    notional = spec.notional(cmd.contracts, ref)
    if (
        spec.linear
        and spec.min_notional is not None
        and not (cmd.reduce_only or cmd.close_position)
        and notional < spec.min_notional
    ):
        return (
            f"order value {_num(notional)} {spec.settle} is below the minimum "
            f"{_num(spec.min_notional)} {spec.settle} of {spec.symbol}"
        )
    mode = cmd.margin_mode or pos.margin_mode
    if mode != pos.margin_mode and (pos.contracts != 0 or acct.working_orders(cmd.symbol)):
        return f"cannot switch {cmd.symbol} to {mode} margin while a position or order is open"
    leverage = cmd.leverage or pos.leverage
    resulting = abs(pos.contracts + sign * (cmd.contracts if not cmd.close_position else ZERO))
    return (
        check_leverage(spec, spec.notional(resulting, ref), leverage)
        or (leverage_change(acct, cmd.symbol, leverage)[0])
    )


def open_loss(
    spec: ContractSpec, sign: int, contracts: Decimal, price: Decimal, mark: Decimal | None
) -> Decimal:
    """Loss the new contracts show at mark the moment they fill at ``price`` (≥ 0).

    Binance counts it in an order's initial margin (COIN-M FAQ, exchange-mechanics.md §A.3:
    "Open Loss = Number of Contract × Contract Multiplier × |min[0, direction × (1/order price
    − 1/mark price)]|"; USDⓈ-M: contracts × CS × |min[0, direction × (mark − order price)]|).
    A short at 48,525 with the mark at 51,630 starts 3,105 USDT per BTC down.
    """
    if mark is None or contracts <= 0 or price <= 0:
        return ZERO
    move = sign * (mark - price) if spec.linear else sign * (1 / price - 1 / mark)
    return contracts * spec.contract_size * -min(ZERO, move)


def order_margin(
    acct: AccountState,
    spec: ContractSpec,
    sign: int,
    added: Decimal,
    ref: Decimal,
    leverage: Decimal,
) -> Decimal:
    """What opening ``added`` contracts at ``ref`` needs: initial margin, taker fee, open loss."""
    notional = spec.notional(added, ref)
    loss = open_loss(spec, sign, added, ref, acct.marks.get(spec.symbol))
    return notional / leverage + notional * spec.taker_fee + loss


def check_margin(
    acct: AccountState, spec: ContractSpec, cmd: PlaceOrder, ref: Decimal
) -> str | None:
    """Enough available balance for the initial margin, the opening fee and the open loss."""
    added = increase_of(acct, cmd)
    if added == 0 or cmd.order_type in TRIGGERED_TYPES:
        return None
    leverage = cmd.leverage or acct.position(cmd.symbol).leverage
    sign = 1 if cmd.side == "buy" else -1
    needed = order_margin(acct, spec, sign, added, ref, leverage)
    free = available(acct, spec.settle)
    if needed > free:
        return (
            f"insufficient margin: the order needs {needed:.2f} {spec.settle}, "
            f"available {free:.2f} {spec.settle}"
        )
    return None


def leverage_change(
    acct: AccountState, symbol: str, leverage: Decimal
) -> tuple[str | None, Decimal]:
    """Can ``symbol`` change to ``leverage`` now? (reason or None, isolated margin to add).

    The venues refuse a lower leverage whose new initial margin is not covered
    (exchange-mechanics.md §A.1): cross, the position's and its open orders' extra margin at
    mark must fit in the available balance; isolated, the position's margin is topped up to
    the new initial margin from the available balance (a higher leverage keeps the margin).
    Example: cross 0.9 BTC at 50,000, 100x → 1x needs 44,550 USDT more: refused with less.
    """
    pos = acct.position(symbol)
    spec = acct.specs[symbol]
    if leverage == pos.leverage:
        return None, ZERO
    orders = sum(
        (
            spec.notional(o.remaining, o.price)
            for o in acct.working_orders(symbol)
            if o.is_limit and not o.reduce_only and o.price
        ),
        ZERO,
    )
    extra = orders * (1 / leverage - 1 / pos.leverage)
    top_up = ZERO
    mark = acct.mark(symbol) or pos.entry_price
    if pos.contracts != 0 and mark:
        exp = pos.exposure(spec)
        if pos.margin_mode == "cross":
            extra += exp.notional(mark) * (1 / leverage - 1 / pos.leverage)
        else:
            needed = acct.rules.isolated_margin(exp, leverage, spec.taker_fee)
            top_up = max(ZERO, needed - pos.isolated_margin)
            extra += top_up
    free = available(acct, spec.settle)
    if extra > 0 and extra > free:
        return (
            f"insufficient margin to change {symbol} to {_num(leverage)}x: it needs "
            f"{extra:.2f} {spec.settle} more, available {free:.2f} {spec.settle}"
        ), ZERO
    return None, top_up


def check_triggers(acct: AccountState, cmd: PlaceOrder, ref: Decimal) -> str | None:
    """Triggers already crossed, brackets on the wrong side, post-only orders that would take."""
    sign = 1 if cmd.side == "buy" else -1
    if cmd.stop_loss is not None and (cmd.stop_loss - ref) * sign >= 0:
        return f"stop-loss {_num(cmd.stop_loss)} is on the wrong side of the entry {_num(ref)}"
    if cmd.take_profit is not None and (cmd.take_profit - ref) * sign <= 0:
        return f"take-profit {_num(cmd.take_profit)} is on the wrong side of the entry {_num(ref)}"
    t = cmd.order_type
    if t in TRIGGERED_TYPES - {"trailing_stop_market"} and cmd.trigger_price is not None:
        now = acct.trigger_price_now(cmd.symbol, cmd.trigger_source)
        up = (cmd.side == "buy") == t.startswith("stop")
        if now is not None and (now >= cmd.trigger_price if up else now <= cmd.trigger_price):
            return (
                f"the {t} would trigger immediately: {cmd.trigger_source} price {_num(now)} is "
                f"already at or beyond the trigger {_num(cmd.trigger_price)}"
            )
    if cmd.time_in_force == "post_only" and t == "limit":
        touch = acct.taker_base(cmd.symbol, cmd.side)
        if touch is not None and cmd.price is not None and (touch - cmd.price) * sign <= 0:
            return (
                f"post-only {cmd.side} at {_num(cmd.price)} would take liquidity at {_num(touch)}"
            )
    return None


def check_order(acct: AccountState, cmd: PlaceOrder) -> str | None:
    """Every exchange rule for a new order; the first failing reason, or None to accept."""
    reason = check_symbol(acct, cmd.symbol, cmd.ts_ms) or check_fields(cmd)
    if reason:
        return reason
    spec = acct.specs[cmd.symbol]
    reason = check_grid(spec, cmd)
    if reason:
        return reason
    ref = reference_price(acct, cmd)
    if ref is None or acct.taker_base(cmd.symbol, cmd.side) is None:
        return f"no price for {cmd.symbol} yet; wait for market data before placing this order"
    checks: tuple[Callable[[], str | None], ...] = (
        lambda: check_position(acct, spec, cmd, ref),
        lambda: check_margin(acct, spec, cmd, ref),
        lambda: check_triggers(acct, cmd, ref),
    )
    for check in checks:
        reason = check()
        if reason:
            return reason
    return None
