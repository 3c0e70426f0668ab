"""Journal → pandas DataFrames for the review; money columns stay exact Decimal objects.

Rows are read through the sqlmodel tables, so Decimal columns arrive as ``Decimal`` (statistics
on them are exact); ``opened``/``closed`` are UTC timestamps for grouping and display only.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import String, Table, func, select, type_coerce

from sim.journal.at_open import COLUMNS as AT_OPEN_COLUMNS
from sim.journal.at_open import at_open
from sim.journal.restore import decode_event
from sim.journal.store import Journal
from sim.journal.tables import (
    AccountRow,
    DecimalText,
    EventRow,
    FillRow,
    FundingRow,
    LiquidationRow,
    NoteRow,
    OrderRow,
    TagRow,
    TradeRow,
)

TRADES: Table = TradeRow.__table__  # type: ignore[attr-defined]
FILLS: Table = FillRow.__table__  # type: ignore[attr-defined]
FUNDING: Table = FundingRow.__table__  # type: ignore[attr-defined]
ORDERS: Table = OrderRow.__table__  # type: ignore[attr-defined]
LIQUIDATIONS: Table = LiquidationRow.__table__  # type: ignore[attr-defined]
NOTES: Table = NoteRow.__table__  # type: ignore[attr-defined]
TAGS: Table = TagRow.__table__  # type: ignore[attr-defined]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[attr-defined]
EVENTS: Table = EventRow.__table__  # type: ignore[attr-defined]


def _raw(table: Table) -> Any:
    """SELECT of every column with Decimal columns left as text (converted in bulk later)."""
    return select(
        *(
            type_coerce(c, String).label(c.name) if isinstance(c.type, DecimalText) else c
            for c in table.columns
        )
    )


def _frame(journal: Journal, table: Table, stmt: Any) -> pd.DataFrame:
    rows = journal.query(stmt)
    # object dtype keeps Decimals, None and ints as they are (no NaN, no inferred strings)
    frame = pd.DataFrame(
        [tuple(r) for r in rows], columns=[c.name for c in table.columns], dtype=object
    )
    for c in table.columns:
        if isinstance(c.type, DecimalText):
            frame[c.name] = [None if v is None else Decimal(v) for v in frame[c.name]]
    return frame


def _where(
    table: Table,
    stmt: Any,
    account: str | None,
    symbol: str | None,
    since_ms: int | None,
    until_ms: int | None,
    ts: str,
) -> Any:
    if account:
        stmt = stmt.where(table.c.account == account)
    if symbol:
        stmt = stmt.where(table.c.symbol == symbol)
    if since_ms is not None:
        stmt = stmt.where(table.c[ts] >= since_ms)
    if until_ms is not None:
        stmt = stmt.where(table.c[ts] < until_ms)
    return stmt


def user_tags(journal: Journal) -> dict[int, list[str]]:
    """User tags by journal trade number."""
    out: dict[int, list[str]] = defaultdict(list)
    for trade_id, tag in journal.query(select(TAGS.c.trade_id, TAGS.c.tag).order_by(TAGS.c.id)):
        out[int(trade_id)].append(tag)
    return out


def _utc(ms: pd.Series) -> pd.Series:
    return pd.to_datetime(ms.astype("int64"), unit="ms", utc=True)


def trades_frame(
    journal: Journal,
    account: str | None = None,
    symbol: str | None = None,
    tag: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> pd.DataFrame:
    """Closed trades in close order, filtered by account, symbol, tag and close time [since, until).

    ``tags`` holds the engine's tag (set when the order was placed) plus the user's tags.
    A scaled trade reconciles through the columns of :func:`_at_open`: ``contracts`` is the
    largest size held, ``size_traded`` all contracts bought (long) or sold (short) into it;
    ``risk_at_open``/``leverage_at_open`` are those of its first fill (the engine's
    ``risk_at_entry`` uses the final average entry and ``leverage`` the last leverage).
    """
    stmt = _where(TRADES, _raw(TRADES), account, symbol, since_ms, until_ms, "close_ts_ms")
    frame = _frame(journal, TRADES, stmt.order_by(TRADES.c.close_ts_ms, TRADES.c.id))
    extra = user_tags(journal)
    frame["tags"] = [
        ([t] if t else []) + [u for u in extra.get(int(i), []) if u != t]
        for i, t in zip(frame["id"], frame["tag"], strict=True)
    ]
    if tag:
        frame = frame[[tag in tags for tags in frame["tags"]]].reset_index(drop=True)
    _at_open(journal, frame)
    frame["opened"] = _utc(frame["open_ts_ms"]) if len(frame) else pd.Series(dtype=object)
    frame["closed"] = _utc(frame["close_ts_ms"]) if len(frame) else pd.Series(dtype=object)
    return frame


LEVERAGE_SETS = ("LeverageSet",)


def _leverage_changes(journal: Journal, accounts: set[str]) -> dict[tuple[str, str], list]:
    """(account, symbol) → [(seq, leverage)] of every leverage change, in seq order."""
    out: dict[tuple[str, str], list[tuple[int, Decimal]]] = defaultdict(list)
    lev = func.json_extract(EVENTS.c.payload, '$.leverage."$d"')
    rows = journal.query(
        select(EVENTS.c.account, EVENTS.c.symbol, EVENTS.c.seq, type_coerce(lev, String))
        .where(EVENTS.c.kind.in_(LEVERAGE_SETS), EVENTS.c.account.in_(sorted(accounts)))
        .order_by(EVENTS.c.seq)
    )
    lev_text = type_coerce(ORDERS.c.leverage, String)
    orders = journal.query(
        select(ORDERS.c.account, ORDERS.c.symbol, ORDERS.c.seq, lev_text).where(
            ORDERS.c.event == "accepted",
            ORDERS.c.leverage.is_not(None),
            ORDERS.c.account.in_(sorted(accounts)),
        )
    )
    for account, symbol, seq, value in [*rows, *orders]:  # an order's own `lev` sets it too
        out[(account, symbol)].append((int(seq), Decimal(str(value))))
    for changes in out.values():
        changes.sort()
    return out


def _at_open(journal: Journal, frame: pd.DataFrame) -> None:
    """Add the reconciling columns of each trade (``sim/journal/at_open.py``), from its fills
    in seq order."""
    cols = AT_OPEN_COLUMNS
    if not len(frame):
        for c in cols:
            frame[c] = pd.Series(dtype=object)
        return
    ids = [int(i) for i in frame["id"]]
    fills: dict[int, list[tuple[int, str, Decimal, Decimal]]] = defaultdict(list)
    stmt = (
        select(FILLS.c.trade_id, FILLS.c.seq, FILLS.c.side,
               type_coerce(FILLS.c.contracts, String), type_coerce(FILLS.c.price, String))
        .where(FILLS.c.trade_id.in_(ids))
        .order_by(FILLS.c.seq)
    )  # fmt: skip
    for trade_id, seq, side, qty, price in journal.query(stmt):
        fills[int(trade_id)].append((int(seq), side, Decimal(qty), Decimal(price)))
    changes = _leverage_changes(journal, set(frame["account"]))
    out: dict[str, list[Any]] = {c: [] for c in cols}
    for row in frame.to_dict("records"):
        history = changes.get((row["account"], row["symbol"]), [])
        for c, v in at_open(row, fills.get(int(row["id"]), []), history).items():
            out[c].append(v)
    for c in cols:
        frame[c] = out[c]


def table_frame(
    journal: Journal,
    name: str,
    account: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> pd.DataFrame:
    """Fills, funding, orders or liquidations, in seq order per account."""
    table = {"fills": FILLS, "funding": FUNDING, "orders": ORDERS, "liquidations": LIQUIDATIONS}[
        name
    ]
    stmt = _where(table, _raw(table), account, None, since_ms, until_ms, "ts_ms")
    return _frame(journal, table, stmt.order_by(table.c.account, table.c.seq))


def starting_balances(journal: Journal) -> dict[str, Any]:
    """Opening balance of each account: the stored one, else its first deposit's balance.

    A runner may register the account before depositing (stored balance 0); the first
    ``WalletCredited`` then says what the account really started with.
    """
    out: dict[str, Any] = {}
    for name, balance in journal.query(select(ACCOUNTS.c.name, ACCOUNTS.c.starting_balance)):
        out[name] = balance
        if not balance:
            first = journal.query(
                select(EVENTS.c.kind, EVENTS.c.payload)
                .where(EVENTS.c.account == name, EVENTS.c.kind == "WalletCredited")
                .order_by(EVENTS.c.seq)
                .limit(1)
            )
            if first:
                out[name] = decode_event(first[0][0], first[0][1]).balance_after  # type: ignore[attr-defined]
    return out


def guard_times(journal: Journal, account: str) -> tuple[list[int], list[tuple[int, str]]]:
    """Journal seqs of daily-loss locks (``GuardLocked`` events), and of guard denials + guard.

    Seqs, not timestamps: a paused replay stamps many events with one instant, and only the
    event order says whether a trade was opened after a lock (compare with ``open_seq``).
    """
    guard = func.json_extract(EVENTS.c.payload, "$.guard")
    locks = journal.query(
        select(EVENTS.c.seq)
        .where(EVENTS.c.account == account, EVENTS.c.kind == "GuardLocked", guard.like("%loss%"))
        .order_by(EVENTS.c.seq)
    )
    denied = journal.query(
        select(ORDERS.c.seq, ORDERS.c.guard)
        .where(ORDERS.c.account == account, ORDERS.c.event == "denied")
        .order_by(ORDERS.c.seq)
    )
    return [int(r[0]) for r in locks], [(int(r[0]), str(r[1])) for r in denied]


def _records(journal: Journal, table: Table, stmt: Any) -> list[dict[str, Any]]:
    return [dict(zip([c.name for c in table.columns], r, strict=True)) for r in journal.query(stmt)]


def trade_story(journal: Journal, ref: int | str) -> dict[str, Any]:
    """Everything about one trade: the row, its orders, fills, funding, liquidation and notes.

    Orders are those claimed by the trade plus later events of the same orders (e.g. the stop
    cancelled once the take-profit closed the position).
    """
    trade_id = journal.resolve_trade(ref)
    trade = _records(journal, TRADES, select(TRADES).where(TRADES.c.id == trade_id))[0]
    fills = _records(
        journal, FILLS, select(FILLS).where(FILLS.c.trade_id == trade_id).order_by(FILLS.c.seq)
    )
    claimed = _records(
        journal, ORDERS, select(ORDERS).where(ORDERS.c.trade_id == trade_id).order_by(ORDERS.c.seq)
    )
    order_ids = {o["order_id"] for o in claimed} | {f["order_id"] for f in fills}
    later = _records(
        journal,
        ORDERS,
        select(ORDERS).where(
            ORDERS.c.account == trade["account"],
            ORDERS.c.order_id.in_(sorted(order_ids)),
            ORDERS.c.trade_id.is_not(trade_id) | ORDERS.c.trade_id.is_(None),
            ORDERS.c.seq > trade["seq"],
            ORDERS.c.ts_ms == trade["close_ts_ms"],  # at the close, not hours later
        ),
    )
    open_seq = min((f["seq"] for f in fills), default=trade["seq"])
    lev = func.json_extract(EVENTS.c.payload, '$.leverage."$d"')
    mode = func.json_extract(EVENTS.c.payload, "$.margin_mode")
    leverage = [
        {"seq": int(r[0]), "ts_ms": int(r[1]), "leverage": Decimal(str(r[2])), "margin_mode": r[3]}
        for r in journal.query(
            select(EVENTS.c.seq, EVENTS.c.ts_ms, type_coerce(lev, String), mode)
            .where(EVENTS.c.account == trade["account"], EVENTS.c.symbol == trade["symbol"],
                   EVENTS.c.kind.in_(LEVERAGE_SETS), EVENTS.c.seq > open_seq,
                   EVENTS.c.seq < trade["seq"])
            .order_by(EVENTS.c.seq)
        )
    ]  # fmt: skip
    frame = trades_frame(journal, trade["account"], trade["symbol"])
    at_open = frame[frame["id"] == trade_id].to_dict("records")
    reconcile = {
        k: at_open[0][k]
        for k in ("open_seq", "entry_at_open", "contracts_at_open", "size_traded",
                  "risk_at_open", "leverage_at_open")
    } if at_open else {}  # fmt: skip
    notes = journal.query(
        select(NOTES.c.id, NOTES.c.written_ms, NOTES.c.text)
        .where(NOTES.c.trade_id == trade_id)
        .order_by(NOTES.c.id)
    )
    return {
        "trade": trade | reconcile,
        "leverage_changes": leverage,
        "tags": ([trade["tag"]] if trade["tag"] else []) + user_tags(journal).get(trade_id, []),
        "orders": sorted(claimed + later, key=lambda o: o["seq"]),
        "fills": fills,
        "funding": _records(
            journal, FUNDING, select(FUNDING).where(FUNDING.c.trade_id == trade_id)
        ),
        "liquidations": _records(
            journal, LIQUIDATIONS, select(LIQUIDATIONS).where(LIQUIDATIONS.c.trade_id == trade_id)
        ),
        "notes": [{"id": n[0], "written_ms": n[1], "text": n[2]} for n in notes],
    }
