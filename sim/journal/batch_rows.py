"""Group commit's lean road: a batch's rows built straight into the row buffer, no SQL.

A batch whose events neither close a trade nor look up an order's trade reads nothing and
claims nothing, so its rows are final when built. Each event type gets compiled row builders
giving the tuples ``writer.project`` + ``Lean.tuples`` give (the same rows, tested), so no
per-row dict is made; anything else goes through ``writer.write_batch``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sim.engine import events as ev
from sim.engine.events import Event
from sim.journal.lean import Const, Lean, RowBuffer, compile_row
from sim.journal.writer import (
    BASE_FIELDS,
    FILL_FIELDS,
    FIRST_ORDER_EVENTS,
    FUNDING_FIELDS,
    LEAN,
    LEAN_EVENTS,
    LIQUIDATION_FIELDS,
    ORDER_EVENTS,
    ORDER_FIELDS,
    encode_payload,
)

Keep = Callable[[Event], bool] | None
RowPlan = list[tuple[Lean, Callable[[Event], tuple[Any, ...]], Keep]]
WALLET_FIELDS = ("wallet_after", "balance_after", "wallet")  # project's order of preference
_PLANS: dict[type, RowPlan | None] = {}


def row_plan(kind: type) -> RowPlan | None:
    """The compiled rows of one event type, or None when its rows need reads."""
    if kind not in _PLANS:
        _PLANS[kind] = _plan(kind)
    return _PLANS[kind]


def _plan(kind: type) -> RowPlan | None:
    def attrs(names: Sequence[str]) -> dict[str, str | Const]:
        return {n: n for n in (*BASE_FIELDS, *names) if hasattr(kind, n)}

    order_event = ORDER_EVENTS.get(kind)
    tables: list[tuple[str, dict[str, str | Const], Keep]] = []
    if issubclass(kind, ev.TradeClosed):
        return None
    if issubclass(kind, ev.OrderFilled):
        tables.append(("fills", attrs(FILL_FIELDS), None))
    elif order_event is not None and hasattr(kind, "order_id"):
        if order_event not in FIRST_ORDER_EVENTS or issubclass(kind, ev.CommandRejected):
            return None  # finds its order's trade (or names its command): the full road
        src = attrs(("order_id", *ORDER_FIELDS)) | {"event": Const(order_event)}
        tables.append(("orders", src, None))
    elif issubclass(kind, ev.FundingPaid):
        tables.append(("funding", attrs(FUNDING_FIELDS), None))
    elif issubclass(kind, ev.PositionLiquidated):
        tables.append(("liquidations", attrs(LIQUIDATION_FIELDS), None))
    wallet = next((n for n in WALLET_FIELDS if hasattr(kind, n)), None)
    equity = "equity" if hasattr(kind, "equity") else None
    if wallet or equity:
        src = attrs(()) | {"source": Const(kind.__name__)}
        src["currency"] = "currency" if hasattr(kind, "currency") else Const("")
        src |= {k: v for k, v in (("wallet", wallet), ("equity", equity)) if v}
        tables.append(("equity", src, _has_money([n for n in (wallet, equity) if n])))
    return [(LEAN[name], compile_row(LEAN[name], src), keep) for name, src, keep in tables]


def _has_money(names: list[str]) -> Keep:
    """``project``'s test for an equity row: the wallet or the equity is a Decimal."""
    return lambda e: any(isinstance(getattr(e, n), Decimal) for n in names)


def buffer_rows(
    account: str, events: Sequence[Event], session_id: int | None, buffer: RowBuffer
) -> bool:
    """Build a batch's rows into ``buffer`` (all or, on an error, none); False (nothing added)
    when an event needs the full road. The caller knows none of the seqs is stored yet."""
    plans = [row_plan(type(e)) for e in events]
    if any(p is None for p in plans):
        return False
    rows: dict[Lean, list[tuple[Any, ...]]] = {LEAN_EVENTS: []}
    event_rows = rows[LEAN_EVENTS]
    for e, plan in zip(events, plans, strict=True):
        payload = encode_payload(e)
        kind = type(e).__name__
        event_rows.append((e.account, e.seq, kind, e.ts_ms, e.venue, e.symbol, payload, session_id))
        for lean, build, keep in plan or ():
            if keep is None or keep(e):
                rows.setdefault(lean, []).append(build(e))
    buffer.add(account, rows)
    return True
