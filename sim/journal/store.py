"""The Journal: one SQLite file (WAL) holding every paper account's events, snapshots and reviews.

API used by the runner, the desk and the review::

    journal = Journal.open(path)          # create, or migrate an older journal; JournalError for
                                          # a corrupt, non-SQLite or foreign file (left untouched)
    journal.ensure_account(name, venue, currency, starting_balance)   # once; existing kept
    session = journal.start_session(account, kind, params)           # -> session id
    journal.set_session_status(session, "completed" | "interrupted") # how the run ended
    journal.append(account, events, snapshot=None, session_id=None)  # one transaction per batch;
                                          # (account, seq) unique: a retried batch is a no-op,
                                          # a different event at a stored seq is a JournalError
    journal.free_account_name(base)       # base, or base-2, base-3 ... when base is taken
    journal.latest_snapshot(account)      # the dict committed with the latest batch, or None
    journal.events(account, since_seq=0)  # the exact engine dataclasses, seq > since_seq
    journal.last_seq(account), journal.accounts()
    journal.add_note(trade, text), journal.add_tag(trade, tag)   # trade number or engine id
    journal.close()                       # also a context manager

Resume: ``sim.journal.restore.resume_point(journal, account)``.

Durability and file safety: ``sim/journal/sqlite_file.py``.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError, IntegrityError

from sim.engine.events import Event
from sim.errors import InputError, InvariantError, JournalError
from sim.interrupt import interrupts_deferred
from sim.journal import migrations
from sim.journal.group import GROUP_BATCHES, GROUP_SECONDS, GroupCommit, check_events
from sim.journal.lean import RowBuffer
from sim.journal.restore import decode_event, event_classes
from sim.journal.sessions import SessionInfo, run_marker, session_infos
from sim.journal.sqlite_file import explain, inspect_file, make_engine, sql_has_table
from sim.journal.writer import write_appended

SESSION_STATUSES = ("completed", "interrupted", "failed")  # params["status"] of an ended run


@dataclass(frozen=True, slots=True)
class AccountInfo:
    name: str
    venue: str
    currency: str
    starting_balance: Decimal | None


def _now_ms() -> int:
    return int(time.time() * 1000)


class Journal:
    """The journal API used by the runner, the desk and the review (see module docstring)."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self._engine = engine
        self._classes = event_classes()
        self._group: GroupCommit | None = None

    @classmethod
    def open(cls, path: Path) -> Journal:
        """Open (creating or migrating as needed) the journal at ``path``."""
        path = Path(path).expanduser()
        version = inspect_file(path)
        if version is None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise JournalError(
                    f"cannot create folder for journal {path}: {e.strerror}"
                ) from None
        todo = [] if version is None else migrations.pending(version, path)
        journal = cls(path, make_engine(path))
        try:
            if version is None:
                with journal._tx() as conn:
                    # BEGIN IMMEDIATE serializes creators: a second one finds the schema there
                    if not sql_has_table(conn, "schema_version"):
                        migrations.create_fresh(conn)
            for migration in todo:
                with journal._tx() as conn:
                    migrations.apply(conn, migration)
        except JournalError:
            journal.close()
            raise
        return journal

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Commit an open group, release the file (the last connection checkpoints the WAL)."""
        if self._group is not None:
            self._group.close()
        self._engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """One write transaction; any SQLite failure becomes a one-line JournalError.

        An open group is committed first: one writer at a time, in order.
        """
        if self._group is not None:
            self._group.commit()
        with self.translated(), self._engine.begin() as conn:
            yield conn

    @contextmanager
    def translated(self) -> Iterator[None]:
        """SQLite, SQLAlchemy and OS failures as one-line JournalErrors; Ctrl-C waits for it."""
        with interrupts_deferred:
            try:
                yield
            except IntegrityError as e:
                raise JournalError(f"journal {self.path} refused a write: {e.orig}") from None
            except (DBAPIError, sqlite3.Error) as e:
                raise explain(self.path, e) from None
            except OSError as e:
                raise JournalError(f"journal {self.path}: {e.strerror}") from None

    def group(self, batches: int = GROUP_BATCHES, seconds: float = GROUP_SECONDS) -> GroupCommit:
        """A writer committing several engine batches per transaction (see group.py).

        While it is open, ``append`` goes through it and any other write commits it first.
        """
        if self._group is not None:
            raise InvariantError("journal already has an open group commit")
        self._group = GroupCommit(self, batches, seconds)
        return self._group

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read connection for queries (review, CLI); failures become JournalError."""
        try:
            with self._engine.connect() as conn:
                yield conn
        except (DBAPIError, sqlite3.Error) as e:
            raise explain(self.path, e) from None

    def query(self, statement: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """Rows of a SQLAlchemy statement (Decimal columns come back as Decimal)."""
        with self.reading() as conn:
            return list(conn.execute(statement, params or {}))

    # accounts and sessions

    def ensure_account(
        self, name: str, venue: str, currency: str, starting_balance: Decimal
    ) -> None:
        """Register a paper account once; an existing account keeps its stored values."""
        with self._tx() as conn:
            conn.execute(
                sql(
                    "INSERT INTO accounts (name, venue, currency, starting_balance, created_ms) "
                    "VALUES (:n, :v, :c, :b, :ms) ON CONFLICT(name) DO UPDATE SET "
                    "venue = CASE WHEN accounts.venue = '' THEN excluded.venue "
                    "ELSE accounts.venue END, "
                    "currency = CASE WHEN accounts.currency = '' THEN excluded.currency "
                    "ELSE accounts.currency END, "
                    "starting_balance = "
                    "COALESCE(accounts.starting_balance, excluded.starting_balance)"
                ),
                {"n": name, "v": venue, "c": currency, "b": str(starting_balance), "ms": _now_ms()},
            )

    def free_account_name(self, base: str, *, empty_is_free: bool = False) -> str:
        """``base``, or ``base-2``, ``base-3`` ... when the journal already holds that account.

        A fresh run's seqs restart at 1, so writing it into an existing account would collide
        with the events already there; a new name keeps both runs. With ``empty_is_free`` an
        account that is registered but has no events yet counts as free (strategy runs).
        """

        def taken(name: str) -> bool:
            if empty_is_free:
                return self.last_seq(name) != 0
            rows = self.query(
                sql(
                    "SELECT 1 FROM accounts WHERE name = :n "
                    "UNION ALL SELECT 1 FROM events WHERE account = :n LIMIT 1"
                ),
                {"n": name},
            )
            return bool(rows)

        if not taken(base):
            return base
        n = 2
        while taken(f"{base}-{n}"):
            n += 1
        return f"{base}-{n}"

    def accounts(self) -> list[AccountInfo]:
        """Every account in the journal, by name."""
        rows = self.query(
            sql("SELECT name, venue, currency, starting_balance FROM accounts ORDER BY name")
        )
        return [
            AccountInfo(r[0], r[1], r[2], None if r[3] is None else Decimal(r[3])) for r in rows
        ]

    def start_session(self, account: str, kind: str, params: dict[str, Any]) -> int:
        """Record the start of a run (replay, demo, paper) and return its id; the params also
        name the process (``sessions.run_marker``) so a killed run shows as interrupted."""
        params = {**params, **run_marker()}
        with self._tx() as conn:
            result = conn.execute(
                sql(
                    "INSERT INTO sessions (account, kind, params, started_ms) "
                    "VALUES (:a, :k, :p, :ms)"
                ),
                {"a": account, "k": kind, "p": _json(params), "ms": _now_ms()},
            )
            return int(result.lastrowid)

    def set_session_status(self, session_id: int, status: str, error: str = "") -> None:
        """Mark how a run ended in the session's params JSON (no schema change), so a review
        can tell a finished run from a Ctrl-C'd one ("interrupted": it can be continued) and
        from one its strategy stopped by raising ("failed", ``error`` says how)."""
        if status not in SESSION_STATUSES:
            raise InvariantError(f"session status is one of {SESSION_STATUSES}, was {status!r}")
        mark = {"status": status, **({"error": error} if error else {})}
        self._update_session(session_id, lambda params: params.update(mark))

    def reopen_session(self, session_id: int) -> None:
        """An interrupted session continues in this process: its end mark is cleared, the
        process recorded, and ``resumed`` counts the restarts (``sim.journal.resume``)."""

        def reopen(params: dict[str, Any]) -> None:
            params.pop("status", None)
            params.update(run_marker())
            params["resumed"] = int(params.get("resumed", 0)) + 1

        self._update_session(session_id, reopen)

    def _update_session(self, session_id: int, change: Callable[[dict[str, Any]], None]) -> None:
        """Read, change and write back one session's params JSON in one transaction."""
        with self._tx() as conn:
            row = conn.execute(
                sql("SELECT params FROM sessions WHERE id = :i"), {"i": session_id}
            ).first()
            if row is None:
                raise InvariantError(f"no session {session_id} in journal {self.path}")
            params = json.loads(row[0]) if row[0] else {}
            change(params)
            conn.execute(
                sql("UPDATE sessions SET params = :p WHERE id = :i"),
                {"p": _json(params), "i": session_id},
            )

    def session_statuses(self) -> dict[str, str]:
        """Each account's latest session status: "completed", "interrupted" (marked, or its
        process is gone without marking: killed), "running", or "" when nothing is known."""
        return {s.account: s.state for s in self.sessions()}

    def sessions(self, kind: str | None = None) -> list[SessionInfo]:
        """Every session (of ``kind``), oldest first, with its params and state."""
        rows = self.query(
            sql("SELECT id, account, kind, params, started_ms FROM sessions ORDER BY id")
        )
        return session_infos(rows, kind)

    # events and snapshots

    def append(
        self,
        account: str,
        events: Sequence[Event],
        snapshot: dict[str, Any] | None = None,
        session_id: int | None = None,
    ) -> int:
        """Commit one engine batch (and the account snapshot after it) in one transaction.

        ``(account, seq)`` is unique: events already stored are skipped, so retrying a batch
        is a no-op; a stored event with the same seq but other content raises JournalError
        (two runs writing into one account) and the whole batch is rolled back. Returns how
        many events were new.
        """
        if self._group is not None:
            return self._group.append(account, events, snapshot, session_id)
        check_events(account, events)
        with self._tx() as conn:
            return self.write(conn, account, events, snapshot, session_id)

    @staticmethod
    def json_text(obj: Any) -> str:
        """Compact JSON as the journal stores snapshots and params."""
        return _json(obj)

    def write(
        self,
        conn: Connection,
        account: str,
        events: Sequence[Event],
        snapshot: dict[str, Any] | None,
        session_id: int | None,
        buffer: RowBuffer | None = None,
    ) -> int:
        """The body of ``append`` inside the caller's transaction (or savepoint)."""
        snap = None if snapshot is None else _json(snapshot)
        return write_appended(conn, account, events, snap, session_id, buffer)

    def latest_snapshot_row(self, account: str) -> tuple[dict[str, Any], int] | None:
        """The latest snapshot of ``account`` and the highest seq it includes."""
        rows = self.query(sql("SELECT data, seq FROM snapshots WHERE account = :a"), {"a": account})
        return (json.loads(rows[0][0]), int(rows[0][1])) if rows else None

    def latest_snapshot(self, account: str) -> dict[str, Any] | None:
        """The snapshot stored with the account's latest snapshotted batch (None if none)."""
        row = self.latest_snapshot_row(account)
        return row[0] if row else None

    def last_seq(self, account: str) -> int:
        """Highest committed seq of ``account`` (0 when it has no events)."""
        rows = self.query(
            sql("SELECT COALESCE(MAX(seq), 0) FROM events WHERE account = :a"), {"a": account}
        )
        return int(rows[0][0])

    def events(self, account: str, since_seq: int = 0) -> list[Event]:
        """The account's events with seq > ``since_seq``, rebuilt as the engine dataclasses."""
        rows = self.query(
            sql("SELECT kind, payload FROM events WHERE account = :a AND seq > :s ORDER BY seq"),
            {"a": account, "s": since_seq},
        )
        return [decode_event(kind, payload, self._classes) for kind, payload in rows]

    # notes and tags

    def resolve_trade(self, ref: int | str) -> int:
        """Journal trade number for a number or an engine trade id; InputError when unknown."""
        text_ref = str(ref).strip()
        if text_ref.isdigit():
            rows = self.query(sql("SELECT id FROM trades WHERE id = :i"), {"i": int(text_ref)})
        else:
            rows = self.query(sql("SELECT id FROM trades WHERE trade_key = :k"), {"k": text_ref})
        if len(rows) == 1:
            return int(rows[0][0])
        if len(rows) > 1:
            raise InputError(f"trade id '{ref}' is in several accounts; use the trade number")
        raise InputError(
            f"no trade '{ref}' in journal {self.path}; `microfut journal list` shows trade numbers"
        )

    def add_note(self, trade_id: int | str, text: str) -> int:
        """Attach a note to a trade; returns the note id."""
        if not text.strip():
            raise InputError("a note needs some text, was empty")
        tid = self.resolve_trade(trade_id)
        with self._tx() as conn:
            result = conn.execute(
                sql("INSERT INTO trade_notes (trade_id, written_ms, text) VALUES (:t, :ms, :x)"),
                {"t": tid, "ms": _now_ms(), "x": text.strip()},
            )
            return int(result.lastrowid)

    def add_tag(self, trade_id: int | str, tag: str) -> None:
        """Tag a trade (adding the same tag twice keeps one)."""
        name = tag.strip()
        if not name or any(c.isspace() for c in name):
            raise InputError(f"a tag is one word without spaces, was {tag!r}")
        tid = self.resolve_trade(trade_id)
        with self._tx() as conn:
            conn.execute(
                sql(
                    "INSERT OR IGNORE INTO trade_tags (trade_id, tag, written_ms) "
                    "VALUES (:t, :g, :ms)"
                ),
                {"t": tid, "g": name, "ms": _now_ms()},
            )


def _json(obj: Any) -> str:
    """Compact JSON; a Decimal that slipped into a snapshot or params is kept as exact text."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        raise InvariantError(f"value {value!r} of type {type(value).__name__} is not JSON-safe")

    return json.dumps(obj, default=default, separators=(",", ":"), sort_keys=True)
