"""Resume a journaled replay after a clean stop and after SIGKILL: same account, same journal."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.journal import Journal
from tests.sim.journal.replay_harness import run, synthetic_inputs

ROOT = Path(__file__).resolve().parents[3]
TRADE_COLUMNS = "trade_key, side, entry_price, exit_price, contracts, net_pnl, exit_reason"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list, list]:
    path = tmp_path_factory.mktemp("whole") / "j.sqlite"
    account = run(path, synthetic_inputs())
    return account.snapshot(), *_journal(path)


def _journal(path: Path) -> tuple[list, list]:
    with Journal.open(path) as journal:
        events = journal.events("main")
    con = sqlite3.connect(path)
    trades = con.execute(f"SELECT {TRADE_COLUMNS} FROM trades ORDER BY id").fetchall()
    con.close()
    return events, trades


def test_the_replay_trades(uninterrupted: tuple[dict, list, list]) -> None:
    _, events, trades = uninterrupted

    assert len(trades) >= 10
    assert {"OrderFilled", "OrderTriggered", "TradeClosed"} <= {e.kind for e in events}


def test_resume_after_a_clean_stop_matches_an_uninterrupted_run(
    tmp_path: Path, uninterrupted: tuple[dict, list, list]
) -> None:
    inputs = synthetic_inputs()
    path = tmp_path / "j.sqlite"
    run(path, inputs[:700])  # stop cleanly part way (a position may be open)

    account = run(path, inputs)

    assert (account.snapshot(), *_journal(path)) == uninterrupted


@pytest.mark.parametrize("kill_after", [333, 1210])
def test_resume_after_sigkill_mid_replay_matches_an_uninterrupted_run(
    tmp_path: Path, uninterrupted: tuple[dict, list, list], kill_after: int
) -> None:
    path = tmp_path / "j.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.sim.journal.replay_harness", str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None
    committed, deadline = 0, time.monotonic() + 60
    while committed < kill_after and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        committed = int(line)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert committed >= kill_after, "the replay ended before it could be killed"
    with Journal.open(path) as journal:
        assert journal.latest_snapshot("main")["inputs"] >= committed

    account = run(path, synthetic_inputs())

    assert (account.snapshot(), *_journal(path)) == uninterrupted
