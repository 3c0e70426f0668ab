"""One line of trader's English per engine or guard event, for the desk log and the demo."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from sim.display import fmt, money_places, ts_text
from sim.engine import events as ev
from sim.engine.messages import price_places
from sim.engine.money import on_step
from sim.engine.spec import ContractSpec
from sim.guards import GuardLocked, GuardUnlocked, GuardWarned


def money(value: Decimal | None, currency: str = "", *, small: bool = False) -> str:
    """Money with 2 places for dollar-like currencies, 8 for coins; ``small`` keeps 6 places."""
    if value is None:
        return "-"
    places = money_places(currency) if currency else 2  # sim/display: one list of currencies
    if small:
        places = max(places, 6)
    text = fmt(value, places)
    if small and "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {currency}".strip()


def px(value: Decimal | None) -> str:
    """A price for reading: exact when it has at most 2 decimals, else rounded to the cent."""
    if value is None:
        return "-"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return fmt(value, 2)
    return fmt(value)


Price = Callable[[Decimal | None], str]


def position_effect(held: Decimal, side: str, contracts: Decimal, reduce_only: bool = False) -> str:
    """What an order of ``contracts`` on ``side`` does to a position of ``held`` (signed)
    contracts: 'reduces long 0.009 → 0.001', 'flips long 0.009 → short 0.001', 'closes ...'."""
    if held == 0 or contracts == 0:
        return ""
    signed = contracts if side == "buy" else -contracts
    name = "long" if held > 0 else "short"
    after = held + signed
    if held * signed > 0:
        return "" if reduce_only else f"adds to {name} {_n(held)} → {_n(after)}"
    if after == 0 or (reduce_only and held * after < 0):
        return f"closes {name} {_n(held)}"
    if held * after > 0:
        return f"reduces {name} {_n(held)} → {_n(after)}"
    other = "short" if held > 0 else "long"
    return f"flips {name} {_n(held)} → {other} {_n(after)}"


def _n(contracts: Decimal) -> str:
    """A size without sign or trailing zeros (0.100 → 0.1)."""
    return fmt(abs(contracts).normalize())


def pricer(spec: ContractSpec | None) -> Price:
    """Prices of one symbol for reading: on the spec's display step (the tick, or cents when the
    tick is coarser) so a price reads the same in the echo and the fill whatever decimals the
    wire sent; ``px`` when the spec is unknown."""
    if spec is None:
        return px
    step = price_places(spec)

    def text(value: Decimal | None) -> str:
        return "-" if value is None else fmt(on_step(value, step, ROUND_HALF_UP))

    return text


def _order(e: ev.OrderAccepted, p: Price) -> str:
    parts = [f"{e.order_id} accepted: {e.side} {fmt(e.contracts)} {e.symbol} {e.order_type}"]
    if e.price is not None:
        parts.append(f"@ {p(e.price)}")
    if e.trigger_price is not None:
        parts.append(f"trigger {p(e.trigger_price)} ({e.trigger_source})")
    if e.stop_loss is not None:
        parts.append(f"stop {p(e.stop_loss)}")
    if e.take_profit is not None:
        parts.append(f"tp {p(e.take_profit)}")
    if e.reduce_only:
        parts.append("reduce-only")
    return " ".join(parts)


def _fill(e: ev.OrderFilled, p: Price) -> str:
    text = (
        f"{e.order_id} filled: {e.side} {fmt(e.contracts)} {e.symbol} @ {p(e.price)} "
        f"({e.liquidity}, fee {money(e.fee, e.currency)})"
    )
    if e.realized_pnl != 0:
        text += f", realized {money(e.realized_pnl, e.currency)}"
    if e.reason not in ("order", ""):
        text += f" [{e.reason}]"
    return text + f"; position {fmt(e.position_after)}, wallet {money(e.wallet_after, e.currency)}"


def _funding(e: ev.FundingPaid, p: Price) -> str:
    verb = "received" if e.amount > 0 else "paid"
    return (
        f"funding {e.symbol} at {ts_text(e.funding_time_ms)}: rate "
        f"{(e.rate * 100).normalize():f}% on mark {p(e.mark_price)} × {fmt(e.contracts)} → {verb} "
        f"{money(abs(e.amount), e.currency, small=True)}"
    )


def _liquidated(e: ev.PositionLiquidated, p: Price) -> str:
    return (
        f"LIQUIDATED {e.side} {fmt(e.contracts)} {e.symbol}: mark {p(e.mark_price)} crossed "
        f"liquidation {p(e.liquidation_price)} ({e.margin_mode} {fmt(e.leverage)}x, tier "
        f"{e.tier} mmr {fmt(e.mmr)}), closed at {p(e.close_price)}, lost "
        f"{money(e.loss, e.currency)}"
    )


def _trade(e: ev.TradeClosed, p: Price) -> str:
    net = e.realized_pnl - e.fees + e.funding
    return (
        f"trade closed {e.side} {e.symbol}: entry {p(e.entry_price)} exit {p(e.exit_price)} "
        f"({e.exit_reason}), pnl {money(e.realized_pnl, e.currency)}, fees "
        f"{money(e.fees, e.currency)}, funding {money(e.funding, e.currency, small=True)}, net "
        f"{money(net, e.currency)}"
    )


def describe(  # noqa: C901 - one branch per event kind
    e: ev.Event, specs: Mapping[str, ContractSpec] | None = None
) -> str | None:
    """A log line for ``e``; None for events not worth a line. With ``specs`` prices are shown
    on the symbol's tick (see ``pricer``)."""
    p = pricer((specs or {}).get(getattr(e, "symbol", "")))
    if isinstance(e, ev.LeverageSet):
        return f"{e.symbol} leverage {fmt(e.leverage)}x {e.margin_mode}"
    if isinstance(e, ev.OrderAccepted):
        return _order(e, p)
    if isinstance(e, ev.OrderFilled):
        return _fill(e, p)
    if isinstance(e, ev.FundingPaid):
        return _funding(e, p)
    if isinstance(e, ev.PositionLiquidated):
        return _liquidated(e, p)
    if isinstance(e, ev.TradeClosed):
        return _trade(e, p)
    if isinstance(e, ev.OrderRejected):
        return f"{e.order_id} REJECTED {e.side} {fmt(e.contracts)} {e.symbol}: {e.reason}"
    if isinstance(e, ev.OrderDenied):
        return f"DENIED {e.symbol}: {e.reason}"
    if isinstance(e, ev.CommandRejected):
        return refused(e)
    if isinstance(e, ev.OrderCancelled):
        return f"{e.order_id} cancelled ({e.reason})"
    if isinstance(e, ev.OrderAmended):
        changes = [
            f"{name} {fmt(value) if name == 'contracts' else p(value)}"
            for name, value in (
                ("contracts", e.contracts), ("price", e.price), ("trigger", e.trigger_price)
            )
            if value is not None
        ]  # fmt: skip
        return f"{e.order_id} amended: {', '.join(changes)}"
    if isinstance(e, ev.OrderTriggered):
        return (
            f"{e.order_id} triggered: {e.trigger_source} {p(e.observed_price)} crossed "
            f"{p(e.trigger_price)}"
        )
    if isinstance(e, ev.OrderExpired):
        return f"{e.order_id} expired {e.reason}".strip()
    if isinstance(e, ev.WalletCredited):
        after = money(e.balance_after, e.currency)
        return f"wallet {e.reason}: {money(e.amount, e.currency)} → {after}"
    if isinstance(e, ev.PositionSettled):
        return f"settled {e.symbol} at {p(e.settle_price)}: {money(e.realized_pnl, e.currency)}"
    if isinstance(e, ev.FeedStale):
        return f"feed {e.symbol} {'STALE' if e.stale else 'back'} {e.reason}".strip()
    if isinstance(e, GuardLocked):
        return (
            f"LOCKED until {ts_text(e.until_ms)} UTC — take a break: {e.guard.replace('_', ' ')}"
            f", today {money(e.day_result, e.currency)}, trades today {e.trades_today}"
        )
    if isinstance(e, GuardUnlocked):
        return f"unlocked ({e.reason})"
    if isinstance(e, GuardWarned):
        return f"warning: {e.message}"
    return f"{e.kind} {e.symbol}".strip()


_REFUSED = {"CancelOrder": "cancel", "AmendOrder": "amend", "SetLeverage": "leverage change"}


def refused(e: ev.CommandRejected, what: str | None = None) -> str:
    """A refused command in trader words: 'margin mode change refused: <reason>'."""
    name = what or _REFUSED.get(e.command, e.command)
    target = e.order_id or e.symbol
    return f"{name} refused: {e.reason}" + ("" if target in e.reason else f" ({target})")
