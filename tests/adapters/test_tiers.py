"""Maintenance-margin tiers: the real Binance brackets and the cum recurrence (§A.1)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.tiers import BINANCE_TIERS_FILE, cum_by_recurrence, recorded_tiers, tiers_from_ccxt
from sim.errors import DataError


def test_btc_usdt_tier_one_is_0_to_300k_at_0_4_pct_150x_cum_0(shared_data: Path) -> None:
    tiers, source = recorded_tiers("binanceusdm", ["BTC/USDT:USDT"], [shared_data])["BTC/USDT:USDT"]

    t1, t2, t5 = tiers[0], tiers[1], tiers[4]
    assert (t1.tier, t1.floor, t1.cap, t1.mmr, t1.max_leverage, t1.cum) == (
        1,
        Decimal(0),
        Decimal(300000),
        Decimal("0.004"),
        Decimal(150),
        Decimal(0),
    )
    assert (t2.floor, t2.cap, t2.mmr, t2.max_leverage, t2.cum) == (
        Decimal(300000),
        Decimal(800000),
        Decimal("0.005"),
        Decimal(100),
        Decimal(300),
    )
    assert (t5.floor, t5.mmr, t5.cum) == (Decimal(12000000), Decimal("0.02"), Decimal(132000))
    assert len(tiers) == 12
    assert source.endswith(BINANCE_TIERS_FILE)


@pytest.mark.parametrize(
    "symbol", ["BTC/USDT:USDT", "ETH/USDT:USDT", "XRP/USDT:USDT", "DOGE/USDT:USDT"]
)
def test_recurrence_matches_binance_cum_on_every_tier(shared_data: Path, symbol: str) -> None:
    rows = json.loads((shared_data / BINANCE_TIERS_FILE).read_text())[symbol]
    venue = [Decimal(str(r["info"]["cum"])) for r in rows]

    derived = cum_by_recurrence(
        [(Decimal(str(r["minNotional"])), Decimal(str(r["maintenanceMarginRate"]))) for r in rows]
    )

    assert derived == venue


def test_rows_without_cum_get_it_from_the_recurrence(shared_data: Path) -> None:
    rows = json.loads((shared_data / BINANCE_TIERS_FILE).read_text())["ETH/USDT:USDT"]
    bare = [{k: v for k, v in r.items() if k != "info"} for r in rows]

    tiers = tiers_from_ccxt(reversed(bare))

    assert [t.cum for t in tiers] == [Decimal(str(r["info"]["cum"])) for r in rows]
    assert [t.tier for t in tiers] == list(range(1, len(rows) + 1))


def test_venue_mm_deduction_is_used_and_blank_falls_back_to_the_recurrence() -> None:
    # synthetic Bybit-style risk-limit rows (ccxt parse_market_leverage_tiers shape)
    synthetic_rows = [
        {
            "tier": 1,
            "minNotional": 0,
            "maxNotional": 2000000,
            "maintenanceMarginRate": 0.005,
            "maxLeverage": 100,
            "info": {"mmDeduction": ""},
        },
        {
            "tier": 2,
            "minNotional": 2000000,
            "maxNotional": 3000000,
            "maintenanceMarginRate": 0.01,
            "maxLeverage": 50,
            "info": {"mmDeduction": "10000"},
        },
    ]

    tiers = tiers_from_ccxt(synthetic_rows)

    assert [t.cum for t in tiers] == [Decimal(0), Decimal(10000)]
    assert tiers[1].maintenance_margin(Decimal(2500000)) == Decimal(15000)


def test_symbols_missing_from_the_file_get_no_tiers(shared_data: Path) -> None:
    found = recorded_tiers("binanceusdm", ["BTC/USDT:USDT-220325"], [shared_data])

    assert found == {}


def test_venues_without_recorded_tiers_get_none(shared_data: Path) -> None:
    assert recorded_tiers("bybit", ["BTC/USDT:USDT"], [shared_data]) == {}


def test_corrupt_tiers_file_is_a_data_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / BINANCE_TIERS_FILE
    bad.parent.mkdir(parents=True)
    bad.write_text('{"BTC/USDT:USDT": [')

    with pytest.raises(DataError, match=re.escape("binance_leverage_tiers_freqtrade-2026.9.json")):
        recorded_tiers("binanceusdm", ["BTC/USDT:USDT"], [tmp_path])


steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10**9),
        st.decimals(min_value="0.0001", max_value="0.05", places=4),
    ),
    min_size=1,
    max_size=12,
)


@given(steps)
def test_recurrence_keeps_maintenance_margin_continuous_at_each_floor(
    raw: list[tuple[int, Decimal]],
) -> None:
    floors, mmrs = [Decimal(0)], [Decimal("0.004")]
    for width, mmr_step in raw:
        floors.append(floors[-1] + width)
        mmrs.append(mmrs[-1] + mmr_step)

    cum = cum_by_recurrence(list(zip(floors, mmrs, strict=True)))

    for i in range(1, len(floors)):
        below = floors[i] * mmrs[i - 1] - cum[i - 1]
        above = floors[i] * mmrs[i] - cum[i]
        assert below == above
