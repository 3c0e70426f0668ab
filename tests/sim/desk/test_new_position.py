"""A symbol's first order at the desk: config ``[account] margin_mode`` / ``leverage``.

The kernel fills them into an order that names neither, for a symbol with no position yet; the
engine's own default (Binance's 20x cross) is untouched (tests/sim/engine cover it).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.specs import SpecBook
from config.settings import Settings, load_settings, with_account
from sim.desk.session import DeskOptions, DeskSession
from sim.engine.events import LeverageSet, OrderFilled
from sim.errors import ConfigError
from sim.session import NewPosition
from tests.sim.desk.test_session import BTC, ETH, open_desk


@pytest.fixture
def options(desk_settings: Settings) -> DeskOptions:
    return DeskOptions.from_settings(desk_settings, account="t")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


def test_default_is_isolated_20x_with_its_own_liquidation_price(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)  # BTC last 60,000

    reply = desk.submit("buy 0.01 BTC limit 60000")

    (echo,) = reply.echoes
    assert (echo.leverage, echo.margin_mode) == (Decimal(20), "isolated")
    # §A.2's isolated long at 20x, tier 1 MMR 0.4 %: 60,000 × (1 − 1/20) / (1 − 0.004)
    assert echo.liquidation_price == Decimal("57228.92")
    assert echo.margin == Decimal("30.00")
    assert [type(e) for e in reply.events][:1] == [LeverageSet]
    assert any(isinstance(e, OrderFilled) for e in reply.events)
    (pos,) = desk.account.positions()
    assert (pos.leverage, pos.margin_mode) == (Decimal(20), "isolated")
    assert pos.liquidation_price.quantize(Decimal("0.01")) == Decimal("57228.92")  # type: ignore[union-attr]
    desk.close()


def test_an_order_naming_its_mode_or_a_mode_set_first_wins(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)

    desk.submit("buy 0.01 BTC cross")
    desk.submit("mode ETH cross")
    desk.submit("lev ETH 5")
    desk.submit("buy 0.1 ETH")

    btc, eth = sorted(desk.account.positions(), key=lambda p: p.symbol)
    assert (btc.symbol, btc.leverage, btc.margin_mode) == (BTC, Decimal(20), "cross")
    assert (eth.symbol, eth.leverage, eth.margin_mode) == (ETH, Decimal(5), "cross")
    # 0.01 BTC against the 1,000 USDT cross wallet: no price liquidates it
    assert btc.liquidation_price is None
    desk.close()


def test_the_open_position_keeps_its_own_settings(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    desk.submit("buy 0.01 BTC lev 10 cross")

    added = desk.submit("buy 0.01 BTC")  # no mode named: the position's cross 10x, not the default

    assert not any(isinstance(e, LeverageSet) for e in added.events)
    (pos,) = desk.account.positions()
    assert (pos.contracts, pos.leverage, pos.margin_mode) == (
        Decimal("0.02"), Decimal(10), "cross"
    )  # fmt: skip
    desk.close()


def test_configured_leverage_is_capped_at_the_first_tier(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    wild = replace(options, new_position=NewPosition(Decimal(500), "isolated"))
    desk = open_desk(wild, book, db)

    assert desk.leverage_of(BTC) == (Decimal(150), "isolated")  # BTC tier 1: 150x
    desk.close()


def test_without_defaults_the_engine_default_stays_cross(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = DeskSession.open(replace(options, new_position=None), book, db, start_ms=1)

    assert desk.leverage_of(BTC) == (Decimal(20), "cross")
    desk.close()


def test_settings_env_var_and_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().account.margin_mode == "isolated"
    assert load_settings().account.leverage == Decimal(20)
    monkeypatch.setenv("MICROFUT_ACCOUNT__MARGIN_MODE", "cross")
    settings = load_settings()
    assert settings.account.margin_mode == "cross"
    assert DeskOptions.from_settings(settings).new_position == NewPosition(Decimal(20), "cross")
    flagged = with_account(settings, margin_mode="isolated", leverage="10")
    assert (flagged.account.margin_mode, flagged.account.leverage) == ("isolated", Decimal(10))
    with pytest.raises(ConfigError, match="--leverage"):
        with_account(settings, leverage="0")
    monkeypatch.setenv("MICROFUT_ACCOUNT__MARGIN_MODE", "portfolio")
    with pytest.raises(ConfigError, match=r"account\.margin_mode"):
        load_settings()


def test_a_market_orders_echo_quotes_the_position_it_will_open(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)  # ETH last 3,000

    reply = desk.submit("buy 0.01 ETH")

    (echo,) = reply.echoes
    (pos,) = desk.account.positions()
    assert (echo.margin_mode, pos.margin_mode) == ("isolated", "isolated")
    assert echo.liquidation_price == pos.liquidation_price
    assert pos.liquidation_price is not None
    assert pos.liquidation_price < pos.entry_price


def test_a_mode_set_before_a_restart_is_kept(
    options: DeskOptions, book: SpecBook, db: Path
) -> None:
    desk = open_desk(options, book, db)
    desk.submit("mode BTC cross")  # flat, and the same 20x cross the engine starts a symbol at
    desk.close()

    again = DeskSession.open(options, book, db, start_ms=2)

    assert again.resumed
    assert again.leverage_of(BTC) == (Decimal(20), "cross")
    assert again.leverage_of(ETH) == (Decimal(20), "isolated")  # never set: the default
    again.close()
