"""Typing at the desk (textual pilot, real keys): one order per Enter, history, completion,
Ctrl-C, confirmation, and the 80×24 layout keeping every risk number on screen."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from adapters.specs import SpecBook
from config.settings import Settings
from sim.desk.app import Confirm, DeskApp, position_rows
from sim.desk.pacing import ReplayClock
from sim.desk.session import DeskOptions, DeskSession
from sim.engine.events import OrderAccepted
from sim.engine.market import LastTrade
from tests.sim.desk.screen import screen_lines

T0 = 1_700_000_000_000
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


@pytest.fixture
def desk(desk_settings: Settings, book: SpecBook, tmp_path: Path) -> DeskSession:
    options = DeskOptions.from_settings(desk_settings, account="keys")
    session = DeskSession.open(options, book, tmp_path / "j.sqlite", start_ms=T0)
    session.feed(LastTrade("binanceusdm", BTC, T0, Decimal(60000), Decimal(1)))
    session.feed(LastTrade("binanceusdm", ETH, T0, Decimal(3000), Decimal(1)))
    yield session
    session.close()


def accepted(desk: DeskSession) -> list[OrderAccepted]:
    """Orders the trader sent (bracket children have a parent)."""
    return [e for e in desk.journal.events("keys")
            if isinstance(e, OrderAccepted) and not e.parent_id]  # fmt: skip


async def keys(pilot, text: str) -> None:
    """Type ``text`` key by key, as fast as the pilot can (no pause between keys)."""
    await pilot.press(*[{" ": "space"}.get(c, c) for c in text])


async def test_two_quick_enters_send_one_order_and_fast_lines_never_merge(
    desk: DeskSession,
) -> None:
    app = DeskApp(desk, [BTC, ETH])
    async with app.run_test(size=(80, 24)) as pilot:
        await keys(pilot, "buy 0.002 BTC")
        await pilot.press("enter", "enter")
        await keys(pilot, "cancel o8")
        await pilot.press("enter")
        await keys(pilot, "mode ETH isolated")
        await pilot.press("enter", "enter", "enter")
        await pilot.pause()

        assert len(accepted(desk)) == 1
        typed = [line for line in desk.log if line.startswith("> ")]
        assert typed == ["> buy 0.002 BTC", "> cancel o8", "> mode ETH isolated"]
        assert "cancel refused: unknown order o8" in "\n".join(desk.log) or any(
            "o8" in line and "refused" in line for line in desk.log
        )
        assert app.query_one("#command").value == ""


async def test_history_and_tab_completion(desk: DeskSession) -> None:
    app = DeskApp(desk, [BTC, ETH])
    async with app.run_test(size=(80, 24)) as pilot:
        box = app.query_one("#command")
        await keys(pilot, "sc")
        await pilot.press("tab")
        assert box.value == "scale "
        box.value = ""
        await keys(pilot, "buy 0.002 bt")
        await pilot.press("tab")
        assert box.value == "buy 0.002 BTC "
        await keys(pilot, "lim")
        await pilot.press("tab")
        assert box.value == "buy 0.002 BTC limit "
        await keys(pilot, "59000")
        await pilot.press("enter")
        await keys(pilot, "lev BTC 5")
        await pilot.press("enter")
        await pilot.pause()

        await pilot.press("up")
        assert box.value == "lev BTC 5"
        await pilot.press("up")
        assert box.value == "buy 0.002 BTC limit 59000"
        await pilot.press("down", "down")
        assert box.value == ""
        order_id = desk.account.open_orders()[0].order_id
        await keys(pilot, "cancel o")
        await pilot.press("tab")
        assert box.value == f"cancel {order_id} "


async def test_ctrl_c_quits(desk: DeskSession) -> None:
    app = DeskApp(desk, [BTC, ETH])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+c")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_bare_step_and_a_failing_command_are_one_log_line(
    desk: DeskSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.clock = ReplayClock(0, 60_000, paused=True)
    desk.clock.last_ms = T0
    app = DeskApp(desk, [BTC, ETH])
    async with app.run_test(size=(80, 24)) as pilot:
        await keys(pilot, "step")
        await pilot.press("enter")
        await pilot.pause()
        assert desk.log[-1] == "replay steps 1 bar(s) of 1 min to 2023-11-14 22:14 UTC"

        def broken(line: str) -> None:
            raise ZeroDivisionError("boom")

        monkeypatch.setattr(desk, "submit", broken)
        await keys(pilot, "buy 0.001 BTC")
        await pilot.press("enter")
        await pilot.pause()

        assert desk.log[-1] == "internal error in 'buy 0.001 BTC': ZeroDivisionError: boom"
        assert app.internal_errors == 1
        assert app.is_running  # the desk stays usable; the CLI exits 70 at quit


async def test_confirmation_above_the_notional_threshold(desk: DeskSession) -> None:
    app = DeskApp(desk, [BTC, ETH], confirm=Confirm(Decimal(5), Decimal(20)))
    async with app.run_test(size=(80, 24)) as pilot:
        await keys(pilot, "buy 0.1 BTC")  # 6,000 notional = 6× the 1,000 equity
        await pilot.press("enter")
        await pilot.pause()
        assert desk.log[-1] == (
            "CONFIRM: notional 6.0× equity (confirm above 5×); type y to send, anything else "
            "cancels"
        )
        assert accepted(desk) == []
        await pilot.press("enter")  # an empty Enter confirms nothing
        await keys(pilot, "y")
        await pilot.press("enter")
        await pilot.pause()
        assert len(accepted(desk)) == 1

        await keys(pilot, "sell 0.01 ETH lev 50")
        await pilot.press("enter")
        await keys(pilot, "n")
        await pilot.press("enter")
        await pilot.pause()
        assert desk.log[-1] == "not sent: sell 0.01 ETH lev 50"
        assert len(accepted(desk)) == 1


async def test_help_opens_a_panel_with_examples(desk: DeskSession) -> None:
    app = DeskApp(desk, [BTC, ETH])
    async with app.run_test(size=(80, 24)) as pilot:
        await keys(pilot, "help")
        await pilot.press("enter")
        await pilot.pause()
        lines = screen_lines(app)
        screen = "\n".join(lines)
        assert "buy 0.01 BTC lev 10 isolated stop 55000 tp 66000" in screen
        assert "close all" in screen
        assert lines[-1].startswith("type a command")  # the command line stays on screen
        await pilot.press("escape")
        await pilot.pause()
        assert "isolated stop 55000 tp 66000" not in "\n".join(screen_lines(app))


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_layout_keeps_every_risk_number_on_screen(
    desk: DeskSession, size: tuple[int, int]
) -> None:
    desk.clock = ReplayClock(0, 60_000, paused=True)
    app = DeskApp(desk, [BTC, ETH], subtitle="keys · binanceusdm")
    async with app.run_test(size=size) as pilot:
        await keys(pilot, "buy 0.01 BTC lev 10 isolated stop 55000 tp 66000")
        await pilot.press("enter")
        await keys(pilot, "sell 0.05 ETH limit 3100")
        await pilot.press("enter")
        await pilot.pause()
        app.refresh_view()
        await pilot.pause()
        lines = screen_lines(app)
        screen = "\n".join(lines)

        (row,) = position_rows(desk)
        # symbol contracts ×mult notional entry mark uPnL margin ratio liq dist lev stop tp
        for i, value in enumerate(row):
            assert value.split()[0] in screen, (i, value)
        assert "54,227.71" in screen  # the engine's liquidation price (isolated 10x)
        assert row[9].endswith("%")
        assert row[9] in screen  # margin ratio
        assert "2023-11-14 22:13:20 UTC" in lines[0]
        assert "PAUSED" in lines[0]
        assert "trades today 1/20" in screen
        log_start = next(i for i, line in enumerate(lines) if line.startswith("──"))
        assert len([line for line in lines[log_start + 1 : -1] if line.strip()]) >= 3
        assert all(len(line) <= size[0] for line in lines)


async def test_close_all_and_cancel_all(desk: DeskSession) -> None:
    app = DeskApp(desk, [BTC, ETH])
    async with app.run_test(size=(80, 24)) as pilot:
        for line in ("buy 0.01 BTC stop 55000 tp 66000", "sell 0.1 ETH", "buy 0.1 ETH limit 2900",
                     "sell 0.01 BTC limit 70000"):  # fmt: skip
            await keys(pilot, line)
            await pilot.press("enter")
        await pilot.pause()
        assert len(desk.account.open_orders()) == 4
        assert len(desk.account.positions()) == 2

        await keys(pilot, "cancel all")
        await pilot.press("enter")
        await pilot.pause()
        assert desk.account.open_orders() == []
        assert len(desk.account.positions()) == 2
        await keys(pilot, "close all")
        await pilot.press("enter")
        await pilot.pause()
        assert desk.account.positions() == []
        await keys(pilot, "close all")
        await pilot.press("enter")
        await pilot.pause()
        assert desk.log[-1] == "nothing to close: no positions"
