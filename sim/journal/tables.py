"""The journal's SQLite tables (sqlmodel): the generic event log plus typed projections.

Table models only: engine dataclasses never inherit from them; ``writer.py`` converts. Every
money or quantity column is ``DecimalText``: SQLite has no decimal type and a REAL column would
round through float, so Decimals are stored as their exact string and come back as ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Index, String, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from sim.errors import InvariantError
from sim.journal.file_checks import APP_ID  # one definition, shared with the quick reader


class DecimalText(TypeDecorator[Decimal]):
    """Decimal stored as TEXT (``str(Decimal)``), read back as the identical Decimal."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise InvariantError(f"float {value!r} sent to a Decimal journal column")
        return str(value if isinstance(value, Decimal) else Decimal(value))

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


def _dec(nullable: bool = True) -> Any:
    """A Decimal-as-text column."""
    return Field(default=None, sa_column=Column(DecimalText(), nullable=nullable))


class SchemaVersion(SQLModel, table=True):
    """One row per applied schema version; ``app`` marks the file as a microfut journal."""

    __tablename__ = "schema_version"
    version: int = Field(primary_key=True)
    app: str = APP_ID
    applied_ms: int
    description: str = ""


class AccountRow(SQLModel, table=True):
    __tablename__ = "accounts"
    name: str = Field(primary_key=True)
    venue: str = ""
    currency: str = ""
    starting_balance: Decimal | None = _dec()
    created_ms: int = 0


class SessionRow(SQLModel, table=True):
    """One run of the runner (replay, demo, live paper) against an account."""

    __tablename__ = "sessions"
    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(index=True)
    kind: str
    params: str = "{}"  # JSON
    started_ms: int


class EventRow(SQLModel, table=True):
    """Every engine event, generically: kind + all dataclass fields as JSON (Decimals as text)."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("account", "seq", name="uq_events_account_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    account: str
    seq: int
    kind: str = Field(index=True)
    ts_ms: int
    venue: str = ""
    symbol: str = ""
    payload: str  # JSON
    session_id: int | None = None


class SnapshotRow(SQLModel, table=True):
    """The latest account snapshot, written in the same transaction as its events."""

    __tablename__ = "snapshots"
    account: str = Field(primary_key=True)
    seq: int  # highest event seq the snapshot includes
    ts_ms: int
    data: str  # JSON from Account.snapshot()
    written_ms: int


class ProjectionColumns(SQLModel):
    """The leading columns of every per-event projection: row id, account, seq, time, market."""

    id: int | None = Field(default=None, primary_key=True)
    account: str
    seq: int
    ts_ms: int
    venue: str = ""
    symbol: str = ""


def _projection_args(table: str) -> tuple[UniqueConstraint | Index, ...]:
    """One row per (account, seq); attribution looks rows up by (account, symbol, trade_id)."""
    return (
        UniqueConstraint("account", "seq", name=f"uq_{table}_account_seq"),
        Index(f"ix_{table}_attr", "account", "symbol", "trade_id"),
    )


class OrderRow(ProjectionColumns, table=True):
    """One order event: accepted, rejected, denied, cancelled, expired, triggered or amended."""

    __tablename__ = "orders"
    __table_args__ = (
        *_projection_args("orders"),
        Index("ix_orders_account_order", "account", "order_id"),
    )
    order_id: str
    event: str  # accepted | rejected | denied | cancelled | expired | triggered | amended
    side: str = ""
    order_type: str = ""
    contracts: Decimal | None = _dec()
    price: Decimal | None = _dec()
    trigger_price: Decimal | None = _dec()
    stop_loss: Decimal | None = _dec()
    take_profit: Decimal | None = _dec()
    leverage: Decimal | None = _dec()
    reduce_only: bool = False
    reason: str = ""
    guard: str = ""
    tag: str | None = None
    trade_id: int | None = None


class FillRow(ProjectionColumns, table=True):
    __tablename__ = "fills"
    __table_args__ = _projection_args("fills")
    order_id: str
    side: str
    contracts: Decimal | None = _dec(False)
    price: Decimal | None = _dec(False)
    fee: Decimal | None = _dec(False)
    currency: str
    liquidity: str  # maker | taker
    realized_pnl: Decimal | None = _dec(False)
    contract_size: Decimal | None = _dec(False)
    position_after: Decimal | None = _dec(False)
    wallet_after: Decimal | None = _dec(False)
    reason: str = "order"
    trade_id: int | None = None


class TradeRow(SQLModel, table=True):
    """A round trip from ``TradeClosed``; ``contract_size`` is the contract multiplier."""

    __tablename__ = "trades"
    __table_args__ = (UniqueConstraint("account", "trade_key", name="uq_trades_account_key"),)
    id: int | None = Field(default=None, primary_key=True)
    account: str
    trade_key: str  # the engine's trade_id
    seq: int
    venue: str = ""
    symbol: str = ""
    side: str
    open_ts_ms: int
    close_ts_ms: int = Field(index=True)
    entry_price: Decimal | None = _dec(False)
    exit_price: Decimal | None = _dec(False)
    contracts: Decimal | None = _dec(False)
    contract_size: Decimal | None = _dec(False)
    leverage: Decimal | None = _dec(False)
    margin_mode: str
    stop_at_entry: Decimal | None = _dec()
    risk_at_entry: Decimal | None = _dec()
    realized_pnl: Decimal | None = _dec(False)
    fees: Decimal | None = _dec(False)
    funding: Decimal | None = _dec(False)
    net_pnl: Decimal | None = _dec(False)
    currency: str
    exit_reason: str
    tag: str | None = None


class FundingRow(ProjectionColumns, table=True):
    __tablename__ = "funding"
    __table_args__ = _projection_args("funding")
    funding_time_ms: int
    rate: Decimal | None = _dec(False)
    mark_price: Decimal | None = _dec(False)
    contracts: Decimal | None = _dec(False)
    contract_size: Decimal | None = _dec(False)
    amount: Decimal | None = _dec(False)
    currency: str
    wallet_after: Decimal | None = _dec(False)
    trade_id: int | None = None


class LiquidationRow(ProjectionColumns, table=True):
    """A liquidation with the inputs of the venue formula that fired."""

    __tablename__ = "liquidations"
    __table_args__ = _projection_args("liquidations")
    side: str
    contracts: Decimal | None = _dec(False)
    entry_price: Decimal | None = _dec(False)
    mark_price: Decimal | None = _dec(False)
    liquidation_price: Decimal | None = _dec(False)
    close_price: Decimal | None = _dec(False)
    margin_mode: str
    leverage: Decimal | None = _dec(False)
    tier: int
    mmr: Decimal | None = _dec(False)
    cum: Decimal | None = _dec(False)
    wallet_before: Decimal | None = _dec(False)
    loss: Decimal | None = _dec(False)
    fee: Decimal | None = _dec(False)
    currency: str
    rule: str
    trade_id: int | None = None


class EquityRow(SQLModel, table=True):
    """Wallet (and equity when the event carries it) after each event that moves money."""

    __tablename__ = "equity"
    __table_args__ = (UniqueConstraint("account", "seq", name="uq_equity_account_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    account: str
    seq: int
    ts_ms: int
    wallet: Decimal | None = _dec()
    equity: Decimal | None = _dec()
    currency: str = ""
    source: str  # event kind


class NoteRow(SQLModel, table=True):
    __tablename__ = "trade_notes"
    id: int | None = Field(default=None, primary_key=True)
    trade_id: int = Field(foreign_key="trades.id", index=True)
    written_ms: int
    text: str


class TagRow(SQLModel, table=True):
    """User tags on a trade (added in schema v2; v1 had only the engine's tag column)."""

    __tablename__ = "trade_tags"
    __table_args__ = (UniqueConstraint("trade_id", "tag", name="uq_trade_tags"),)
    id: int | None = Field(default=None, primary_key=True)
    trade_id: int = Field(foreign_key="trades.id", index=True)
    tag: str = Field(index=True)
    written_ms: int


PROJECTED_TABLES = ("orders", "fills", "funding", "liquidations")
