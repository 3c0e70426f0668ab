"""Specs from the recorded markets through ccxt's own parsers, snapshots, lookups, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.loopback.rest import rest_app, serve_rest_thread
from adapters.specs import load_spec_book, snapshot_dir, spec_from_market
from config.settings import Settings, load_settings
from sim.errors import DataError, InputError, SpecError


@pytest.fixture
def settings(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("MICROFUT_DATA__DIRS", json.dumps([str(shared_data)]))
    monkeypatch.setenv("MICROFUT_HOME", str(tmp_path / "data"))
    return load_settings()


def test_binanceusdm_btc_spec_has_the_recorded_exchange_info_values(settings: Settings) -> None:
    book = load_spec_book("binanceusdm", settings)

    btc = book.get("BTC/USDT:USDT")
    assert (btc.venue_id, btc.base, btc.quote, btc.settle) == ("BTCUSDT", "BTC", "USDT", "USDT")
    assert (btc.linear, btc.kind, btc.contract_size) == (True, "swap", Decimal(1))
    assert (btc.price_tick, btc.amount_step) == (Decimal("0.1"), Decimal("0.001"))
    assert (btc.min_amount, btc.max_amount, btc.min_notional) == (
        Decimal("0.001"),
        Decimal(1000),
        Decimal(10),
    )
    assert btc.funding_interval_h == Decimal(8)
    assert btc.tiers[0].max_leverage == Decimal(150)
    assert btc.tiers_source.endswith("binance_leverage_tiers_freqtrade-2026.9.json")
    assert book.source.endswith("fapi_v1_exchangeInfo_2022-02-19.json")


def test_binanceusdm_dated_future_has_expiry_and_no_funding(settings: Settings) -> None:
    fut = load_spec_book("binanceusdm", settings).get("BTCUSDT_220325")

    assert (fut.symbol, fut.kind, fut.expiry_ms) == (
        "BTC/USDT:USDT-220325",
        "future",
        1648195200000,
    )
    assert fut.funding_interval_h is None
    assert (fut.tiers, fut.tiers_source) == ((), "none")


def test_bybit_inverse_contract_is_one_usd_settled_in_coin(settings: Settings) -> None:
    book = load_spec_book("bybit", settings)

    inv, xrp = book.get("BTC/USD:BTC"), book.get("XRPUSDT")
    assert (inv.linear, inv.settle, inv.contract_size) == (False, "BTC", Decimal(1))
    assert (inv.price_tick, inv.amount_step) == (Decimal("0.1"), Decimal(1))
    assert inv.funding_interval_h == Decimal(8)  # fundingInterval "480" minutes
    assert (xrp.price_tick, xrp.amount_step, xrp.min_notional) == (
        Decimal("0.0001"),
        Decimal(1),
        Decimal(5),
    )
    assert xrp.tiers == ()


def test_binancecoinm_parses_the_raw_info_to_tick_sizes(settings: Settings) -> None:
    fixture = json.loads(
        (settings.data.data_dirs[0] / "ccxt_static_markets/ccxt_static_subset.json").read_text()
    )["binance"]["BTC/USD:BTC"]["precision"]

    spec = load_spec_book("binancecoinm", settings).get("BTC")

    # The fixture's decimal places (price 1, amount 0) mean ticks 10^-1 and 10^-0.
    assert spec.price_tick == Decimal(10) ** -fixture["price"] == Decimal("0.1")
    assert spec.amount_step == Decimal(10) ** -fixture["amount"] == Decimal(1)
    assert (spec.contract_size, spec.linear, spec.settle) == (Decimal(100), False, "BTC")


def test_mexc_contract_is_0_0001_btc_in_whole_contracts(settings: Settings) -> None:
    spec = load_spec_book("mexc", settings).get("BTC/USDT:USDT")

    assert (spec.contract_size, spec.amount_step, spec.min_amount) == (
        Decimal("0.0001"),
        Decimal(1),
        Decimal(1),
    )


def test_weex_base_amounts_become_whole_contracts_of_0_0001_btc(settings: Settings) -> None:
    spec = load_spec_book("weex", settings).get("BTCUSDT")

    # ccxt gives step/min 0.0001 and max 1200 in BTC; contractVal is 0.0001 BTC.
    assert (spec.contract_size, spec.amount_step, spec.min_amount, spec.max_amount) == (
        Decimal("0.0001"),
        Decimal(1),
        Decimal(1),
        Decimal(12000000),
    )


def test_snapshot_of_another_venue_is_refused(settings: Settings) -> None:
    folder = snapshot_dir("bybit", settings)
    folder.mkdir(parents=True)
    (folder / "2026-03-01.json").write_text(json.dumps({"exchange": "mexc", "markets": []}))

    with pytest.raises(DataError, match="holds mexc markets, not bybit"):
        load_spec_book("bybit", settings)


def test_bare_base_picks_the_usdt_perpetual(settings: Settings) -> None:
    assert load_spec_book("bybit", settings).get("btc").symbol == "BTC/USDT:USDT"
    assert load_spec_book("bybit", settings).get("LTC").symbol == "LTC/USD:LTC"


def test_unknown_symbol_suggests_the_closest(settings: Settings) -> None:
    book = load_spec_book("binanceusdm", settings)

    with pytest.raises(InputError) as err:
        book.get("BTC/USDT")

    assert str(err.value) == (
        "unknown symbol 'BTC/USDT' on binanceusdm; did you mean 'BTC/USDT:USDT'?"
    )


def test_venue_without_recorded_specs_says_to_refresh(settings: Settings) -> None:
    with pytest.raises(SpecError, match="no recorded specs for okx; run `microfut specs refresh"):
        load_spec_book("okx", settings)


def test_newest_snapshot_wins_over_recorded_data(settings: Settings) -> None:
    folder = snapshot_dir("binanceusdm", settings)
    folder.mkdir(parents=True)
    old = {"markets": [], "tiers": {}}
    (folder / "2026-01-01.json").write_text(json.dumps(old))
    raw = json.loads(
        (
            settings.data.data_dirs[0] / "ccxt_static_markets/ccxt-4.5.90_parsed_binanceusdm.json"
        ).read_text()
    )
    new = {"markets": [raw["ETH/USDT:USDT"]], "tiers": {}}
    (folder / "2026-02-01.json").write_text(json.dumps(new))

    book = load_spec_book("binanceusdm", settings)

    assert [s.symbol for s in book.specs] == ["ETH/USDT:USDT"]
    assert book.source.endswith("2026-02-01.json")
    assert book.get("ETH").tiers[0].mmr == Decimal("0.004")  # recorded tiers still attach


def test_corrupt_snapshot_is_one_data_error_naming_the_file(settings: Settings) -> None:
    folder = snapshot_dir("bybit", settings)
    folder.mkdir(parents=True)
    (folder / "2026-03-01.json").write_text('{"markets": [garbage')

    with pytest.raises(DataError, match=r"2026-03-01\.json") as err:
        load_spec_book("bybit", settings)

    assert "\n" not in str(err.value)


def test_spec_without_tick_is_refused() -> None:
    with pytest.raises(SpecError, match="no price tick"):
        spec_from_market("x", {"symbol": "A/B:B", "precision": {"amount": 1}}, None)


@pytest.fixture
def bybit_loopback(shared_data: Path) -> Iterator[str]:
    """The recorded Bybit REST served from a background thread (sync ccxt blocks)."""
    with serve_rest_thread(rest_app("bybit", [shared_data])) as url:
        yield url


def test_live_book_from_an_endpoint_uses_the_real_ccxt_class(
    settings: Settings, bybit_loopback: str
) -> None:
    book = load_spec_book("bybit", settings, endpoint=bybit_loopback)

    assert book.source == bybit_loopback
    assert len(book.specs) == 5
    assert book.get("BTC/USD:BTC").contract_size == Decimal(1)


def test_unknown_symbol_without_a_close_match_ends_in_a_whole_sentence(settings: Settings) -> None:
    book = load_spec_book("weex", settings)

    with pytest.raises(InputError) as err:
        book.get("FOO")

    count = len(book.specs)
    noun = "market" if count == 1 else "markets"
    assert str(err.value) == (
        f"unknown symbol 'FOO' on weex; `microfut specs list --exchange weex` lists the {count} "
        f"contract {noun} it has"
    )
