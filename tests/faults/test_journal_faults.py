"""The journal fills up or turns read-only in the middle of a replay: one-line JournalError,
and every batch committed before it is still there, whole, with its snapshot.

``tests/sim/journal`` covers a fresh journal that is read-only or full, and SIGKILL during
writes (``test_restore.py``, ``test_resume.py``); this is the same failure mid-run, with real
replay batches, compared against an uninterrupted run.
"""

from __future__ import annotations

import json
import random
import sqlite3
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event

from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.commands import PlaceOrder
from sim.engine.triggers import PriceTape
from sim.errors import JournalError
from sim.journal.restore import resume_point
from sim.journal.store import Journal
from sim.runner import Runner, TickReplay
from tests.properties.test_replay_equivalence import BTC, SPECS, commands, synthetic_tape

ACCOUNT = "det"


def _scenario() -> tuple[PriceTape, list]:
    """A fixed synthetic tape (seeded walk) with 40 market orders: many small batches."""
    rng = random.Random(7)
    rows = [
        (BTC, rng.choice(["last", "last", "book"]), rng.randint(-20, 20), rng.randint(0, 500))
        for _ in range(3000)
    ]
    inputs = synthetic_tape(rows)
    timed = commands([], inputs)  # the deposit
    t0 = inputs[0].ts_ms  # type: ignore[attr-defined]
    span = inputs[-1].ts_ms - t0  # type: ignore[attr-defined]
    for n in range(40):
        ts = t0 + 1 + span * n // 40
        side = "buy" if n % 2 == 0 else "sell"
        cmd = PlaceOrder(ts_ms=ts, symbol=BTC, side=side, contracts=D("0.01"), leverage=D(10))
        timed.append((ts, 1, cmd))
    return PriceTape(inputs), timed


def _run(path: Path | None, on_batch: Any = None) -> tuple[list, list[dict], Journal | None]:
    """Replay into an account (journaled when ``path``); return events and per-batch snapshots."""
    tape, timed = _scenario()
    acct = Account(ACCOUNT, SPECS, slippage_bps=D(2))
    events: list = []
    snaps: list[dict] = []
    bus = Bus()
    journal = Journal.open(path) if path is not None else None

    def write(batch: list) -> None:
        if journal is not None:
            journal.append(ACCOUNT, batch, acct.snapshot())
        events.extend(batch)
        snaps.append(json.loads(json.dumps(acct.snapshot())))
        if on_batch is not None and journal is not None:
            on_batch(journal, len(snaps))

    bus.subscribe(write)
    try:
        TickReplay(Runner(acct, bus), tape, timed).run()
    except JournalError:
        if journal is not None:
            journal.close()
        raise
    return events, snaps, journal


def _check_committed_prefix(path: Path, reference: list, ref_snaps: list[dict]) -> int:
    """The journal holds exactly a prefix of whole batches, with the snapshot of the last one."""
    with Journal.open(path) as journal:
        stored = journal.events(ACCOUNT)
        point = resume_point(journal, ACCOUNT)
        snapshot = journal.latest_snapshot(ACCOUNT)
    n = len(stored)
    assert stored == reference[:n]
    ends = {s["counters"]["seq"]: s for s in ref_snaps}
    assert n in ends  # a batch boundary: no torn batch
    assert json.loads(json.dumps(snapshot)) == ends[n]
    assert point.snapshot is not None
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()
    return n


def test_disk_full_mid_replay_is_one_line_and_keeps_every_committed_batch(tmp_path: Path) -> None:
    reference, ref_snaps, _ = _run(None)
    path = tmp_path / "journal.sqlite"
    committed_before_cap: list[int] = []

    def cap_after_ten(journal: Journal, batches: int) -> None:
        if batches != 10:
            return
        with journal.reading() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

        @event.listens_for(journal._engine, "connect")
        def _cap(dbapi_con: sqlite3.Connection, _record: object) -> None:
            dbapi_con.execute(f"PRAGMA max_page_count = {pages}")

        journal._engine.dispose()  # new connections get the cap: SQLite reports SQLITE_FULL
        committed_before_cap.append(journal.last_seq(ACCOUNT))

    with pytest.raises(JournalError) as info:
        _run(path, cap_after_ten)

    message = str(info.value)
    assert "\n" not in message
    assert "disk full" in message
    assert "committed batches are kept" in message
    n = _check_committed_prefix(path, reference, ref_snaps)
    assert n >= committed_before_cap[0] > 0
    assert n < len(reference)


def test_journal_turning_read_only_mid_replay_keeps_every_committed_batch(tmp_path: Path) -> None:
    reference, ref_snaps, _ = _run(None)
    path = tmp_path / "journal.sqlite"

    def read_only_after_ten(journal: Journal, batches: int) -> None:
        if batches == 10:
            # As if the disk were remounted read-only: SQLite itself refuses the next write.
            journal._engine.dispose()
            journal._engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")

    with pytest.raises(JournalError, match="is read-only") as info:
        _run(path, read_only_after_ten)

    assert "\n" not in str(info.value)
    n = _check_committed_prefix(path, reference, ref_snaps)
    assert n == ref_snaps[9]["counters"]["seq"]  # exactly the ten batches written before
