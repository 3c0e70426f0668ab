"""Schema versions: a v1 journal written by the first schema opens, migrates and keeps its data."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest

from sim.errors import JournalError
from sim.journal import Journal
from sim.journal.migrations import LATEST
from sim.journal.writer import encode_payload
from tests.sim.journal.builders import five_trades

V1_SCHEMA = Path(__file__).with_name("v1_schema.sql")  # as the first schema wrote it


def _v1_journal(path: Path) -> None:
    """A journal as the first schema left it: one account, the first trade's events and row."""
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA.read_text())
    con.execute("INSERT INTO schema_version VALUES (1, 'microfut', 1700000000000, 'first schema')")
    con.execute("INSERT INTO accounts VALUES ('main', 'binanceusdm', 'USDT', '1000', 0)")
    events = five_trades()[:8]
    for e in events:
        con.execute(
            "INSERT INTO events (account, seq, kind, ts_ms, venue, symbol, payload) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (e.account, e.seq, type(e).__name__, e.ts_ms, e.venue, e.symbol, encode_payload(e)),
        )
    con.execute(
        "INSERT INTO trades (account, trade_key, seq, venue, symbol, side, open_ts_ms, "
        "close_ts_ms, entry_price, exit_price, contracts, contract_size, leverage, margin_mode, "
        "stop_at_entry, risk_at_entry, realized_pnl, fees, funding, net_pnl, currency, "
        "exit_reason, tag) VALUES ('main', 'T1', 7, 'binanceusdm', 'BTC/USDT:USDT', 'long', "
        "1709542800000, 1709546400000, '60000', '60660', '0.010', '1', '10', 'isolated', "
        "'59700', '3.000', '6.60', '0.50', '-0.10', '6.00', 'USDT', 'take_profit', 'breakout')"
    )
    con.commit()
    con.close()


def _schema(path: Path) -> dict[str, set[str]]:
    con = sqlite3.connect(path)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    out = {t: {r[1] for r in con.execute(f"PRAGMA table_info({t})")} for t in tables}
    out["(indexes)"] = {
        r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    con.close()
    return out


def test_v1_journal_migrates_to_the_latest_schema_and_keeps_its_data(tmp_path: Path) -> None:
    old, fresh = tmp_path / "old.sqlite", tmp_path / "fresh.sqlite"
    _v1_journal(old)
    Journal.open(fresh).close()

    journal = Journal.open(old)

    assert _schema(old) == _schema(fresh)
    con = sqlite3.connect(old)
    versions = [r[0] for r in con.execute("SELECT version FROM schema_version ORDER BY version")]
    con.close()
    assert versions == list(range(1, LATEST + 1))
    assert journal.events("main") == five_trades()[:8]
    journal.add_tag(1, "retest")  # the v2 table works on the old data
    journal.append("main", five_trades()[8:12], session_id=None)
    assert journal.last_seq("main") == 12
    assert journal.accounts()[0].starting_balance == Decimal(1000)
    journal.close()


def test_reopening_a_current_journal_runs_no_migration(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()

    Journal.open(path).close()

    con = sqlite3.connect(path)
    assert con.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == LATEST
    con.close()


def test_journal_from_a_newer_microfut_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO schema_version VALUES (99, 'microfut', 0, 'from the future')")
    con.commit()
    con.close()
    before = path.read_bytes()

    with pytest.raises(JournalError, match="newer than this microfut"):
        Journal.open(path)

    assert path.read_bytes() == before
