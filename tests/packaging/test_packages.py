"""pyproject lists the packages by hand (data/ installs as microfut_data): none may be missing."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _listed() -> set[str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return set(tomllib.load(f)["tool"]["setuptools"]["packages"])


def test_every_package_folder_is_listed_in_pyproject() -> None:
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("sim", "adapters", "config")
        for init in (ROOT / top).rglob("__init__.py")
    }
    missing = sorted(found - _listed())
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"


def test_bundled_sample_holds_every_venue_spec_and_the_month() -> None:
    sample = ROOT / "data" / "sample"
    for rel in (
        "binanceusdm/fapi_v1_exchangeInfo_2022-02-19.json",
        "bybit/v5_instruments_info_items.json",
        "ccxt_static_markets/ccxt_static_subset.json",
        "ccxt_static_markets/bingx_swap_subset.json",
        "leverage_tiers/binance_leverage_tiers_freqtrade-2026.9.json",
        "ohlcv/binance_usdm/BTC_USDT_USDT-1m-futures.parquet",
        "ohlcv/binance_usdm/ETH_USDT_USDT-1m-futures.parquet",
        "ohlcv/binance_usdm/BTC_USDT_USDT-8h-funding_rate.parquet",
        "ohlcv/binance_usdm/ETH_USDT_USDT-8h-mark.parquet",
        "README.md",
    ):
        assert (sample / rel).is_file(), rel
    size = sum(p.stat().st_size for p in sample.rglob("*") if p.is_file())
    assert size <= 5_000_000, f"the bundled sample grew to {size:,} bytes (budget 5 MB)"
