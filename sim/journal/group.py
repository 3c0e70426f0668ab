"""Group commit: several engine batches per SQLite transaction (replays and strategy runs).

Each batch is still all-or-nothing: a batch that reads or writes SQL (the first of an account
in a transaction, a trade closing, a later order event, a retried seq) runs inside its own
SAVEPOINT, rolled back alone if it fails; any other batch runs no SQL at all, its rows are
built whole (``batch_rows.py``) before they join the buffer. Either way a failing batch raises
and the batches before it stay in the group.
Rows of the hot tables are held and inserted with one executemany per table at commit (or
before a batch that reads them: a trade closing, a later order event); snapshots replace each
other, so only the group's last one per account is written, at commit. The
group commits (one fsync, ``synchronous=FULL``) once it holds ``batches`` batches or a batch
arrives ``seconds`` after the previous commit (the first batch commits at once), on
``commit()``, on ``close()`` and before any other write to the journal. Readers on other
connections see a batch only once its group is committed; ``on_commit`` callbacks get the
events then.

Durability promise: a committed group survives ``kill -9`` and power loss; a kill loses at
most the batches of the group not yet committed (each one whole, never part of a batch):
fewer than ``batches`` batches, appended within ``seconds`` of the last commit, plus any
batches after which the run went quiet (they are committed by the next batch, Ctrl-C or close).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, RootTransaction

from sim.engine.events import Event
from sim.errors import InvariantError
from sim.journal.batch_rows import buffer_rows
from sim.journal.writer import needs_reads, row_buffer, store_snapshot

GROUP_BATCHES = 64  # batches per transaction: ~1 fsync per 64 engine batches
GROUP_SECONDS = 0.25  # ... or per quarter second, whichever comes first


def check_events(account: str, events: Sequence[Event]) -> None:
    """Refuse events of another account (or non-events) before anything is written."""
    for e in events:
        if not isinstance(e, Event) or e.account != account:
            raise InvariantError(f"journal.append({account!r}) got a foreign event {e!r}")


class GroupCommit:
    """The open group of one journal (``Journal.group()``); also a context manager.

    ``journal`` is the ``sim.journal.store.Journal`` (not imported here: no import circle).
    """

    def __init__(
        self, journal: Any, batches: int = GROUP_BATCHES, seconds: float = GROUP_SECONDS
    ) -> None:
        if batches < 1:
            raise InvariantError(f"a group holds at least one batch, was {batches}")
        self.journal = journal
        self.batches = batches
        self.seconds = seconds
        self._committed_at = -float("inf")  # the first batch commits at once
        self.pending: list[Event] = []  # written in the open transaction, not yet committed
        self.pending_batches = 0
        self.commits = 0
        self.on_commit: list[Callable[[list[Event]], None]] = []
        self._conn: Connection | None = None
        self._tx: RootTransaction | None = None
        self._buffer = row_buffer()
        self._snapshots: dict[str, tuple[Sequence[Event], str, Any]] = {}
        # account -> highest seq in the file or the buffer, known in the open transaction
        self._tops: dict[str, int] = {}

    def __enter__(self) -> GroupCommit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(
        self,
        account: str,
        events: Sequence[Event],
        snapshot: dict[str, Any] | None = None,
        session_id: int | None = None,
    ) -> int:
        """Write one batch (and its snapshot) in the open group; returns how many were new."""
        check_events(account, events)
        with self.journal.translated():
            conn = self._begin()
            if self._lean(account, events, session_id):
                written = len(events)
            else:
                written = self._full(conn, account, events, session_id)
        if snapshot is not None:  # only a group's last snapshot is kept: written at commit
            at = (max(e.seq for e in events), max(e.ts_ms for e in events)) if events else None
            self._snapshots[account] = (events, self.journal.json_text(snapshot), at)
        self.pending.extend(events)
        self.pending_batches += 1
        now = time.monotonic()
        if self.pending_batches >= self.batches or now - self._committed_at >= self.seconds:
            self.commit()
        return written

    def _lean(self, account: str, events: Sequence[Event], session_id: int | None) -> bool:
        """The batch's rows straight into the buffer: no savepoint, no SELECT, no SQL at all.

        Only when nothing can be stored yet (every seq above the account's highest one in
        this transaction), the account row exists (a full batch of it ran in this transaction)
        and no event needs reads; anything else takes the full road.
        """
        top = self._tops.get(account)
        if top is None or not events:
            return False
        last = top
        for e in events:
            if e.seq <= last:
                return False
            last = e.seq
        if not buffer_rows(account, events, session_id, self._buffer):
            return False
        self._tops[account] = last
        return True

    def _full(
        self, conn: Connection, account: str, events: Sequence[Event], session_id: int | None
    ) -> int:
        """One batch the general way, inside its own savepoint (all-or-nothing)."""
        if needs_reads(events):
            self._buffer.flush(conn)
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("SAVEPOINT batch")
        try:
            written = self.journal.write(conn, account, events, None, session_id, self._buffer)
        except BaseException:
            raw.execute("ROLLBACK TO batch")
            raw.execute("RELEASE batch")
            raise
        raw.execute("RELEASE batch")
        if events:  # the account row exists now; no seq above the highest one is stored
            high = max(e.seq for e in events)
            top = self._tops.get(account)
            if top is None:  # once per account and transaction
                top = raw.execute(
                    "SELECT COALESCE(MAX(seq), 0) FROM events WHERE account = ?", (account,)
                ).fetchone()[0]
                pending = self._buffer.events.get(account)
                top = max(int(top), max(pending) if pending else 0)
            self._tops[account] = max(top, high)
        return written

    def commit(self) -> None:
        """Commit the open group (nothing to do when none is open)."""
        if self._tx is None:
            return
        tx, self._tx = self._tx, None
        self._tops = {}
        snapshots, self._snapshots = self._snapshots, {}
        with self.journal.translated():
            try:
                self._buffer.flush(tx.connection)
                for account, (events, snapshot, at) in snapshots.items():
                    store_snapshot(tx.connection, account, events, snapshot, at)
            except BaseException:
                tx.rollback()
                raise
            tx.commit()
        done, self.pending, self.pending_batches = self.pending, [], 0
        self.commits += 1
        self._committed_at = time.monotonic()
        for callback in self.on_commit:
            callback(done)

    def close(self) -> None:
        """Commit what is pending and release the connection; the journal writes alone again."""
        try:
            self.commit()
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self.journal._group is self:
                self.journal._group = None

    def _begin(self) -> Connection:
        if self._conn is None:
            self._conn = self.journal._engine.connect()
        if self._tx is None:
            self._tx = self._conn.begin()
        return self._conn
