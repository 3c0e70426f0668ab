"""Journal → DataFrames: filters, exact Decimal columns, and the story of one trade."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.journal import Journal
from sim.review import frames
from tests.sim.journal.builders import DAY, ETH, MON, build_review_journal, five_trades


@pytest.fixture
def journal(tmp_path: Path):
    j = build_review_journal(tmp_path / "j.sqlite")
    yield j
    j.close()


def test_trades_frame_filters_by_symbol_tag_and_close_time(journal: Journal) -> None:
    journal.add_tag(5, "late")

    eth = frames.trades_frame(journal, symbol=ETH)
    late = frames.trades_frame(journal, tag="late")
    breakout = frames.trades_frame(journal, tag="breakout")
    tuesday = frames.trades_frame(journal, since_ms=MON + DAY, until_ms=MON + 2 * DAY)

    assert list(eth["id"]) == [2, 5]
    assert list(late["id"]) == [5]
    assert list(breakout["id"]) == [1, 4]
    assert list(tuesday["id"]) == [3]
    assert frames.trades_frame(journal, account="other").empty


def test_money_columns_are_exact_decimals(journal: Journal) -> None:
    trades = frames.trades_frame(journal)

    assert list(trades["net_pnl"]) == [
        Decimal("6.00"), Decimal("-3.00"), Decimal("-4.50"), Decimal("12.00"), Decimal("-1.50"),
    ]  # fmt: skip
    assert trades["risk_at_entry"][2] is None


def test_trade_story_has_orders_fills_funding_liquidation_and_notes(journal: Journal) -> None:
    journal.add_note(3, "no stop, 20x: never again")

    story = frames.trade_story(journal, 3)

    assert story["trade"]["exit_reason"] == "liquidation"
    assert [o["order_id"] for o in story["orders"]] == ["o3e"]
    assert [f["reason"] for f in story["fills"]] == ["order", "liquidation"]
    assert story["liquidations"][0]["liquidation_price"] == Decimal("57301.2")
    assert [n["text"] for n in story["notes"]] == ["no stop, 20x: never again"]
    assert frames.trade_story(journal, "T1")["funding"][0]["amount"] == Decimal("-0.10")


def test_unknown_trade_is_an_input_error(journal: Journal) -> None:
    with pytest.raises(InputError, match="no trade '42'"):
        frames.trade_story(journal, 42)


def test_other_tables_as_frames(journal: Journal) -> None:
    fills = frames.table_frame(journal, "fills", account="main")
    funding = frames.table_frame(journal, "funding")

    assert len(fills) == 10
    assert sum(fills["fee"], Decimal(0)) == Decimal("1.80")
    assert list(funding["amount"]) == [Decimal("-0.10"), Decimal("0.40")]


def test_starting_balance_falls_back_to_the_first_deposit(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite")
    journal.ensure_account("main", "binanceusdm", "USDT", Decimal(0))  # registered before deposit
    journal.append("main", five_trades()[:3])

    balances = frames.starting_balances(journal)

    assert balances == {"main": Decimal(1000)}
    journal.close()
