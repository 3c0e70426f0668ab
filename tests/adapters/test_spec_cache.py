"""The offline spec cache: same book as ccxt's parse, read without importing ccxt (issue 15)."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from adapters import spec_cache
from adapters.specs import load_spec_book
from config.settings import load_settings


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("MICROFUT_HOME", str(tmp_path / "home"))
    return load_settings()


def _cached_files(settings) -> list[Path]:
    return sorted((settings.data.home_path / "cache" / "specs").glob("*.json"))


@pytest.mark.parametrize("venue", ["binanceusdm", "bybit", "binancecoinm", "mexc", "weex", "bingx"])
def test_cached_book_equals_the_parsed_book(settings, venue: str) -> None:
    parsed = load_spec_book(venue, settings)
    assert len(_cached_files(settings)) == 1

    cached = load_spec_book(venue, settings)

    assert cached.specs == parsed.specs
    assert cached.source == parsed.source
    assert cached.skipped == parsed.skipped


def test_cached_book_is_read_without_importing_ccxt(settings) -> None:
    load_spec_book("binanceusdm", settings)
    code = (
        "import sys\n"
        "from adapters.specs import load_spec_book\n"
        "from config.settings import load_settings\n"
        "book = load_spec_book('binanceusdm', load_settings())\n"
        "print(book.get('BTC/USDT:USDT').tiers[0].mmr, 'ccxt' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()

    assert out == ["0.004", "False"]


def test_a_changed_source_gets_another_key(tmp_path: Path) -> None:
    src = tmp_path / "markets.json"
    src.write_text("{}")
    first = spec_cache.cache_key("bybit", [src, None])
    src.write_text('{"a": 1}')

    assert spec_cache.cache_key("bybit", [src, None]) != first


def test_a_damaged_cache_file_is_rebuilt(settings) -> None:
    parsed = load_spec_book("bybit", settings)
    (cache_file,) = _cached_files(settings)
    cache_file.write_text('{"specs": [{"venue": ')

    again = load_spec_book("bybit", settings)

    assert again.specs == parsed.specs
    assert cache_file.read_text().startswith('{"specs":[{')


def test_bingx_swaps_are_parsed_from_their_raw_info(settings) -> None:
    # ccxt 4.5.90 bingx().parse_market(info): contractSize 1 (BTC), step 0.0001, tick 0.1
    # (shared/data README); the fixture's own top-level contractSize 0 must never be used
    spec = load_spec_book("bingx", settings).get("BTC/USDT:USDT")

    assert (spec.contract_size, spec.amount_step, spec.price_tick) == (
        Decimal(1),
        Decimal("0.0001"),
        Decimal("0.1"),
    )
    assert spec.linear
    assert spec.kind == "swap"
