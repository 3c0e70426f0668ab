"""Read-only checks of a journal file before anything opens it for writing (stdlib only).

Shared by the full journal (``sqlite_file.py``, SQLAlchemy) and the quick reader
(``reader.py``, sqlite3), so `journal list` on a damaged file is refused on either road and the
file is never modified: header, ``PRAGMA quick_check``, tables and schema version are read
through a connection that leaves no ``-wal``/``-shm`` beside a refused file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sim.errors import JournalError

APP_ID = "microfut"  # schema_version.app of a microfut journal (tables.py defines the table)
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
        con = connect_read_only(path)
        try:
            check_integrity(con, path)
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


def connect_read_only(path: Path) -> sqlite3.Connection:
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


def check_integrity(con: sqlite3.Connection, path: Path) -> None:
    """``PRAGMA quick_check`` (every page's b-tree structure, not index contents): a damaged
    journal is refused before anything writes to it, so it is never modified."""
    rows = [str(r[0]) for r in con.execute("PRAGMA quick_check(1)")]
    if rows != ["ok"]:
        detail = " ".join(" ".join(rows).replace("*** in database main ***", "").split())
        raise JournalError(
            f"journal {path} is corrupt ({detail or 'integrity check failed'}); "
            "it was not modified: move it aside or pass --db to another file"
        )
