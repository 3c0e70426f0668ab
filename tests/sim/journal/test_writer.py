"""Projections: events land in typed tables, and each trade claims its orders, fills and funding."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.engine.events import CommandRejected, Event, OrderRejected
from sim.errors import InvariantError
from sim.journal import Journal
from sim.journal.restore import decode_event
from sim.journal.writer import encode_payload, encode_value
from tests.sim.journal.builders import BTC, MON, VENUE, build_review_journal


@pytest.fixture
def con(tmp_path: Path):
    build_review_journal(tmp_path / "j.sqlite").close()
    connection = sqlite3.connect(tmp_path / "j.sqlite")
    yield connection
    connection.close()


def test_trade_row_holds_the_round_trip_with_net_pnl(con: sqlite3.Connection) -> None:
    row = con.execute(
        "SELECT trade_key, side, entry_price, exit_price, contracts, contract_size, leverage, "
        "margin_mode, stop_at_entry, risk_at_entry, realized_pnl, fees, funding, net_pnl, "
        "exit_reason, tag FROM trades WHERE id = 1"
    ).fetchone()

    assert row == (
        "T1", "long", "60000", "60660", "0.010", "1", "10", "isolated", "59700", "3.000",
        "6.60", "0.50", "-0.10", "6.00", "take_profit", "breakout",
    )  # fmt: skip


def test_each_trade_claims_its_fills_funding_and_liquidation(con: sqlite3.Connection) -> None:
    fills = con.execute("SELECT trade_id, COUNT(*) FROM fills GROUP BY trade_id").fetchall()
    funding = con.execute("SELECT trade_id, amount FROM funding ORDER BY seq").fetchall()
    liq = con.execute("SELECT trade_id, mark_price, mmr, cum, loss FROM liquidations").fetchall()

    assert fills == [(1, 2), (2, 2), (3, 2), (4, 2), (5, 2)]
    assert funding == [(1, "-0.10"), (2, "0.40")]
    assert liq == [(3, "57300.5", "0.004", "0", "4.50")]


def test_stop_cancelled_after_its_trade_closed_stays_with_that_trade(
    con: sqlite3.Connection,
) -> None:
    rows = con.execute(
        "SELECT order_id, event, reason, trade_id FROM orders WHERE order_id = 'o1s' ORDER BY seq"
    ).fetchall()

    assert rows == [("o1s", "accepted", "", 1), ("o1s", "cancelled", "oco", 1)]


def test_denied_order_keeps_guard_and_reason(con: sqlite3.Connection) -> None:
    rows = con.execute("SELECT order_id, reason, guard FROM orders WHERE event = 'denied'")

    assert rows.fetchall() == [("o9", "daily loss limit: take a break", "daily_loss")]


def test_fills_keep_price_fee_and_liquidity(con: sqlite3.Connection) -> None:
    row = con.execute(
        "SELECT price, fee, liquidity, realized_pnl, position_after, wallet_after, reason "
        "FROM fills WHERE order_id = 'o2s'"
    ).fetchone()

    assert row == ("3030", "0.20", "taker", "-3.00", "0", "1003.00", "stop")


def test_equity_rows_follow_the_wallet(con: sqlite3.Connection) -> None:
    rows = con.execute("SELECT wallet, source FROM equity ORDER BY seq").fetchall()

    assert rows[0] == ("1000", "WalletCredited")
    assert rows[-1] == ("1009.00", "OrderFilled")


def test_rejections_and_refused_commands_are_order_rows(tmp_path: Path) -> None:
    base = {"account": "main", "venue": VENUE, "symbol": BTC, "ts_ms": MON}
    journal = Journal.open(tmp_path / "j.sqlite")

    journal.append(
        "main",
        [
            OrderRejected(
                seq=1, **base, order_id="o1", reason="price 60000.05 is off the 0.10 tick",
                side="buy", order_type="limit", contracts=Decimal("0.001"),
                price=Decimal("60000.05"),
            ),
            CommandRejected(
                seq=2, **base, command="AmendOrder", reason="order o1 is not open",
                order_id="o1",
            ),
        ],
    )  # fmt: skip

    con = sqlite3.connect(journal.path)
    rows = con.execute(
        "SELECT seq, event, order_type, reason, price FROM orders ORDER BY seq"
    ).fetchall()
    con.close()
    journal.close()
    assert rows == [
        (1, "rejected", "limit", "price 60000.05 is off the 0.10 tick", "60000.05"),
        (2, "command_rejected", "AmendOrder", "order o1 is not open", None),
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticFutureEvent(Event):
    """An event type the journal has never seen: stored generically, rebuilt exactly."""

    ratios: tuple[Decimal, ...] = ()
    info: dict | None = None
    note: str = ""


def test_new_event_types_are_stored_generically(tmp_path: Path) -> None:
    event = SyntheticFutureEvent(
        seq=1,
        ts_ms=MON,
        account="main",
        ratios=(Decimal("0.10"), Decimal("2.5")),
        info={"mark": Decimal("60000.1"), "n": 3},
        note="x",
    )
    journal = Journal.open(tmp_path / "j.sqlite")

    journal.append("main", [event])

    assert journal.events("main") == [event]
    journal.close()


def test_payload_is_decimal_text_never_float() -> None:
    event = SyntheticFutureEvent(seq=1, ts_ms=MON, account="main", ratios=(Decimal("0.1"),))

    payload = json.loads(encode_payload(event))

    assert payload["ratios"] == [{"$d": "0.1"}]
    assert decode_event("SyntheticFutureEvent", encode_payload(event)) == event


def test_value_without_an_encoding_is_a_bug() -> None:
    with pytest.raises(InvariantError, match="no journal encoding"):
        encode_value(object())


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_finite_decimal_round_trips_digit_for_digit(value: Decimal) -> None:
    event = SyntheticFutureEvent(seq=1, ts_ms=MON, account="main", ratios=(value,))

    back = decode_event("SyntheticFutureEvent", encode_payload(event))

    assert repr(back.ratios[0]) == repr(value)  # same digits, same exponent, same sign of zero
