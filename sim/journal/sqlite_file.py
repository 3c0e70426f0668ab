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

from sim.errors import JournalError
from sim.journal.tables import APP_ID

SQLITE_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


def explain(path: Path, exc: BaseException) -> JournalError:
    """One-line JournalError for a SQLite failure on ``path``."""
    msg = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    low = msg.lower()
    if "readonly" in low or "read-only" in low:
        return JournalError(
            f"journal {path} is read-only; make it writable or pass --db to another file"
        )
    if "locked" in low or "busy" in low:
        return JournalError(f"journal {path} is locked by another process; stop it and retry")
    if "full" in low:
        return JournalError(
            f"disk full writing journal {path}; free space and retry (committed batches are kept)"
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return JournalError(
            f"journal {path} is corrupt ({msg}); move it aside or pass --db to another file"
        )
    if "unable to open" in low:
        return JournalError(f"journal {path} cannot be opened ({msg}); check the folder exists")
    return JournalError(f"journal {path}: {msg}")


def inspect_file(path: Path) -> int | None:
    """Schema version of the microfut journal at ``path``; None when a new one may be created.

    Reads only (header bytes, then a read-only connection); raises JournalError for anything
    that is not a microfut journal, so such a file is never modified.
    """
    if not path.exists():
        return None
    if path.is_dir():
        raise JournalError(f"journal path {path} is a folder; pass --db with a file name")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as e:
        raise JournalError(f"journal {path} cannot be read: {e.strerror}") from None
    if head == b"":
        return None
    if head != SQLITE_MAGIC:
        raise JournalError(
            f"{path} is not a microfut journal (not an SQLite file); pass --db to another file"
        )
    try:
        con = _connect_read_only(path)
        try:
            _check_integrity(con, path)
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            if not tables:
                return None
            if "schema_version" not in tables:
                raise JournalError(
                    f"{path} is an SQLite file of another program (tables: "
                    f"{', '.join(sorted(tables)[:5])}); pass --db to another file"
                )
            apps = {r[0] for r in con.execute("SELECT DISTINCT app FROM schema_version")}
            version = con.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error as e:
        raise explain(path, e) from None
    if apps != {APP_ID} or version is None:
        raise JournalError(f"{path} is an SQLite file of another program; pass --db elsewhere")
    return int(version)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write ``path`` nor leave files beside it.

    A read-only connection to a WAL file still creates ``-wal``/``-shm`` when they are absent, so
    a file without a ``-wal`` (closed cleanly: no writer has it open) is opened ``immutable``.
    With a ``-wal`` present (a writer is running, or one was killed) the WAL's frames are part
    of the journal, so it is read through the usual locks; those files were there already.
    """
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        return sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True)


def _check_integrity(con: sqlite3.Connection, path: Path) -> None:
    """``PRAGMA quick_check`` (every page's b-tree structure, not index contents): a damaged
    journal is refused before anything writes to it, so it is never modified."""
    rows = [str(r[0]) for r in con.execute("PRAGMA quick_check(1)")]
    if rows != ["ok"]:
        detail = " ".join(" ".join(rows).replace("*** in database main ***", "").split())
        raise JournalError(
            f"journal {path} is corrupt ({detail or 'integrity check failed'}); "
            "it was not modified: move it aside or pass --db to another file"
        )


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
