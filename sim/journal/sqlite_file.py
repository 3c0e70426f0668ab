"""The journal's SQLite file: inspected read-only before use, then opened in WAL mode.

Durability: WAL mode with ``synchronous=FULL``, one ``BEGIN IMMEDIATE`` transaction per batch.
A commit returns only after its WAL frames are fsynced, so neither a SIGKILL (which never loses
what the OS holds) nor a power cut loses a committed batch; an uncommitted one vanishes whole.
``NORMAL`` would survive SIGKILL too but may drop the last commits on power loss, so FULL it is.

Safety: a file that is not SQLite, is corrupt, belongs to another program (SQLite with its own
tables) or was written by a newer microfut raises ``JournalError`` before anything writes to it;
it is inspected through a read-only connection first (header, ``PRAGMA quick_check``, tables,
schema version) that leaves no ``-wal``/``-shm`` beside a refused file. A new journal is created
only where no file (or an empty one) exists.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import text as sql

from sim.journal.file_checks import BUSY_TIMEOUT_MS, explain, inspect_file

__all__ = ["explain", "inspect_file", "make_engine", "sql_has_table"]


def sql_has_table(conn: Connection, name: str) -> bool:
    """True when the file already holds table ``name``."""
    found = conn.execute(
        sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"), {"n": name}
    )
    return found.first() is not None


def make_engine(path: Path) -> Engine:
    """An engine whose connections run WAL, FULL sync, foreign keys and BEGIN IMMEDIATE."""
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_con: Any, _record: Any) -> None:
        # Transactions are ours (BEGIN IMMEDIATE below), not the sqlite3 module's lazy ones.
        dbapi_con.isolation_level = None
        cur = dbapi_con.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"attempt to write a readonly database ({mode})")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
