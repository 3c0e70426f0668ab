"""Group commit: several batches per transaction, each batch still all-or-nothing, nothing
visible before its group commits, and a SIGKILL loses at most the uncommitted group."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path

import pytest

from sim.engine.events import FundingPaid
from sim.errors import JournalError
from sim.journal import Journal
from sim.journal.writer import encode_payload, encode_value
from tests.sim.journal.builders import every_event, hand_built_events

ROOT = Path(__file__).resolve().parents[3]
D = Decimal


def funding(seq: int, amount: str = "-0.0607") -> FundingPaid:
    return FundingPaid(
        seq=seq, ts_ms=1_709_510_400_000 + seq, account="main", venue="binanceusdm",
        symbol="BTC/USDT:USDT", funding_time_ms=1_709_510_400_000 + seq, rate=D("0.0001"),
        mark_price=D("60730.1"), contracts=D("0.01"), contract_size=D(1), amount=D(amount),
        currency="USDT", wallet_after=D(1000),
    )  # fmt: skip


def test_batches_are_visible_only_once_their_group_commits(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    writer = Journal.open(path)
    reader = sqlite3.connect(path)  # a plain WAL reader (Journal reads take the write lock)

    def seen() -> int:
        return reader.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]

    committed: list[list[int]] = []
    group = writer.group(batches=3, seconds=3600)
    group.on_commit.append(lambda events: committed.append([e.seq for e in events]))

    group.append("main", [funding(1)])  # the first batch commits at once
    group.append("main", [funding(2), funding(3)], {"seq": 3})
    group.append("main", [funding(4)], {"seq": 4})
    seen_inside = seen()
    group.append("main", [funding(5)])  # the third batch of the group commits it
    seen_after = seen()
    group.append("main", [funding(6)])
    writer.close()  # commits the pending batch

    assert (seen_inside, seen_after) == (1, 5)
    assert committed == [[1], [2, 3, 4, 5], [6]]
    reader.close()
    journal = Journal.open(path)
    assert [e.seq for e in journal.events("main")] == [1, 2, 3, 4, 5, 6]
    assert journal.latest_snapshot("main") == {"seq": 4}
    journal.close()


def test_a_failing_batch_rolls_back_alone_and_the_group_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    journal = Journal.open(path)
    journal.append("main", [funding(1)])
    group = journal.group(batches=10)
    group.append("main", [funding(2)])

    with pytest.raises(JournalError, match="different"):
        # seq 3 is new but seq 1 is stored with other content: the whole batch is refused
        group.append("main", [funding(3), funding(1, amount="-1")])
    group.append("main", [funding(3)])
    journal.close()

    journal = Journal.open(path)
    assert [(e.seq, e.amount) for e in journal.events("main")] == [  # type: ignore[attr-defined]
        (1, D("-0.0607")),
        (2, D("-0.0607")),
        (3, D("-0.0607")),
    ]
    journal.close()


def test_another_write_commits_the_open_group_first(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    group = journal.group(batches=100, seconds=3600)
    group.append("main", [funding(1)])
    group.append("main", [funding(2)])
    session = journal.start_session("main", "replay", {})  # would wait on a lock otherwise
    reader = Journal.open(tmp_path / "j.sqlite")

    assert session == 1
    assert reader.last_seq("main") == 2
    assert group.commits == 2
    reader.close()
    journal.close()


CHILD = textwrap.dedent(
    """
    import sys
    from decimal import Decimal
    from pathlib import Path
    from sim.engine.events import FundingPaid
    from sim.journal import Journal

    journal = Journal.open(Path(sys.argv[1]))
    group = journal.group(batches=4, seconds=3600)
    group.on_commit.append(lambda events: print(events[-1].seq, flush=True))
    seq, wallet = 0, Decimal("1000")
    while True:
        batch = []
        for _ in range(5):
            seq += 1
            wallet += Decimal("-0.0607")
            batch.append(FundingPaid(
                seq=seq, ts_ms=1_709_510_400_000 + seq, account="main", venue="binanceusdm",
                symbol="BTC/USDT:USDT", funding_time_ms=1_709_510_400_000 + seq,
                rate=Decimal("0.0001"), mark_price=Decimal("60730.1"), contracts=Decimal("0.01"),
                contract_size=Decimal(1), amount=Decimal("-0.0607"), currency="USDT",
                wallet_after=wallet))
        group.append("main", batch, {"seq": seq, "wallet": str(wallet)})
    """
)


@pytest.mark.parametrize("pause_ms", [0, 11])
def test_sigkill_loses_at_most_the_uncommitted_group(tmp_path: Path, pause_ms: int) -> None:
    path = tmp_path / "j.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    reported = 0
    deadline = time.monotonic() + 60
    assert child.stdout is not None
    while reported < 200 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        reported = int(line)
    time.sleep(pause_ms / 1000)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    assert reported >= 200, "the child did not get going"
    journal = Journal.open(path)
    seqs = [e.seq for e in journal.events("main")]
    snapshot = journal.latest_snapshot("main")
    journal.close()
    last = seqs[-1]
    assert seqs == list(range(1, last + 1))
    assert last % 20 == 5  # the first batch, then whole groups of 4 batches, nothing torn
    assert last >= reported  # nothing reported committed is lost
    assert snapshot == {"seq": last, "wallet": str(Decimal(1000) - Decimal("0.0607") * last)}
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()


def _tables(path: Path) -> dict[str, list[tuple]]:
    """Every row of the event and projection tables, without ids and write times."""
    con = sqlite3.connect(path)
    out = {}
    for table in ("events", "orders", "fills", "funding", "liquidations", "equity", "trades"):
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        keep = [c for c in cols if c not in ("id", "written_ms")]
        out[table] = con.execute(f"SELECT {', '.join(keep)} FROM {table} ORDER BY seq").fetchall()
    out["trade_ids"] = con.execute(
        "SELECT f.seq, t.trade_key FROM fills f JOIN trades t ON f.trade_id = t.id ORDER BY f.seq"
    ).fetchall()
    con.close()
    return out


@pytest.mark.parametrize(("per_batch", "per_group"), [(1, 3), (7, 2), (3, 100)])
def test_group_commit_writes_the_same_rows_as_one_commit_per_batch(
    tmp_path: Path, per_batch: int, per_group: int
) -> None:
    events = hand_built_events()
    one, grouped = Journal.open(tmp_path / "one.sqlite"), Journal.open(tmp_path / "g.sqlite")
    grouped.group(batches=per_group, seconds=3600)
    for start in range(0, len(events), per_batch):
        batch = events[start : start + per_batch]
        one.append("main", batch, {"seq": batch[-1].seq})
        grouped.append("main", batch, {"seq": batch[-1].seq})
    grouped.append("main", events[:per_batch])  # a retried batch is still a no-op
    one.close()
    grouped.close()

    assert _tables(tmp_path / "g.sqlite") == _tables(tmp_path / "one.sqlite")
    assert len(_tables(tmp_path / "g.sqlite")["trade_ids"]) >= 10  # fills claimed by trades


def test_fast_payload_encoding_is_the_stored_v1_encoding() -> None:
    for event in every_event():
        fields = {f.name: encode_value(getattr(event, f.name)) for f in dataclasses.fields(event)}
        reference = json.dumps(fields, separators=(",", ":"), sort_keys=True)
        assert encode_payload(event) == reference


def test_lean_road_rows_are_the_rows_of_the_full_road() -> None:
    from sim.journal.batch_rows import buffer_rows, row_plan
    from sim.journal.writer import LEAN, LEAN_EVENTS, event_row, project, row_buffer

    built = 0
    for event in every_event():
        buffer = row_buffer()
        if not buffer_rows(event.account, [event], 7, buffer):
            assert row_plan(type(event)) is None
            continue
        expected = {LEAN_EVENTS: LEAN_EVENTS.tuples([event_row(event, 7)])}
        for name, row in project(event):
            expected.setdefault(LEAN[name], []).extend(LEAN[name].tuples([row]))
        assert dict(buffer.rows) == expected, type(event).__name__
        built += 1
    assert built >= 12  # fills, first order events, funding, liquidations, wallet events ...


def test_plain_batches_run_no_sql_until_their_group_commits(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    group = journal.group(batches=50, seconds=3600)
    group.append("main", [funding(1)])  # commits at once (the first batch)
    group.append("main", [funding(2)])  # the full road: opens the account in this transaction
    assert group._conn is not None
    raw = group._conn.connection.driver_connection
    statements: list[str] = []
    raw.set_trace_callback(statements.append)
    for seq in range(3, 40):
        group.append("main", [funding(seq)], {"seq": seq})
    quiet = list(statements)
    group.commit()
    raw.set_trace_callback(None)
    journal.close()

    assert quiet == []  # no savepoint, no SELECT, no INSERT per batch
    assert any(s.startswith("INSERT INTO funding") for s in statements)  # at commit
    journal = Journal.open(tmp_path / "j.sqlite")
    assert [e.seq for e in journal.events("main")] == list(range(1, 40))
    assert journal.latest_snapshot("main") == {"seq": 39}
    journal.close()
