"""The desk screen driven as a user would (textual pilot); screens hold the engine's figures."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from textual.widgets import Input, RichLog, Static

from adapters.specs import SpecBook
from config.settings import Settings
from sim.desk.app import (
    DeskApp,
    countdown,
    liq_distance,
    next_funding_ms,
    order_rows,
    position_rows,
    price_rows,
)
from sim.desk.describe import money, pricer, px
from sim.desk.session import DeskOptions, DeskSession
from sim.display import fmt
from sim.engine.events import OrderFilled
from sim.engine.market import FundingRate, LastTrade, MarkPrice

T0 = 1_700_000_000_000
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"
V = "binanceusdm"


def synthetic_trade(symbol: str, price: str, ts: int) -> LastTrade:
    return LastTrade(V, symbol, ts, Decimal(price), Decimal(1))


@pytest.fixture
def options(desk_settings: Settings) -> DeskOptions:
    return DeskOptions.from_settings(desk_settings, account="pilot")


def open_desk(options: DeskOptions, book: SpecBook, db: Path) -> DeskSession:
    desk = DeskSession.open(options, book, db, start_ms=T0)
    desk.feed(synthetic_trade(BTC, "60000", T0))
    desk.feed(synthetic_trade(ETH, "3000", T0))
    return desk


async def type_line(app: DeskApp, pilot, line: str) -> None:
    app.query_one("#command", Input).value = line
    await pilot.press("enter")
    await pilot.pause()


def rows(app: DeskApp, table_id: str) -> list[list[str]]:
    """The rows a panel shows (the panels are drawn from these functions)."""
    desk = app.desk
    got = {
        "#positions": lambda: position_rows(desk),
        "#orders": lambda: order_rows(desk),
        "#prices": lambda: price_rows(desk, app.symbols),
    }[table_id]()
    return [list(r) for r in got]


def log_text(app: DeskApp) -> str:
    return "\n".join(str(line.text) for line in app.query_one("#log", RichLog).lines)


def wallet(app: DeskApp) -> str:
    return str(app.query_one("#wallet", Static).content)


async def test_place_amend_cancel_close_update_the_screen(
    options: DeskOptions, book: SpecBook, tmp_path: Path
) -> None:
    desk = open_desk(options, book, tmp_path / "j.sqlite")
    app = DeskApp(desk, [BTC, ETH])

    async with app.run_test(size=(220, 60)) as pilot:
        await type_line(app, pilot, "buy 0.01 BTC lev 10 isolated stop 55000 tp 66000")
        (pos,) = desk.account.positions()
        (row,) = rows(app, "#positions")
        assert row[:4] == [BTC, "long", "0.01", "1"]
        assert row[5] == px(pos.entry_price) == "60,012"
        assert row[10] == px(pos.liquidation_price) == "54,227.71"
        assert row[8] == money(pos.isolated_margin) == "60.01"
        assert row[11] == f"{fmt(liq_distance(pos), 2)}%"
        assert row[13:] == ["55,000", "66,000"]

        await type_line(app, pilot, "sell 0.05 ETH limit 3100")
        order_id = desk.account.open_orders()[-1].order_id
        assert rows(app, "#orders")[-1][:7] == [
            order_id, ETH, "sell", "limit", "0.05", "0", "3,100"
        ]  # fmt: skip
        await type_line(app, pilot, f"amend {order_id} price 3150")
        assert rows(app, "#orders")[-1][6] == "3,150"
        await type_line(app, pilot, f"cancel {order_id}")
        assert all(r[0] != order_id for r in rows(app, "#orders"))

        await type_line(app, pilot, "close BTC")
        assert rows(app, "#positions") == []
        assert rows(app, "#orders") == []  # the bracket went with the position
        text = log_text(app)
        assert f"{order_id} amended: price 3,150" in text
        assert f"{order_id} cancelled (user)" in text
        assert "trade closed long BTC/USDT:USDT" in text
        cur_wallet = desk.account.wallets()["USDT"]
        assert f"USDT wallet {money(cur_wallet, 'USDT')}" in wallet(app)

        await type_line(app, pilot, "buy banana BTC")
        assert "error: contracts must be a number, was 'banana'" in log_text(app)
    desk.close()


async def test_loss_limit_locks_entries_on_screen(
    options: DeskOptions, book: SpecBook, tmp_path: Path
) -> None:
    desk = open_desk(options, book, tmp_path / "j.sqlite")
    app = DeskApp(desk, [BTC, ETH])

    async with app.run_test(size=(220, 60)) as pilot:
        await type_line(app, pilot, "buy 0.2 BTC")
        desk.feed(synthetic_trade(BTC, "59800", T0 + 60_000))
        await type_line(app, pilot, "close BTC")
        await type_line(app, pilot, "buy 0.001 BTC")

        # the lock began at the close; the refused buy was typed 1 ms later (commands get
        # distinct instants), so an hour minus 1 ms is left
        assert desk.guards.state.locked_until_ms - desk.now_ms == 3_600_000 - 1
        assert "LOCKED 0:59:59 — exits only" in wallet(app)
        assert "DENIED BTC/USDT:USDT: entries locked by the daily loss limit" in log_text(app)
        assert rows(app, "#positions") == []
        day = desk.guards.day_result
        assert f"today {money(day)} (limit −30)" in wallet(app)
    desk.close()


async def test_quit_and_resume_shows_the_same_account(
    options: DeskOptions, book: SpecBook, tmp_path: Path
) -> None:
    db = tmp_path / "j.sqlite"
    desk = open_desk(options, book, db)
    app = DeskApp(desk, [BTC, ETH])
    async with app.run_test(size=(220, 60)) as pilot:
        await type_line(app, pilot, "buy 0.01 BTC lev 10 isolated")
        await type_line(app, pilot, "sell 0.05 ETH limit 3100")
        before_positions, before_orders = rows(app, "#positions"), rows(app, "#orders")
        await type_line(app, pilot, "quit")
    assert app.return_code == 0
    desk.close()

    again = DeskSession.open(options, book, db, start_ms=T0 + 1)
    app2 = DeskApp(again, [BTC, ETH])
    async with app2.run_test(size=(220, 60)) as pilot:
        await pilot.pause()

        assert rows(app2, "#positions") == before_positions
        assert rows(app2, "#orders") == before_orders
        assert "resumed account 'pilot' from the journal" in log_text(app2)
    again.close()


async def test_feed_updates_prices_and_funding_countdown(
    options: DeskOptions, book: SpecBook, tmp_path: Path
) -> None:
    desk = open_desk(options, book, tmp_path / "j.sqlite")
    funding_at = T0 + 2 * 3_600_000

    async def feed() -> AsyncIterator[object]:
        yield MarkPrice(V, BTC, T0 + 1000, Decimal("60005.5"))
        yield FundingRate(V, BTC, T0 + 1000, Decimal("0.0001"), funding_at)
        yield synthetic_trade(BTC, "60010", T0 + 1000)

    app = DeskApp(desk, [BTC, ETH], feed())
    async with app.run_test(size=(220, 60)) as pilot:
        for _ in range(50):
            await pilot.pause(0.02)
            if desk.account.now_ms == T0 + 1000:
                break
        app.refresh_view()  # the screen also refreshes itself every 0.25 s

        btc_row = rows(app, "#prices")[0]
        assert btc_row[:3] == [BTC, "60,010", "60,005.50"]  # on the display step (cents)
        assert btc_row[5] == "0.01%"
        assert btc_row[6] == countdown(funding_at - (T0 + 1000)) == "1:59:59"
    desk.close()


def test_funding_countdown_falls_back_to_the_interval_grid(
    options: DeskOptions, book: SpecBook, tmp_path: Path
) -> None:
    desk = open_desk(options, book, tmp_path / "j.sqlite")

    nxt = next_funding_ms(desk, BTC)

    # 2023-11-14 22:13:20 UTC → next 8 h funding instant 2023-11-15 00:00:00 UTC
    assert nxt == 1_700_006_400_000
    desk.close()


async def test_live_feed_from_the_loopback_exchange_drives_the_desk(
    options: DeskOptions, book: SpecBook, desk_settings: Settings, shared_data: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    from adapters.live import open_feed
    from adapters.loopback.server import LoopbackExchange

    desk = DeskSession.open(options, book, tmp_path / "j.sqlite", start_ms=T0)
    async with LoopbackExchange(
        "binanceusdm", [shared_data], symbols=["BTCUSDT"], pace_s=0.002, max_frames=400
    ) as lb:
        feed = open_feed("binanceusdm", [BTC], desk_settings, endpoint=lb.base_url)
        app = DeskApp(desk, [BTC], feed)
        async with app.run_test(size=(220, 60)) as pilot:

            async def priced() -> None:
                while not (desk.quotes.get(BTC) and desk.quotes[BTC].ask):
                    await pilot.pause(0.02)

            await asyncio.wait_for(priced(), 15)
            await type_line(app, pilot, "buy 0.002 BTC")
            app.refresh_view()

            fill = next(e for e in reversed(desk.journal.events("pilot"))
                        if isinstance(e, OrderFilled))  # fmt: skip
            (row,) = rows(app, "#positions")
            assert row[2] == "0.002"
            assert row[5] == pricer(book.get(BTC))(fill.price)
            assert fill.liquidity == "taker"
            # the echo shown before sending predicted the engine's fill exactly
            echoed = re.search(r"market ≈ ([\d,.]+) \| notional", log_text(app))
            assert echoed is not None
            assert Decimal(echoed.group(1).replace(",", "")) == fill.price
            assert rows(app, "#prices")[0][3] != "-"  # bid shown from the live book
    desk.close()


async def test_a_dropped_live_connection_is_logged_and_prices_never_go_back(
    options: DeskOptions, book: SpecBook, desk_settings: Settings, shared_data: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    from adapters.live import open_feed
    from adapters.loopback.faults import Fault
    from adapters.loopback.server import LoopbackExchange

    desk = DeskSession.open(options, book, tmp_path / "j.sqlite", start_ms=T0)
    trades: list[int] = []
    async with LoopbackExchange(
        "binanceusdm", [shared_data], symbols=["BTCUSDT"], pace_s=0.002, max_frames=500,
        faults=[Fault("drop", 200)],
    ) as lb:  # fmt: skip
        feed = open_feed("binanceusdm", [BTC], desk_settings, endpoint=lb.base_url)

        async def watched() -> AsyncIterator[object]:
            async for inp in feed:
                if isinstance(inp, LastTrade):
                    trades.append(inp.ts_ms)
                yield inp

        app = DeskApp(desk, [BTC], watched())
        async with app.run_test(size=(80, 24)) as pilot:

            async def until_done() -> None:
                while lb.faults.fired == [] or len(trades) < 5 or lb.connections_opened < 4:
                    await pilot.pause(0.05)
                await pilot.pause(0.5)

            await asyncio.wait_for(until_done(), 20)
            app.refresh_view()
            status = app.status_text()

    log = "\n".join(desk.log)
    assert lb.faults.fired[0][1] == "drop"
    assert "feed: " in log
    assert "reconnecting" in log  # the drop is on the desk, not only in a log file
    assert trades == sorted(trades)  # the replay went on after the reconnect: no jump back
    assert "LIVE" in status
    desk.close()


async def test_a_silent_live_feed_shows_no_data_then_live(
    options: DeskOptions, book: SpecBook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.desk.app as app_module

    monkeypatch.setattr(app_module, "SILENT_S", 0.2)
    desk = open_desk(options, book, tmp_path / "j.sqlite")
    go = asyncio.Event()

    async def feed() -> AsyncIterator[object]:
        await go.wait()
        yield synthetic_trade(BTC, "60010", T0 + 1000)
        await asyncio.Event().wait()  # a live feed stays open

    app = DeskApp(desk, [BTC, ETH], feed())
    async with app.run_test(size=(80, 24)) as pilot:
        assert "CONNECTING" in app.status_text()
        await pilot.pause(0.6)
        silent = app.status_text()
        go.set()
        await pilot.pause(0.3)
        flowing = app.status_text()

    assert "NO DATA" in silent
    assert any(line.startswith("feed: no market data for ") for line in desk.log)
    assert "feed: data flowing again" in desk.log
    assert "LIVE" in flowing
    desk.close()
