"""Replaying the same inputs twice writes identical journals, row for row, in every table.

Each run goes through the real path: ``TickReplay`` → bus → ``Journal.append`` with the
account snapshot per batch, into its own SQLite file. Only the wall-clock columns
(``created_ms``, ``started_ms``, ``written_ms``, ``applied_ms``) may differ.
"""

from __future__ import annotations

import sqlite3
import tempfile
from decimal import Decimal as D
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sim.bus import Bus
from sim.engine.account import Account
from sim.engine.triggers import PriceTape
from sim.journal.store import Journal
from sim.runner import Runner, TickReplay
from tests.properties.conftest import scenarios
from tests.properties.test_replay_equivalence import SPECS, command, commands, row, synthetic_tape

WALL_CLOCK = {"created_ms", "started_ms", "written_ms", "applied_ms"}


def journal_rows(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows in rowid order, wall-clock columns left out."""
    con = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        out: dict[str, list[tuple]] = {}
        for table in tables:
            cur = con.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
            keep = [i for i, d in enumerate(cur.description) if d[0] not in WALL_CLOCK]
            out[table] = [tuple(r[i] for i in keep) for r in cur.fetchall()]
        return out
    finally:
        con.close()


def journal_run(path: Path, tape: PriceTape, timed: list, fast: bool) -> None:
    acct = Account("det", SPECS, slippage_bps=D(2))
    with Journal.open(path) as journal:
        journal.ensure_account("det", acct.venue, "USDT", D(3000))
        session = journal.start_session("det", "replay", {"synthetic": True})
        bus = Bus()
        bus.subscribe(lambda evs: journal.append("det", evs, acct.snapshot(), session_id=session))
        TickReplay(Runner(acct, bus), tape, timed, fast=fast).run()


@scenarios(ci=15)
@given(st.lists(row, min_size=2, max_size=200), st.lists(command, min_size=1, max_size=8))
def test_same_inputs_twice_give_identical_journals(rows: list, cmds: list) -> None:
    inputs = synthetic_tape(rows)
    tape, timed = PriceTape(inputs), commands(cmds, inputs)

    with tempfile.TemporaryDirectory(prefix="synthetic_journal_") as tmp:
        first, second, plain = Path(tmp, "a.sqlite"), Path(tmp, "b.sqlite"), Path(tmp, "c.sqlite")
        journal_run(first, tape, timed, fast=True)
        journal_run(second, tape, timed, fast=True)
        journal_run(plain, tape, timed, fast=False)
        a, b, c = journal_rows(first), journal_rows(second), journal_rows(plain)

    assert a == b
    assert a == c  # the vectorized run journals exactly what the tick-by-tick run does
    assert len(a["events"]) >= 1
