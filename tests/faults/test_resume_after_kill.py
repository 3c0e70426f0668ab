"""A replay SIGKILLed mid-run is listed as interrupted, and rerunning the same command continues
it: the journal ends with the same events, fills and balance as an uninterrupted run, in the
same account and session (issue 17: the rerun started over as `main-2` and the killed session
looked finished)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.test_feed_cli import CLI, ROOT

CANDLES = "ohlcv/binance_usdm/BTC_USDT_USDT-1m-futures.csv"
HEADER = (
    "time,symbol,side,type,contracts,price,trigger_price,callback_pct,reduce_only,leverage,"
    "margin_mode,stop_loss,take_profit,tag\n"
)
ORDERS = 300


def _orders(tmp_path: Path, n: int = ORDERS) -> Path:
    t0 = datetime(2025, 5, 4, 16, 0, tzinfo=UTC)
    rows = [
        f"{t0 + timedelta(minutes=7 * i):%Y-%m-%dT%H:%M:%SZ},BTC/USDT:USDT,"
        f"{'buy' if i % 2 == 0 else 'sell'},market,0.01,,,,,10,isolated,,,\n"
        for i in range(n)
    ]
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def _rows(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db)) as con:
        return con.execute(sql).fetchall()


def test_a_killed_replay_is_interrupted_and_the_rerun_ends_as_an_uninterrupted_one(
    run_cli, wait_for_row, shared_data: Path, tmp_path: Path
) -> None:
    orders = _orders(tmp_path)
    args = ["replay", "--data", str(shared_data / CANDLES), "--orders", str(orders), "--every-bar"]
    killed, whole = tmp_path / "killed.sqlite", tmp_path / "whole.sqlite"
    env = {
        **os.environ,
        "MICROFUT_HOME": str(tmp_path / "data"),  # as run_cli sets them
        "MICROFUT_DATA__DIRS": f'["{shared_data}"]',
        "PYTHONPATH": str(ROOT),
    }

    proc = subprocess.Popen(
        [*CLI, *args, "--db", str(killed)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert wait_for_row(killed, "SELECT COUNT(*) >= 40 FROM fills", timeout_s=120)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()
    fills_at_kill = _rows(killed, "SELECT COUNT(*) FROM fills")[0][0]
    listed = run_cli("journal", "list", "--db", str(killed))
    report = run_cli("journal", "report", "--db", str(killed))
    rerun = run_cli(*args, "--db", str(killed), "--json")
    reference = run_cli(*args, "--db", str(whole), "--json")

    assert proc.returncode == -signal.SIGKILL
    assert 40 <= fills_at_kill < ORDERS  # killed mid-run (one fill per order)
    assert "account main (interrupted)" in listed.stdout
    assert "rerun the same `microfut replay` command (or add --resume) to continue" in (
        listed.stderr
    )
    assert "journal report: main (interrupted)" in report.stdout
    assert rerun.exit_code == 0, rerun.stderr
    assert "continuing the interrupted replay of account 'main'" in rerun.stderr
    assert reference.exit_code == 0, reference.stderr
    done, ref = json.loads(rerun.stdout), json.loads(reference.stdout)
    assert done["account"] == "main"  # not main-2
    assert done["balances"] == ref["balances"]
    assert done["closed_trades"] == ref["closed_trades"]
    assert len(ref["closed_trades"]) == ORDERS // 2
    events = "SELECT account, seq, kind, payload FROM events ORDER BY seq"
    fills = "SELECT * FROM fills ORDER BY id"
    assert _rows(killed, events) == _rows(whole, events)
    assert _rows(killed, fills) == _rows(whole, fills)
    assert len(_rows(whole, fills)) == ORDERS
    snapshot = "SELECT account, seq, ts_ms, data FROM snapshots"
    assert _rows(killed, snapshot) == _rows(whole, snapshot)
    sessions = _rows(killed, "SELECT account, params FROM sessions")
    assert len(sessions) == 1  # the same session, continued
    assert json.loads(sessions[0][1])["status"] == "completed"
    assert json.loads(sessions[0][1])["resumed"] == 1
    assert "(interrupted)" not in run_cli("journal", "list", "--db", str(killed)).stdout


def test_resume_flag_with_nothing_to_continue_is_one_line_exit_2(
    run_cli, shared_data: Path, tmp_path: Path
) -> None:
    orders = _orders(tmp_path, 10)
    db = tmp_path / "j.sqlite"
    args = [
        "replay",
        "--data",
        str(shared_data / CANDLES),
        "--orders",
        str(orders),
        "--db",
        str(db),
    ]

    first = run_cli(*args)
    again = run_cli(*args, "--resume")
    fresh = run_cli(*args, "--json")

    assert first.exit_code == 0, first.stderr
    assert again.exit_code == 2
    assert again.stderr.strip() == (
        f"error: --resume: no interrupted replay of account 'main' with these same settings in "
        f"{db}; `microfut journal list` shows what is there"
    )
    assert json.loads(fresh.stdout)["account"] == "main-2"  # a completed run is not continued


def test_a_killed_strategy_run_continues_to_the_same_journal(
    run_cli, wait_for_row, shared_data: Path, tmp_path: Path, paced_breakout: Path
) -> None:
    window = ("--from", "2025-05-04T16:00", "--until", "2025-05-12T00:00")
    args = ["run", str(paced_breakout), "--replay", str(shared_data / CANDLES), *window]
    killed, whole = tmp_path / "killed.sqlite", tmp_path / "whole.sqlite"
    env = {
        **os.environ,
        "MICROFUT_HOME": str(tmp_path / "data"),
        "MICROFUT_DATA__DIRS": f'["{shared_data}"]',
        "PYTHONPATH": str(ROOT),
        "PAUSE_AFTER_BAR_S": "0.002",  # only the killed run is paced: it must not end first
    }

    proc = subprocess.Popen(
        [*CLI, *args, "--db", str(killed)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_for_row(killed, "SELECT COUNT(*) >= 10 FROM fills", timeout_s=120)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    at_kill = _rows(killed, "SELECT COUNT(*) FROM fills")[0][0]
    listed = run_cli("journal", "list", "--db", str(killed))
    rerun = run_cli(*args, "--db", str(killed), "--json")
    reference = run_cli(*args, "--db", str(whole), "--json")

    assert "account breakout (interrupted)" in listed.stdout
    assert "rerun the same `microfut run` command (or add --resume) to continue" in listed.stderr
    assert rerun.exit_code == 0, rerun.stderr
    assert reference.exit_code == 0, reference.stderr
    done, ref = json.loads(rerun.stdout), json.loads(reference.stdout)
    assert done["account"] == ref["account"] == "breakout"
    assert done["summary"] == ref["summary"]
    assert any("continuing the interrupted strategy" in n for n in done["notes"])
    total = _rows(whole, "SELECT COUNT(*) FROM fills")[0][0]
    assert 10 <= at_kill < total
    for table in ("events", "fills", "trades", "snapshots"):
        query = f"SELECT * FROM {table} ORDER BY 1"
        if table == "snapshots":
            query = "SELECT account, seq, ts_ms, data FROM snapshots"
        assert _rows(killed, query) == _rows(whole, query), table


def test_an_unmarked_session_is_interrupted_once_its_process_is_gone() -> None:
    from sim.journal.sessions import run_marker, session_state

    dead = subprocess.Popen(["true"])  # a process that has exited (and been reaped)
    dead.wait()
    mine = run_marker()
    theirs = {**mine, "pid": dead.pid}

    assert session_state("replay", mine) == "running"  # this very process
    assert session_state("replay", theirs) == "interrupted"  # killed, crashed, lost its journal
    assert session_state("strategy", theirs) == "interrupted"
    assert session_state("replay", {**theirs, "status": "completed"}) == "completed"
    assert session_state("replay", {**theirs, "host": "elsewhere"}) == "interrupted"
    assert session_state("paper", theirs) == ""  # desk sessions are left open by design
    assert session_state("replay", {"data": "x"}) == ""  # written before sessions named a pid
