"""The Journal API: exact round trips, idempotent batches, snapshots, and refusing foreign files."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sqlite3
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event

from sim.engine.events import OrderFilled, WalletCredited
from sim.errors import InputError, InvariantError, JournalError
from sim.journal import AccountInfo, Journal
from tests.sim.journal.builders import MON, VENUE, every_event, five_trades

HOST = socket.gethostname()


def _fields(event: object) -> tuple:
    return tuple(getattr(event, f) for f in type(event).__dataclass_fields__)  # type: ignore[attr-defined]


def test_every_event_type_round_trips_to_the_identical_dataclass(tmp_path: Path) -> None:
    events = every_event()
    journal = Journal.open(tmp_path / "j.sqlite")

    journal.append("main", events)
    back = journal.events("main")

    assert back == sorted(events, key=lambda e: e.seq)
    assert [type(e) for e in back] == [type(e) for e in sorted(events, key=lambda e: e.seq)]
    # Decimal equality ignores trailing zeros; the stored text keeps them too.
    assert [tuple(map(repr, _fields(e))) for e in back] == [
        tuple(map(repr, _fields(e))) for e in sorted(events, key=lambda e: e.seq)
    ]
    journal.close()


def test_round_trip_keeps_decimal_digits_exactly(tmp_path: Path) -> None:
    event = WalletCredited(
        seq=1,
        ts_ms=MON,
        account="main",
        venue=VENUE,
        currency="USDT",
        amount=Decimal("0.1000000000000000055511151231257827"),
        balance_after=Decimal("1E+3"),
    )
    with Journal.open(tmp_path / "j.sqlite") as journal:
        journal.append("main", [event])

        (back,) = journal.events("main")

    assert str(back.amount) == "0.1000000000000000055511151231257827"
    assert str(back.balance_after) == "1E+3"


def test_retried_batch_is_a_no_op(tmp_path: Path) -> None:
    events = five_trades()
    journal = Journal.open(tmp_path / "j.sqlite")

    first = journal.append("main", events[:10])
    again = journal.append("main", events[:10])
    overlap = journal.append("main", events[5:15])

    assert (first, again, overlap) == (10, 0, 5)
    assert [e.seq for e in journal.events("main")] == list(range(1, 16))
    con = sqlite3.connect(journal.path)
    assert con.execute("SELECT COUNT(*) FROM fills").fetchone()[0] == 4
    assert con.execute("SELECT COUNT(*) FROM trades").fetchone()[0] == 2
    con.close()
    journal.close()


def test_batch_colliding_with_different_events_is_refused_whole(tmp_path: Path) -> None:
    events = five_trades()
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.append("main", events[:10])
    other = dataclasses.replace(events[3], ts_ms=events[3].ts_ms + 1)

    with pytest.raises(JournalError, match=rf"'main' seq {events[3].seq} as a different"):
        journal.append("main", [other, *events[10:12]])

    assert [e.seq for e in journal.events("main")] == list(range(1, 11))
    assert journal.events("main")[3] == events[3]
    journal.close()


def test_free_account_name_counts_up_past_taken_names(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    assert journal.free_account_name("main") == "main"

    journal.append("main", five_trades()[:2])
    journal.ensure_account("main-2", VENUE, "USDT", Decimal(100))

    assert journal.free_account_name("main") == "main-3"
    assert journal.free_account_name("other") == "other"
    journal.close()


def test_snapshot_is_stored_with_its_batch_and_never_goes_back(tmp_path: Path) -> None:
    events = five_trades()
    journal = Journal.open(tmp_path / "j.sqlite")

    journal.append("main", events[:5], {"wallet": "999.75", "seq": 5})
    journal.append("main", events[5:9], {"wallet": "1006.00", "seq": 9})
    journal.append("main", events[:5], {"wallet": "999.75", "seq": 5})  # a stale retry

    assert journal.latest_snapshot("main") == {"wallet": "1006.00", "seq": 9}
    assert journal.latest_snapshot_row("main") == ({"wallet": "1006.00", "seq": 9}, 9)
    assert journal.latest_snapshot("other") is None
    assert journal.last_seq("main") == 9
    assert [e.seq for e in journal.events("main", since_seq=7)] == [8, 9]
    journal.close()


def test_accounts_sessions_and_several_accounts_in_one_journal(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.ensure_account("main", VENUE, "USDT", Decimal(1000))
    journal.ensure_account("main", "bybit", "USDC", Decimal(5))  # existing account is kept
    journal.ensure_account("coin", "binancecoinm", "BTC", Decimal("0.05"))

    session = journal.start_session("coin", "replay", {"speed": Decimal("10"), "file": "x.gz"})
    journal.append(
        "coin",
        [
            WalletCredited(
                seq=1,
                ts_ms=MON,
                account="coin",
                venue="binancecoinm",
                currency="BTC",
                amount=Decimal("0.05"),
                balance_after=Decimal("0.05"),
            )
        ],
        session_id=session,
    )

    assert journal.accounts() == [
        AccountInfo("coin", "binancecoinm", "BTC", Decimal("0.05")),
        AccountInfo("main", VENUE, "USDT", Decimal(1000)),
    ]
    assert session == 1
    con = sqlite3.connect(journal.path)
    assert con.execute("SELECT session_id FROM events").fetchall() == [(1,)]
    stored = json.loads(con.execute("SELECT params FROM sessions").fetchone()[0])
    assert stored == {"file": "x.gz", "speed": "10", "pid": os.getpid(), "host": HOST}
    con.close()
    journal.close()


def test_session_status_is_kept_in_the_params_and_the_latest_session_counts(
    tmp_path: Path,
) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    first = journal.start_session("main", "replay", {"file": "x.gz"})
    journal.set_session_status(first, "interrupted")
    journal.start_session("coin", "strategy", {})

    assert journal.session_statuses() == {"main": "interrupted", "coin": "running"}  # it is us
    con = sqlite3.connect(journal.path)
    params = con.execute("SELECT params FROM sessions WHERE id = ?", (first,)).fetchone()[0]
    assert json.loads(params) == {
        "file": "x.gz", "pid": os.getpid(), "host": HOST, "status": "interrupted"
    }  # fmt: skip
    con.close()

    second = journal.start_session("main", "replay", {"file": "y.gz"})
    journal.set_session_status(second, "completed")
    assert journal.session_statuses() == {"main": "completed", "coin": "running"}
    with pytest.raises(InvariantError, match="session status"):
        journal.set_session_status(second, "crashed")
    with pytest.raises(InvariantError, match="no session 99"):
        journal.set_session_status(99, "completed")
    journal.close()


def test_append_refuses_an_event_of_another_account(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    event = five_trades()[0]

    with pytest.raises(InvariantError, match="foreign event"):
        journal.append("other", [event])
    journal.close()


def test_notes_and_tags_need_a_known_trade_and_real_text(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.append("main", five_trades())

    note = journal.add_note(2, "  moved the stop; should not have  ")
    journal.add_tag("T2", "fomo")
    journal.add_tag(2, "fomo")

    con = sqlite3.connect(journal.path)
    assert note == 1
    assert con.execute("SELECT trade_id, text FROM trade_notes").fetchall() == [
        (2, "moved the stop; should not have")
    ]
    assert con.execute("SELECT trade_id, tag FROM trade_tags").fetchall() == [(2, "fomo")]
    con.close()
    with pytest.raises(InputError, match="no trade '99'"):
        journal.add_note(99, "x")
    with pytest.raises(InputError, match="one word"):
        journal.add_tag(1, "two words")
    with pytest.raises(InputError, match="needs some text"):
        journal.add_note(1, "   ")
    journal.close()


def test_journal_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")

    with journal.reading() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        sync = conn.exec_driver_sql("PRAGMA synchronous").scalar()

    assert (mode, sync) == ("wal", 2)  # 2 = FULL
    journal.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is my shopping list\n" * 50, "not an SQLite file"),
        (b"SQLite format 3\x00" + bytes(range(256)) * 20, "corrupt"),
    ],
)
def test_non_sqlite_or_corrupt_file_is_refused_and_left_unchanged(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "journal.sqlite"
    path.write_bytes(content)

    with pytest.raises(JournalError, match=message) as info:
        Journal.open(path)

    assert "\n" not in str(info.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.sqlite"]


def _sqlite_file(path: Path, *statements: str) -> bytes:
    """Another program's SQLite file at ``path``; returns its bytes to compare after."""
    con = sqlite3.connect(path)
    for statement in statements:
        con.execute(statement)
    con.commit()
    con.close()
    return path.read_bytes()


def test_foreign_sqlite_file_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    before = _sqlite_file(
        path,
        "CREATE TABLE recipes (name TEXT, minutes INTEGER)",
        "INSERT INTO recipes VALUES ('pancakes', 20)",
    )

    with pytest.raises(JournalError, match="another program"):
        Journal.open(path)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_foreign_schema_version_table_is_not_mistaken_for_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    before = _sqlite_file(
        path,
        "CREATE TABLE schema_version (version INTEGER, app TEXT)",
        "INSERT INTO schema_version VALUES (7, 'flyway')",
    )

    with pytest.raises(JournalError, match="another program"):
        Journal.open(path)

    assert path.read_bytes() == before


def _open_and_write(path: Path) -> None:
    with Journal.open(path) as journal:
        journal.append("main", five_trades()[:1])


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_journal_gives_one_line_journal_error(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    path.chmod(stat.S_IRUSR)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(JournalError, match="read-only"):
            _open_and_write(path)
    finally:
        tmp_path.chmod(stat.S_IRWXU)
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_read_only_connection_gives_one_line_journal_error(tmp_path: Path) -> None:
    # Works as root too: SQLite itself refuses writes on a read-only (mode=ro) connection.
    path = tmp_path / "j.sqlite"
    Journal.open(path).close()
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    journal = Journal(path, engine)

    with pytest.raises(JournalError, match="is read-only") as info:
        journal.append("main", five_trades()[:1])

    assert "\n" not in str(info.value)
    journal.close()


def test_full_disk_gives_one_line_journal_error(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    with journal.reading() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    # Cap the file at its current size: SQLite then reports SQLITE_FULL like a full disk.
    big = [
        OrderFilled(
            seq=n,
            ts_ms=MON + n,
            account="main",
            venue=VENUE,
            symbol="BTC/USDT:USDT",
            order_id=f"o{n}" * 40,
            side="buy",
            contracts=Decimal("0.001"),
            price=Decimal("60000.1"),
            fee=Decimal("0.024"),
            currency="USDT",
            liquidity="taker",
            realized_pnl=Decimal(0),
            contract_size=Decimal(1),
            position_after=Decimal("0.001"),
            entry_price_after=Decimal("60000.1"),
            wallet_after=Decimal("999"),
        )
        for n in range(1, 400)
    ]

    @event.listens_for(journal._engine, "connect")
    def _cap(dbapi_con: sqlite3.Connection, _record: object) -> None:
        dbapi_con.execute(f"PRAGMA max_page_count = {pages + 2}")

    journal._engine.dispose()  # new connections get the cap

    with pytest.raises(JournalError, match="disk full") as info:
        journal.append("main", big)

    assert "\n" not in str(info.value)
    assert journal.events("main") == []  # the failed batch left nothing behind
    journal.close()
