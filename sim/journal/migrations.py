"""Schema versions of the journal and the ordered migrations that bring an older file up to date.

A new journal is created from the table models in ``tables.py`` and stamped with every version.
An existing one records its versions in ``schema_version``; each missing migration runs in its own
transaction with its version row, so a crash mid-upgrade leaves the file at the previous version.
Migration SQL is frozen text: it describes the change as it was made, never today's models.

History:
    v1  first schema: accounts, sessions, events, snapshots, orders, fills, trades, funding,
        liquidations, equity, trade_notes (one engine tag per trade, in trades.tag)
    v2  user tags: table trade_tags (several tags per trade, ``microfut journal tag``)
    v3  events.session_id: which run wrote each event
    v4  orders indexed by (account, order_id) instead of order_id alone (writes were quadratic)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlmodel import SQLModel

from sim.errors import JournalError
from sim.journal.tables import APP_ID


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _v2_trade_tags(conn: Connection) -> None:
    conn.execute(
        text(
            "CREATE TABLE trade_tags (id INTEGER NOT NULL, trade_id INTEGER NOT NULL, "
            "tag VARCHAR NOT NULL, written_ms INTEGER NOT NULL, PRIMARY KEY (id), "
            "CONSTRAINT uq_trade_tags UNIQUE (trade_id, tag), "
            "FOREIGN KEY(trade_id) REFERENCES trades (id))"
        )
    )
    conn.execute(text("CREATE INDEX ix_trade_tags_trade_id ON trade_tags (trade_id)"))
    conn.execute(text("CREATE INDEX ix_trade_tags_tag ON trade_tags (tag)"))


def _v3_event_session(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE events ADD COLUMN session_id INTEGER"))


def _v4_order_index(conn: Connection) -> None:
    conn.execute(text("DROP INDEX IF EXISTS ix_orders_order_id"))
    conn.execute(text("CREATE INDEX ix_orders_account_order ON orders (account, order_id)"))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "first schema", lambda conn: None),  # v1 files exist already; nothing to run
    Migration(2, "trade_tags table", _v2_trade_tags),
    Migration(3, "events.session_id column", _v3_event_session),
    Migration(4, "orders index on (account, order_id)", _v4_order_index),
)
LATEST = MIGRATIONS[-1].version


def _now_ms() -> int:
    return int(time.time() * 1000)


def _stamp(conn: Connection, migration: Migration) -> None:
    conn.execute(
        text(
            "INSERT INTO schema_version (version, app, applied_ms, description) "
            "VALUES (:v, :app, :ms, :d)"
        ),
        {"v": migration.version, "app": APP_ID, "ms": _now_ms(), "d": migration.description},
    )


def create_fresh(conn: Connection) -> None:
    """Create every table of the current models in an empty file and stamp all versions."""
    SQLModel.metadata.create_all(conn)
    for migration in MIGRATIONS:
        _stamp(conn, migration)


def current_version(conn: Connection) -> int:
    """The highest version recorded in the file (0 when none)."""
    row = conn.execute(text("SELECT MAX(version) FROM schema_version")).one()
    return int(row[0] or 0)


def pending(version: int, path: object) -> list[Migration]:
    """Migrations a file at ``version`` still needs; a newer file than this code is refused."""
    if version > LATEST:
        raise JournalError(
            f"journal {path} has schema v{version}, newer than this microfut (v{LATEST}); "
            "upgrade microfut to open it"
        )
    return [m for m in MIGRATIONS if m.version > version]


def apply(conn: Connection, migration: Migration) -> None:
    """Run one migration and record it (the caller owns the transaction)."""
    migration.apply(conn)
    _stamp(conn, migration)
