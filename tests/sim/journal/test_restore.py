"""Resume: the latest snapshot plus what came after it; SIGKILL loses no committed batch."""

from __future__ import annotations

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

from sim.errors import JournalError
from sim.journal import Journal
from sim.journal.restore import decode_event, resume_point
from tests.sim.journal.builders import five_trades

ROOT = Path(__file__).resolve().parents[3]


def test_resume_point_is_the_snapshot_and_the_events_after_it(tmp_path: Path) -> None:
    events = five_trades()
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.append("main", events[:9], {"wallet": "1006.00"})
    journal.append("main", events[9:12])  # a batch appended without a snapshot

    point = resume_point(journal, "main")

    assert point.snapshot == {"wallet": "1006.00"}
    assert (point.snapshot_seq, point.last_seq, point.next_seq) == (9, 12, 13)
    assert point.events_after_snapshot == events[9:12]
    journal.close()


def test_resume_point_of_a_new_account_is_empty(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j.sqlite") as journal:
        point = resume_point(journal, "fresh")

    assert (point.snapshot, point.snapshot_seq, point.next_seq) == (None, 0, 1)
    assert point.events_after_snapshot == []


def test_unknown_event_kind_or_field_is_a_one_line_error() -> None:
    with pytest.raises(JournalError, match="kind 'OrderTeleported' unknown"):
        decode_event("OrderTeleported", "{}")
    with pytest.raises(JournalError, match="fields colour unknown"):
        decode_event(
            "OrderExpired",
            '{"seq":1,"ts_ms":1,"account":"a","venue":"","symbol":"","order_id":"o",'
            '"reason":"","colour":"red"}',
        )


CHILD = textwrap.dedent(
    """
    import sys
    from decimal import Decimal
    from pathlib import Path
    from sim.engine.events import FundingPaid, WalletCredited
    from sim.journal import Journal

    journal = Journal.open(Path(sys.argv[1]))
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
        journal.append("main", batch, {"seq": seq, "wallet": str(wallet)})
        print(seq, flush=True)
    """
)


@pytest.mark.parametrize("pause_ms", [0, 7, 23])
def test_sigkill_during_appends_loses_no_committed_batch(tmp_path: Path, pause_ms: int) -> None:
    path = tmp_path / "j.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    reported = 0
    deadline = time.monotonic() + 60
    assert child.stdout is not None
    while reported < 150 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        reported = int(line)
    time.sleep(pause_ms / 1000)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    assert reported >= 150, "the child did not get going"
    journal = Journal.open(path)
    seqs = [e.seq for e in journal.events("main")]
    snapshot = journal.latest_snapshot("main")
    last = journal.last_seq("main")
    journal.close()
    assert last >= reported
    assert seqs == list(range(1, last + 1))  # whole batches only, none torn
    assert last % 5 == 0
    # the snapshot was committed with its batch: it describes exactly the last committed event
    assert snapshot == {"seq": last, "wallet": str(Decimal(1000) - Decimal("0.0607") * last)}
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("SELECT COUNT(*) FROM funding").fetchone() == (last,)
    con.close()
