"""Candle, mark and funding history from the loopback, in each venue's wire format and paging."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
import pytest
import requests

from adapters.loopback.faults import Fault, Faults, parse_fault_spec
from adapters.loopback.rest import RECORDED, rest_app, serve_rest

MAR10 = 1741564800000  # 2025-03-10 00:00 UTC
HOUR = 3_600_000
OHLCV = "ohlcv/binance_usdm"


async def _get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, await r.json()


def _recorded(shared_data: Path, name: str) -> pd.DataFrame:
    df = pd.read_feather(shared_data / OHLCV / f"{name}.feather")
    df["ts"] = df["date"].dt.as_unit("ms").astype("int64")
    return df


async def test_binance_klines_page_forward_from_start_time(shared_data: Path) -> None:
    async with serve_rest(rest_app("binanceusdm", [shared_data])) as url:
        q = f"{url}/fapi/v1/klines?symbol=ETHUSDT&interval=1h&startTime={MAR10}&limit=3"
        status, rows = await _get(q)
        _, default = await _get(f"{url}/fapi/v1/klines?symbol=ETHUSDT&interval=1h&startTime=0")
        _, capped = await _get(
            f"{url}/fapi/v1/klines?symbol=ETHUSDT&interval=1m&startTime=0&limit=5000"
        )
        _, tail = await _get(
            f"{url}/fapi/v1/klines?symbol=ETHUSDT&interval=1h&endTime={MAR10}&limit=2"
        )
        _, bounded = await _get(
            f"{url}/fapi/v1/klines?symbol=ETHUSDT&interval=1h&startTime={MAR10}"
            f"&endTime={MAR10 + 2 * HOUR}&limit=1000"
        )

    assert status == 200
    # the recorded 2025-03-10 00:00 bar, as Binance sends it: strings, closeTime = next open - 1
    assert rows[0][:7] == [MAR10, "2019.34", "2042.7", "1993.54", "2035.1", "322078.553",
                           MAR10 + HOUR - 1]  # fmt: skip
    assert [r[0] for r in rows] == [MAR10, MAR10 + HOUR, MAR10 + 2 * HOUR]
    assert len(rows[0]) == 12
    assert len(default) == 500  # Binance's default page
    assert len(capped) == 1500  # and its maximum
    assert [r[0] for r in tail] == [MAR10 - HOUR, MAR10]  # no startTime: the last bars to endTime
    assert [r[0] for r in bounded] == [MAR10, MAR10 + HOUR, MAR10 + 2 * HOUR]  # endTime inclusive


async def test_binance_mark_klines_and_funding_match_the_recorded_files(shared_data: Path) -> None:
    mark = _recorded(shared_data, "ETH_USDT_USDT-8h-mark")
    funding = _recorded(shared_data, "ETH_USDT_USDT-8h-funding_rate")
    async with serve_rest(rest_app("binanceusdm", [shared_data])) as url:
        _, mk = await _get(
            f"{url}/fapi/v1/markPriceKlines?symbol=ETHUSDT&interval=8h&startTime={MAR10}&limit=2"
        )
        _, fr = await _get(f"{url}/fapi/v1/fundingRate?symbol=ETHUSDT&startTime=0&limit=1000")
        _, fr_default = await _get(f"{url}/fapi/v1/fundingRate?symbol=ETHUSDT&startTime=0")

    row = mark[mark["ts"] == MAR10].iloc[0]
    assert mk[0][0] == MAR10
    assert [float(v) for v in mk[0][1:5]] == [row.open, row.high, row.low, row.close]
    assert mk[0][5] == "0"
    assert len(fr) == len(funding) == 302
    assert [f["fundingTime"] for f in fr] == funding["ts"].tolist()  # ms jitter kept
    assert [float(f["fundingRate"]) for f in fr] == funding["open"].tolist()
    assert fr[2] == {"symbol": "ETHUSDT", "fundingTime": 1741334400001,
                     "fundingRate": "0.00002874", "markPrice": ""}  # fmt: skip
    assert len(fr_default) == 100  # Binance's default funding page


async def test_binance_errors_and_unrecorded_intervals(shared_data: Path) -> None:
    async with serve_rest(rest_app("binanceusdm", [shared_data])) as url:
        unknown = await _get(f"{url}/fapi/v1/klines?symbol=DOGEUSDT&interval=1h")
        bad_interval = await _get(f"{url}/fapi/v1/klines?symbol=ETHUSDT&interval=7m")
        unrecorded = await _get(f"{url}/fapi/v1/klines?symbol=ETHUSDT&interval=4h")
        funding_unknown = await _get(f"{url}/fapi/v1/fundingRate?symbol=DOGEUSDT")
    async with serve_rest(rest_app("binancecoinm", [shared_data])) as url:
        coinm = await _get(f"{url}/dapi/v1/klines?symbol=BTCUSD_PERP&interval=1h")
        coinm_unknown = await _get(f"{url}/dapi/v1/markPriceKlines?symbol=ETHUSD&interval=8h")

    assert unknown == (400, {"code": -1121, "msg": "Invalid symbol."})
    assert bad_interval == (400, {"code": -1120, "msg": "Invalid interval."})
    assert unrecorded == (200, [])
    assert funding_unknown == (400, {"code": -1121, "msg": "Invalid symbol."})
    assert coinm == (200, [])  # a captured COIN-M symbol, but no candles were recorded for it
    assert coinm_unknown[0] == 400


async def test_bybit_routes_wire_format_newest_first(shared_data: Path) -> None:
    # wire_test_candles: the recorded *Binance* ETHUSDT candles under Bybit's routes, only to
    # check Bybit's wire format and paging (no Bybit candles were recorded).
    app = rest_app("bybit", [shared_data], wire_test_candles=True)
    base = "/v5/market/kline?category=linear&symbol=ETHUSDT&interval=60"
    async with serve_rest(app) as url:
        _, kl = await _get(f"{url}{base}&start={MAR10}&end={MAR10 + 9 * HOUR}&limit=3")
        _, mk = await _get(
            f"{url}/v5/market/mark-price-kline?category=linear&symbol=ETHUSDT&interval=240"
        )
        _, fr = await _get(
            f"{url}/v5/market/funding/history?category=linear&symbol=ETHUSDT"
            f"&startTime={MAR10}&endTime={MAR10 + 24 * HOUR}"
        )
        _, start_only = await _get(
            f"{url}/v5/market/funding/history?category=linear&symbol=ETHUSDT&startTime={MAR10}"
        )
        _, unknown = await _get(f"{url}{base.replace('ETHUSDT', 'DOGEUSDT')}")
        _, period = await _get(f"{url}{base.replace('=60', '=7')}")
        tiers = await _get(f"{url}/v5/market/risk-limit?category=linear&symbol=ETHUSDT")
    async with serve_rest(rest_app("bybit", [shared_data])) as url:
        _, plain = await _get(f"{url}{base}&limit=3")

    assert kl["retCode"] == 0
    rows = kl["result"]["list"]
    assert [int(r[0]) for r in rows] == [MAR10 + 9 * HOUR, MAR10 + 8 * HOUR, MAR10 + 7 * HOUR]
    assert len(rows[0]) == 7  # start, o, h, l, c, volume, turnover
    assert mk["result"]["list"] == []  # only 8h mark recorded; Bybit has no 8h bars
    assert [int(f["fundingRateTimestamp"]) for f in fr["result"]["list"]] == [
        MAR10 + 24 * HOUR, MAR10 + 16 * HOUR, MAR10 + 8 * HOUR, MAR10
    ]  # fmt: skip
    assert start_only["retCode"] == 10001
    assert (unknown["retCode"], unknown["retMsg"]) == (10001, "params error: Symbol Is Invalid")
    assert period["retCode"] == 10001
    assert (tiers[0], tiers[1]["retCode"]) == (404, 10001)  # no tiers recorded: not served
    assert (plain["retCode"], plain["result"]["list"]) == (0, [])  # no Bybit candles recorded


async def test_cut_fault_drops_the_nth_history_request_once(shared_data: Path) -> None:
    # requests, as sync ccxt uses (aiohttp's client would silently retry a cut request once)
    app = rest_app("binanceusdm", [shared_data], faults=Faults([Fault("cut", 2)]))
    q = "/fapi/v1/klines?symbol=ETHUSDT&interval=1h&limit=1"
    async with serve_rest(app) as url:
        first = await asyncio.to_thread(requests.get, url + q, timeout=10)
        with pytest.raises(requests.ConnectionError):
            await asyncio.to_thread(requests.get, url + q, timeout=10)
        third = await asyncio.to_thread(requests.get, url + q, timeout=10)
        await _get(f"{url}/fapi/v1/depth?symbol=BTCUSDT&limit=5")  # not a history request

    assert first.status_code == third.status_code == 200
    assert first.json() == third.json()
    assert app[RECORDED].requests["/fapi/v1/klines"] == 3
    assert app[RECORDED].history_requests == 3
    assert app[RECORDED].faults.fired == [(2, "cut")]
    assert parse_fault_spec("cut@7") == [Fault("cut", 7)]
