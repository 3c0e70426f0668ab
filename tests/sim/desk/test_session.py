"""The desk core: echo before send, guards, journal on every batch, resume after a restart."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from adapters.pricepath import CandleSeries, MarketData
from adapters.specs import SpecBook
from config.settings import Settings
from sim.desk.replaying import Player
from sim.desk.session import DeskOptions, DeskSession
from sim.display import fmt
from sim.engine.events import FeedStale, OrderDenied, OrderFilled, WalletCredited
from sim.engine.market import LastTrade, MarkPrice
from sim.errors import InputError
from sim.guards import GuardLocked, GuardWarned
from sim.journal import Journal

T0 = 1_700_000_000_000  # 2023-11-14 22:13:20 UTC
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def synthetic_trade(symbol: str, price: str, ts: int) -> LastTrade:
    return LastTrade("binanceusdm", symbol, ts, Decimal(price), Decimal(1))


def synthetic_mark(symbol: str, price: str, ts: int) -> MarkPrice:
    return MarkPrice("binanceusdm", symbol, ts, Decimal(price))


@pytest.fixture
def options(desk_settings: Settings) -> DeskOptions:
    return DeskOptions.from_settings(desk_settings, account="t")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


def open_desk(options: DeskOptions, book: SpecBook, db: Path) -> DeskSession:
    desk = DeskSession.open(options, book, db, start_ms=T0)
    desk.feed(synthetic_trade(BTC, "60000", T0))
    desk.feed(synthetic_trade(ETH, "3000", T0))
    return desk


def test_new_account_starts_with_the_configured_deposit(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    desk.close()

    with Journal.open(db) as journal:
        events = journal.events("t")

    assert isinstance(events[0], WalletCredited)
    assert events[0].amount == Decimal(1000)
    assert not desk.resumed


def test_limit_echo_uses_the_binance_formula(options: DeskOptions, book: SpecBook, db: Path):
    desk = open_desk(options, book, db)

    reply = desk.submit("buy 0.01 BTC limit 60000 lev 10 isolated")

    echo = reply.echoes[0]
    # exchange-mechanics §A.2 micro example: long 0.01 BTC @60,000 at 10x isolated → 54,216.87
    assert echo.liquidation_price == Decimal("54216.87")
    assert (echo.notional, echo.margin) == (Decimal("600.00"), Decimal("60.00"))
    assert "liq 54,216.87" in echo.line()
    desk.close()


def test_market_echo_equals_what_the_engine_then_does(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)

    reply = desk.submit("buy 0.01 BTC lev 10 isolated")

    echo = reply.echoes[0]
    fill = next(e for e in reply.events if isinstance(e, OrderFilled))
    (position,) = desk.account.positions()
    assert echo.exact
    assert echo.price == fill.price == Decimal("60012.0")  # last 60,000 + 2 bps slippage
    assert echo.notional == Decimal("600.120")
    assert echo.margin == Decimal("60.012")
    assert echo.liquidation_price == position.liquidation_price
    desk.close()


def test_market_echo_and_fill_line_show_the_same_price_text(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    desk.feed(synthetic_trade(BTC, "61788.0", T0 + 1))  # + 2 bps slippage = 61,800.3576

    reply = desk.submit("buy 0.01 BTC lev 10 isolated")

    fill = next(e for e in reply.events if isinstance(e, OrderFilled))
    assert fill.price == Decimal("61800.4")  # the engine fills on the 0.1 tick
    echoed = reply.echoes[0].line().split(" ≈ ")[1].split(" | ")[0]
    (filled,) = [line for line in desk.log if " filled: " in line]
    assert echoed == "61,800.40"
    assert f"@ {echoed} (" in filled
    desk.close()


def test_bad_input_is_one_line_and_changes_nothing(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    seq = desk.account.seq

    replies = [desk.submit(line) for line in ("buy x BTC", "close BTC", "size DOGE stop 1", "")]

    assert [r.ok for r in replies] == [False] * 4
    assert replies[0].lines == ["error: contracts must be a number, was 'x'"]
    assert replies[1].lines == [f"error: no open position in {BTC} to close"]
    assert "unknown symbol 'DOGE'" in replies[2].lines[0]
    assert desk.account.seq == seq
    desk.close()


def test_leverage_and_mode_keep_each_other(options: DeskOptions, book: SpecBook, db: Path):
    desk = open_desk(options, book, db)

    desk.submit("mode BTC isolated")
    desk.submit("lev BTC 5")

    assert desk.leverage_of(BTC) == (Decimal(5), "isolated")
    desk.close()


def test_size_proposes_contracts_at_the_configured_risk(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)

    reply = desk.submit("size BTC stop 59000")

    # 1 % of 1,000 = 10 USDT; per contract 1,000 + taker fees 0.0005 × (60,000 + 59,000) = 1,059.5
    assert reply.proposal.contracts == Decimal("0.009")
    assert reply.lines[-1] == "type: buy 0.009 BTC/USDT:USDT stop 59,000"
    desk.close()


def test_scale_ladder_rests_on_the_book(options: DeskOptions, book: SpecBook, db: Path) -> None:
    desk = open_desk(options, book, db)

    desk.submit("scale buy 0.005 BTC from 59000 to 58000 in 3")

    rows = [(o.price, o.contracts) for o in desk.account.open_orders()]
    assert rows == [
        (Decimal(59000), Decimal("0.001")),
        (Decimal(58500), Decimal("0.001")),
        (Decimal(58000), Decimal("0.003")),
    ]
    desk.close()


def test_loss_limit_locks_entries_but_not_exits_and_journals_it(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    desk.submit("buy 0.2 BTC lev 20")
    desk.submit("buy 0.1 ETH lev 20")

    # BTC falls 60,012 → 59,800: −42.4 on 0.2 BTC plus fees, beyond 3 % of 1,000
    desk.feed(synthetic_trade(BTC, "59800", T0 + 60_000))
    closed = desk.submit("sell 0.2 BTC")
    denied = desk.submit("buy 0.001 BTC")
    exit_eth = desk.submit("close ETH")

    lock = next(e for e in closed.events if isinstance(e, GuardLocked))
    assert lock.guard == "daily_loss"
    assert lock.until_ms == T0 + 60_000 + 60 * 60_000
    assert not denied.ok
    assert isinstance(denied.events[-1], OrderDenied)
    assert any(isinstance(e, OrderFilled) for e in exit_eth.events)
    desk.close()
    with Journal.open(db) as journal:
        kinds = [e.kind for e in journal.events("t")]
    assert "GuardLocked" in kinds
    assert "OrderDenied" in kinds


def test_leverage_warning_is_journaled(options: DeskOptions, book: SpecBook, db: Path) -> None:
    desk = open_desk(options, book, db)

    reply = desk.submit("buy 0.001 BTC lev 50")

    warned = [e for e in reply.events if isinstance(e, GuardWarned)]
    assert [w.guard for w in warned] == ["leverage"]
    assert "warning: leverage 50x is above your warning level of 20x" in desk.log
    desk.close()


def test_quit_and_resume_keeps_positions_orders_and_locks(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    desk.submit("buy 0.01 BTC lev 10 isolated stop 59000")
    desk.submit("sell 0.05 ETH limit 3100")
    desk.guards.state.locked_until_ms, desk.guards.state.lock_guard = T0 + 1, "max_trades"
    desk.feed(synthetic_mark(BTC, "60010", T0 + 1000))  # a committed batch saves the guards
    before = (desk.account.snapshot(), desk.guards.state.to_dict())
    desk.close()

    again = DeskSession.open(options, book, db, start_ms=T0 + 5000)

    assert again.resumed
    assert (again.account.snapshot(), again.guards.state.to_dict()) == before
    assert [o.order_type for o in again.account.open_orders()] == ["stop_market", "limit"]
    assert again.account.positions()[0].contracts == Decimal("0.01")
    again.close()


def test_resume_refuses_an_account_of_another_venue(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    open_desk(options, book, db).close()
    other = SpecBook("bybit", book.specs, "test")

    with pytest.raises(InputError, match="trades on binanceusdm, not bybit"):
        DeskSession.open(options, other, db, start_ms=T0)


def test_liquidation_inside_the_stop_is_warned_before_sending(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)

    reply = desk.submit("buy 0.01 BTC lev 50 isolated stop 58000")

    echo = reply.echoes[0]
    warned = [e for e in reply.events if isinstance(e, GuardWarned)]
    assert [w.guard for w in warned] == ["leverage", "liquidation_inside_stop"]
    # the liquidation price the engine then shows is the one the warning named
    (position,) = desk.account.positions()
    assert echo.liquidation_price == position.liquidation_price
    assert position.liquidation_price > Decimal(58000)
    # named on the display step (cents), as the echo shows it, not with 28 digits
    assert echo.shown(echo.liquidation_price) == Decimal("59047.95")
    assert "liquidation at 59047.95 comes before your stop at 58000" in warned[1].message
    desk.close()


def _synthetic_series(symbol: str, closes: list[float], t0: int) -> CandleSeries:
    c = np.array(closes, dtype="float64")
    return CandleSeries(
        symbol=symbol,
        timeframe="1m",
        period_ms=60_000,
        ts=np.arange(len(closes), dtype="int64") * 60_000 + t0,
        open=c,
        high=c + 10,
        low=c - 10,
        close=c,
        path=Path("synthetic_candles"),
    )


def test_replay_marks_a_symbol_stale_when_its_data_ends_and_fills_nothing_after(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    btc = _synthetic_series(BTC, [60000, 60100], T0)  # ends at T0 + 2 min
    eth = _synthetic_series(ETH, [3000, 3001, 3002, 3003, 3004, 3005], T0)
    data = MarketData({BTC: btc, ETH: eth}, [], [], {BTC: False, ETH: False})
    desk = DeskSession.open(options, book, db, start_ms=T0)
    player = Player(desk, data, T0, [BTC, ETH])
    player.play_until(T0 + 60_000)
    opened = desk.submit("buy 0.01 BTC lev 10 isolated")
    logged = desk.logged

    player.play_until(T0 + 5 * 60_000)
    closing = desk.submit("close BTC")

    assert any(isinstance(e, OrderFilled) for e in opened.events)
    assert desk.account.stale == {BTC}
    stale = [e for e in desk.journal.events("t") if isinstance(e, FeedStale)]
    assert [(e.symbol, e.stale, e.ts_ms) for e in stale] == [(BTC, True, T0 + 2 * 60_000 - 1)]
    assert any(
        f"feed {BTC} STALE recorded data ended 2023-11-14 22:15 UTC" in line
        for line in desk.lines_since(logged)
    )
    assert not any(isinstance(e, OrderFilled) for e in closing.events)
    assert desk.position_contracts(BTC) == Decimal("0.01")
    desk.close()


def test_refused_margin_mode_change_is_said_in_trader_words(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    desk.submit("buy 0.01 BTC cross")
    before = desk.logged

    desk.submit("mode BTC isolated")

    lines = desk.lines_since(before)
    refusal = [line for line in lines if "refused" in line]
    assert len(refusal) == 1, lines
    assert refusal[0].startswith("margin mode change refused: ")
    assert "SetLeverage" not in "\n".join(lines)
    assert "REJECTED" not in "\n".join(lines)
    assert desk.leverage_of(BTC)[1] == "cross"
    desk.close()


def test_size_on_a_cross_account_states_the_echos_liquidation_price(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    desk.submit("mode BTC cross")  # the desk's default for a new position is isolated

    size = desk.submit("size BTC stop 59000")
    buy = desk.submit(size.lines[-1].removeprefix("type: "))

    (echo,) = buy.echoes
    assert echo.margin_mode == "cross"
    # 0.009 BTC against a 1,000 USDT cross wallet: the engine finds no liquidation price
    assert echo.liquidation_price is None
    assert size.proposal.liquidation_price is None
    assert "x cross, liq - (cross: the wallet covers it)" in size.lines[0]
    desk.close()


def test_size_on_an_isolated_symbol_states_the_echos_liquidation_price(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    desk.submit("mode BTC isolated")

    size = desk.submit("size BTC stop 59000")
    buy = desk.submit(size.lines[-1].removeprefix("type: "))

    (echo,) = buy.echoes
    assert echo.margin_mode == "isolated"
    assert size.proposal.liquidation_price == echo.shown(echo.liquidation_price)
    # fill 60,000 + 2 bps = 60,012; isolated 20x, mmr 0.004: 60,012 × 0.95 / 0.996 = 57,240.36
    assert echo.price == Decimal("60012.0")
    assert size.proposal.liquidation_price == Decimal("57240.36")
    assert f"x isolated, liq {fmt(size.proposal.liquidation_price)}" in size.lines[0]
    desk.close()


def test_replay_clock_words_on_a_live_desk_say_they_need_a_replay(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)

    reply = desk.submit("pause")

    assert not reply.ok
    assert reply.lines == [
        "error: pause drives a replay; this desk is on live prices (start it with --replay DATA)"
    ]
    desk.close()


def test_echo_says_an_order_reduces_or_flips_the_position(
    desk_settings: Settings, book: SpecBook, tmp_path: Path
) -> None:
    from sim.desk.describe import position_effect

    options = DeskOptions.from_settings(desk_settings, account="flip")
    desk = DeskSession.open(options, book, tmp_path / "j.sqlite", start_ms=T0)
    desk.feed(LastTrade("binanceusdm", BTC, T0, Decimal(60000), Decimal(1)))
    desk.submit("buy 0.009 BTC")

    reduce = desk.submit("sell 0.008 BTC").echoes[0].line()
    flip = desk.submit("sell 0.003 BTC").echoes[0].line()
    hedge = desk.submit("hedge -500 beta 1.5").lines

    assert " | reduces long 0.009 → 0.001 | " in reduce
    assert " | flips long 0.001 → short 0.002 | " in flip
    assert hedge[-1] == "type: buy 0.013 BTC/USDT:USDT"  # 500 × 1.5 / 60,000 = 0.0125, nearest step
    assert hedge[1] == (
        "note: this order flips short 0.002 → long 0.011 (the hedge offsets your own position)"
    )
    assert (
        position_effect(Decimal("0.009"), "sell", Decimal("0.008")) == "reduces long 0.009 → 0.001"
    )
    assert position_effect(Decimal("-1"), "buy", Decimal("2"), True) == "closes short 1"
    assert position_effect(Decimal("1"), "buy", Decimal("2")) == "adds to long 1 → 3"
    desk.close()


def test_ladder_rungs_echo_the_combined_positions_liquidation(
    desk_settings: Settings, book: SpecBook, tmp_path: Path
) -> None:
    from sim.engine.sizing import quote_liquidation

    options = DeskOptions.from_settings(desk_settings, account="ladder")
    desk = DeskSession.open(options, book, tmp_path / "j.sqlite", start_ms=T0)
    desk.feed(LastTrade("binanceusdm", BTC, T0, Decimal(60000), Decimal(1)))
    desk.submit("mode BTC isolated")
    desk.submit("lev BTC 10")

    echoes = desk.submit("scale buy 0.03 BTC from 59000 to 58000 in 3").echoes

    spec = book.get(BTC)
    combined = [
        quote_liquidation(spec, side="long", entry=entry, contracts=Decimal(n),
                          leverage=Decimal(10), margin_mode="isolated").liquidation_price
        for entry, n in ((Decimal(59000), "0.01"), (Decimal(58750), "0.02"),
                         (Decimal(58500), "0.03"))
    ]  # fmt: skip
    assert [e.liquidation_price for e in echoes] == combined
    assert combined[0] != combined[2]  # the third rung is quoted on the whole ladder
    desk.close()


def test_a_lock_cancels_working_entries_so_an_amend_cannot_open_a_position(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    """Issue 13: under `LOCKED … exits only`, `amend o31 price 1806` was accepted and filled as
    a new position. Now the lock cancels the working entry and the amend is refused."""
    desk = open_desk(options, book, db)
    entry = desk.submit("sell 0.5 ETH limit 3100 cross").events[0].order_id  # type: ignore[attr-defined]
    desk.submit("buy 0.05 BTC lev 10 cross")
    desk.feed(synthetic_trade(BTC, "59000", T0 + 1000))
    closed = desk.submit("close BTC")  # −50 USDT and fees: over 3 % of 1,000
    trades = desk.guards.state.trades_today

    amend = desk.submit(f"amend {entry} price 3000")
    desk.feed(synthetic_trade(ETH, "2990", T0 + 2000))

    assert any(isinstance(e, GuardLocked) for e in closed.events)
    assert f"{entry} cancelled (entries locked by the daily loss limit)" in desk.log
    assert [e.kind for e in amend.events] == ["CommandRejected"]
    assert desk.position_contracts(ETH) == 0
    assert desk.guards.state.trades_today == trades
    desk.close()
