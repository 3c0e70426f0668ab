"""Turn engine events into journal rows: the generic event log and the typed projections.

Every event is stored generically (kind + every dataclass field as JSON, Decimals tagged as exact
strings) so an event type or field added later is stored without a schema change. The important
kinds are also projected into typed tables for querying. A ``TradeClosed`` claims the orders,
fills, funding and liquidations of its account and symbol not yet claimed by an earlier trade:
that is how ``journal show`` finds the whole story of one trade.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, insert, text

from sim.engine import events as ev
from sim.engine.events import Event
from sim.errors import JournalError
from sim.journal.lean import Lean, RowBuffer
from sim.journal.payload import DECIMAL_TAG as DECIMAL_TAG  # re-exported: restore.py
from sim.journal.payload import encode_payload
from sim.journal.payload import encode_value as encode_value  # re-exported
from sim.journal.tables import (
    PROJECTED_TABLES,
    EquityRow,
    EventRow,
    FillRow,
    FundingRow,
    LiquidationRow,
    OrderRow,
    ProjectionColumns,
    TradeRow,
)

TABLES: dict[str, Table] = {
    "orders": OrderRow.__table__,  # type: ignore[attr-defined]
    "fills": FillRow.__table__,  # type: ignore[attr-defined]
    "funding": FundingRow.__table__,  # type: ignore[attr-defined]
    "liquidations": LiquidationRow.__table__,  # type: ignore[attr-defined]
    "equity": EquityRow.__table__,  # type: ignore[attr-defined]
}
EVENTS: Table = EventRow.__table__  # type: ignore[attr-defined]
TRADES: Table = TradeRow.__table__  # type: ignore[attr-defined]
BASE_FIELDS = ("seq", "ts_ms", "account", "venue", "symbol")


def event_row(event: Event, session_id: int | None) -> dict[str, Any]:
    return {
        "account": event.account,
        "seq": event.seq,
        "kind": type(event).__name__,
        "ts_ms": event.ts_ms,
        "venue": event.venue,
        "symbol": event.symbol,
        "payload": encode_payload(event),
        "session_id": session_id,
    }


def _base(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in BASE_FIELDS}


def _get(event: Event, names: Sequence[str]) -> dict[str, Any]:
    """The named attributes that the event has (missing ones are left to column defaults)."""
    return {n: getattr(event, n) for n in names if hasattr(event, n)}


# An order event's orders row: the OrderRow columns the event carries, read from the table model
# (one definition, not a copy): everything but the shared projection columns and what the
# writer sets itself (order_id, event word, trade attribution).
ORDER_FIELDS = tuple(
    name
    for name in OrderRow.model_fields
    if name not in ProjectionColumns.model_fields and name not in ("order_id", "event", "trade_id")
)
FILL_FIELDS = (
    "order_id",
    "side",
    "contracts",
    "price",
    "fee",
    "currency",
    "liquidity",
    "realized_pnl",
    "contract_size",
    "position_after",
    "wallet_after",
    "reason",
)
FUNDING_FIELDS = (
    "funding_time_ms",
    "rate",
    "mark_price",
    "contracts",
    "contract_size",
    "amount",
    "currency",
    "wallet_after",
)
LIQUIDATION_FIELDS = (
    "side",
    "contracts",
    "entry_price",
    "mark_price",
    "liquidation_price",
    "close_price",
    "margin_mode",
    "leverage",
    "tier",
    "mmr",
    "cum",
    "wallet_before",
    "loss",
    "fee",
    "currency",
    "rule",
)


def project(event: Event) -> list[tuple[str, dict[str, Any]]]:
    """Typed rows for one event (not TradeClosed): (table name, row)."""
    kind = type(event).__name__
    rows: list[tuple[str, dict[str, Any]]] = []
    order_event = ORDER_EVENTS.get(type(event))
    if isinstance(event, ev.OrderFilled):
        rows.append(("fills", _base(event) | _get(event, FILL_FIELDS)))
    elif order_event is not None and hasattr(event, "order_id"):
        row = _base(event) | {"order_id": event.order_id, "event": order_event}
        row |= {k: v for k, v in _get(event, ORDER_FIELDS).items() if v is not None}
        if isinstance(event, ev.CommandRejected):
            row["order_type"] = event.command  # which command was refused
        rows.append(("orders", row))
    elif isinstance(event, ev.FundingPaid):
        rows.append(("funding", _base(event) | _get(event, FUNDING_FIELDS)))
    elif isinstance(event, ev.PositionLiquidated):
        rows.append(("liquidations", _base(event) | _get(event, LIQUIDATION_FIELDS)))
    wallet = next(
        (
            getattr(event, n)
            for n in ("wallet_after", "balance_after", "wallet")
            if hasattr(event, n)
        ),
        None,
    )
    equity = getattr(event, "equity", None)
    if isinstance(wallet, Decimal) or isinstance(equity, Decimal):
        eq = {"wallet": wallet, "equity": equity, "currency": getattr(event, "currency", "")}
        rows.append(("equity", _base(event) | eq | {"source": kind}))
    return rows


def trade_row(event: Event) -> dict[str, Any]:
    """The trades row of a ``TradeClosed``; net P&L = realized − fees + funding."""
    e: Any = event
    return {
        "account": e.account,
        "trade_key": str(e.trade_id),
        "seq": e.seq,
        "venue": e.venue,
        "symbol": e.symbol,
        "side": e.side,
        "open_ts_ms": e.open_ts_ms,
        "close_ts_ms": e.ts_ms,
        "entry_price": e.entry_price,
        "exit_price": e.exit_price,
        "contracts": e.contracts,
        "contract_size": e.contract_size,
        "leverage": e.leverage,
        "margin_mode": e.margin_mode,
        "stop_at_entry": e.stop_at_entry,
        "risk_at_entry": e.risk_at_entry,
        "realized_pnl": e.realized_pnl,
        "fees": e.fees,
        "funding": e.funding,
        "net_pnl": e.realized_pnl - e.fees + e.funding,
        "currency": e.currency,
        "exit_reason": e.exit_reason,
        "tag": getattr(e, "tag", None),
    }


def _defaults(table: Table) -> dict[str, Any]:
    """Column → default value, so every row of one executemany has the same keys."""
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.primary_key:
            continue
        default = column.default
        out[column.name] = default.arg if default is not None and default.is_scalar else None
    return out


DEFAULTS = {name: _defaults(table) for name, table in TABLES.items()}


OWNER = text(
    "SELECT trade_id FROM orders WHERE account = :a AND order_id = :o "
    "AND trade_id IS NOT NULL LIMIT 1"
)
# An order's first event cannot belong to a closed trade yet; later ones may (a stop cancelled
# after its take-profit closed the trade), and stay with that trade.
# The events that make an orders row, typed (not by class-name strings), with the word stored
# in orders.event; the first three open an order's story, the rest find its trade.
ORDER_EVENTS: dict[type[Event], str] = {
    ev.OrderAccepted: "accepted",
    ev.OrderRejected: "rejected",
    ev.OrderDenied: "denied",
    ev.OrderAmended: "amended",
    ev.OrderTriggered: "triggered",
    ev.OrderCancelled: "cancelled",
    ev.OrderExpired: "expired",
    ev.CommandRejected: "command_rejected",
}
FIRST_ORDER_EVENTS = frozenset({"accepted", "rejected", "denied"})
# Rows of an account and symbol still unclaimed in the file all come from earlier batches, so
# they precede the TradeClosed being written. (A seq bound would make SQLite scan by seq.)
CLAIM = {
    name: text(
        f"UPDATE {name} SET trade_id = :t WHERE account = :a AND symbol = :s AND trade_id IS NULL"
    )
    for name in PROJECTED_TABLES
}


EVENT_COLUMNS = ("account", "seq", "kind", "ts_ms", "venue", "symbol", "payload", "session_id")
LEAN = {name: Lean(table, list(DEFAULTS[name]), DEFAULTS[name]) for name, table in TABLES.items()}
LEAN_EVENTS = Lean(EVENTS, EVENT_COLUMNS, {})


def row_buffer() -> RowBuffer:
    """An empty buffer for a group commit (event rows flushed first)."""
    return RowBuffer(LEAN_EVENTS)


def needs_reads(events: Sequence[Event]) -> bool:
    """True when writing ``events`` reads projected rows (a trade closing claims them, a
    later order event looks up its order's trade): the buffer must be flushed first."""
    for event in events:
        if isinstance(event, ev.TradeClosed):
            return True
        name = ORDER_EVENTS.get(type(event))
        if name is not None and hasattr(event, "order_id") and name not in FIRST_ORDER_EVENTS:
            return True
    return False


class _Projector:
    """Buffers one batch's projected rows and assigns each to its trade as trades close.

    Rows are inserted once at the end of the batch (one executemany per table); rows of earlier
    batches are claimed with one UPDATE per table the first time a symbol's trade closes here.
    """

    def __init__(self, conn: Connection, buffer: RowBuffer | None = None) -> None:
        self.conn = conn
        self.buffer = buffer
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.unclaimed: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.owners: dict[str, int] = {}
        self.db_claimed: set[str] = set()

    def add(self, event: Event) -> None:
        for name, row in project(event):
            if name in PROJECTED_TABLES:
                if name == "orders" and row["event"] not in FIRST_ORDER_EVENTS:
                    row["trade_id"] = self._owner(row)
                if row.get("trade_id") is None:
                    self.unclaimed[row["symbol"]].append(row)
            self.rows[name].append(row)

    def _owner(self, row: dict[str, Any]) -> int | None:
        if row["order_id"] in self.owners:
            return self.owners[row["order_id"]]
        found = self.conn.execute(OWNER, {"a": row["account"], "o": row["order_id"]}).first()
        return None if found is None else int(found[0])

    def close_trade(self, event: Event) -> None:
        result = self.conn.execute(insert(TRADES), trade_row(event))
        trade_id = int(result.inserted_primary_key[0])
        for row in self.unclaimed.pop(event.symbol, []):
            row["trade_id"] = trade_id
            if "event" in row:
                self.owners[row["order_id"]] = trade_id
        if event.symbol not in self.db_claimed:
            params = {"t": trade_id, "a": event.account, "s": event.symbol}
            for name in PROJECTED_TABLES:
                self.conn.execute(CLAIM[name], params)
            self.db_claimed.add(event.symbol)

    def flush(self, event_rows: list[dict[str, Any]], account: str) -> None:
        if self.buffer is None:
            LEAN_EVENTS.execute(self.conn, event_rows)
            for name, rows in self.rows.items():
                LEAN[name].execute(self.conn, rows)
            return
        built = {LEAN_EVENTS: LEAN_EVENTS.tuples(event_rows)}
        built |= {LEAN[name]: LEAN[name].tuples(rows) for name, rows in self.rows.items()}
        self.buffer.add(account, built)


def write_batch(
    conn: Connection,
    account: str,
    events: Sequence[Event],
    session_id: int | None,
    buffer: RowBuffer | None = None,
) -> list[Event]:
    """Insert the events of one batch not yet stored (by ``(account, seq)``) and their projections.

    Returns the events actually written; a retried batch writes nothing. Runs inside the
    caller's transaction. With a ``buffer`` (group commit) the rows are held there instead of
    inserted; the caller flushes it before ``needs_reads`` batches and before committing.
    """
    if not events:
        return []
    seqs = [e.seq for e in events]
    raw = conn.connection.driver_connection
    assert raw is not None
    lo, hi = min(seqs), max(seqs)
    found = raw.execute(
        "SELECT seq, kind, payload FROM events WHERE account = ? AND seq BETWEEN ? AND ?",
        (account, lo, hi),
    ).fetchall()
    stored = {int(r[0]): (r[1], r[2]) for r in found}
    if buffer is not None and account in buffer.events:
        pending = buffer.events[account]
        stored |= {s: pending[s] for s in seqs if s in pending}
    for e in events:
        if e.seq in stored and stored[e.seq] != (type(e).__name__, encode_payload(e)):
            raise JournalError(
                f"journal already holds account {account!r} seq {e.seq} as a different "
                f"{stored[e.seq][0]} (new: {type(e).__name__}); two runs are writing into one "
                "account; use another account name"
            )
    existing = set(stored)
    new = sorted((e for e in events if e.seq not in existing), key=lambda e: e.seq)
    if not new:
        return []
    projector = _Projector(conn, buffer)
    for event in new:
        if isinstance(event, ev.TradeClosed):
            projector.close_trade(event)
        else:
            projector.add(event)
    projector.flush([event_row(e, session_id) for e in new], account)
    return new


def write_appended(
    conn: Connection,
    account: str,
    events: Sequence[Event],
    snapshot: str | None,
    session_id: int | None,
    buffer: RowBuffer | None = None,
) -> int:
    """``Journal.append``'s body: the account row, the batch, the snapshot (JSON text).

    Plain ``sqlite3`` statements on the transaction's connection: this runs once per engine
    batch, and SQLAlchemy's per-statement work cost more than SQLite's.
    """
    raw = conn.connection.driver_connection
    assert raw is not None
    if events:
        raw.execute(
            "INSERT OR IGNORE INTO accounts (name, venue, currency, created_ms) "
            "VALUES (?, ?, '', ?)",
            (account, events[0].venue, int(time.time() * 1000)),
        )
    written = write_batch(conn, account, events, session_id, buffer)
    if snapshot is not None:
        store_snapshot(conn, account, events, snapshot)
    return len(written)


def store_snapshot(
    conn: Connection,
    account: str,
    events: Sequence[Event],
    snapshot: str,
    at: tuple[int, int] | None = None,
) -> None:
    """Upsert the account's snapshot (JSON text) as of ``events`` (or ``at`` = (seq, ts_ms))."""
    raw = conn.connection.driver_connection
    assert raw is not None
    if at is not None:
        seq, ts_ms = at
    elif events:
        seq, ts_ms = max(e.seq for e in events), max(e.ts_ms for e in events)
    else:
        row = raw.execute(
            "SELECT COALESCE(MAX(seq), 0), COALESCE(MAX(ts_ms), 0) FROM events WHERE account = ?",
            (account,),
        ).fetchone()
        seq, ts_ms = int(row[0]), int(row[1])
    raw.execute(
        "INSERT INTO snapshots (account, seq, ts_ms, data, written_ms) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT(account) DO UPDATE SET "
        "seq = excluded.seq, ts_ms = excluded.ts_ms, data = excluded.data, "
        "written_ms = excluded.written_ms WHERE excluded.seq >= snapshots.seq",
        (account, seq, ts_ms, snapshot, int(time.time() * 1000)),
    )
