"""The recorded REST payloads, served on 127.0.0.1 to the real ccxt classes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.exchanges import make_exchange
from adapters.loopback.rest import IN_PROCESS_BASE, attach_recorded, rest_app, serve_rest

TIMEOUT = 20


async def _get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, await r.json(content_type=None) if r.status != 404 else None


async def test_binanceusdm_load_markets_parses_recorded_exchange_info(shared_data: Path) -> None:
    async with serve_rest(rest_app("binanceusdm", [shared_data])) as url:
        ex = make_exchange("binanceusdm", endpoint=url, pro=True)
        try:
            markets = await asyncio.wait_for(ex.load_markets(), TIMEOUT)
        finally:
            await ex.close()

    btc = markets["BTC/USDT:USDT"]
    assert sorted(markets) == ["BTC/USDT:USDT", "BTC/USDT:USDT-220325", "ETH/USDT:USDT"]
    assert (btc["precision"]["price"], btc["precision"]["amount"]) == (0.1, 0.001)
    assert markets["BTC/USDT:USDT-220325"]["expiry"] == 1648195200000


async def test_binanceusdm_order_book_is_the_recorded_snapshot(shared_data: Path) -> None:
    async with serve_rest(rest_app("binanceusdm", [shared_data])) as url:
        ex = make_exchange("binanceusdm", endpoint=url, pro=True)
        try:
            await asyncio.wait_for(ex.load_markets(), TIMEOUT)
            book = await asyncio.wait_for(ex.fetch_order_book("BTC/USDT:USDT", 5), TIMEOUT)
        finally:
            await ex.close()

    assert book["nonce"] == 5123107852948
    assert book["bids"][0] == [61800.2, 2.909]
    assert len(book["bids"]) == 5


async def test_binance_tickers_come_from_the_capture_and_mark_is_absent(shared_data: Path) -> None:
    async with serve_rest(rest_app("binanceusdm", [shared_data])) as url:
        price = await _get(f"{url}/fapi/v1/ticker/price?symbol=BTCUSDT")
        book = await _get(f"{url}/fapi/v1/ticker/bookTicker?symbol=BTCUSDT")
        async with (
            aiohttp.ClientSession() as s,
            s.get(f"{url}/fapi/v1/premiumIndex?symbol=BTCUSDT") as r,
        ):
            mark = (r.status, await r.json())
        unknown = await _get(f"{url}/fapi/v1/depth?symbol=DOGEUSDT")

    assert price == (200, {"symbol": "BTCUSDT", "price": "61659.80", "time": 1723161599643})
    assert (book[1]["bidPrice"], book[1]["askPrice"]) == ("61659.70", "61659.80")
    assert mark == (404, {"code": -1121, "msg": "Invalid symbol."})
    assert unknown == (400, {"code": -1121, "msg": "Invalid symbol."})


async def test_binancecoinm_serves_depth_but_no_exchange_info(shared_data: Path) -> None:
    async with serve_rest(rest_app("binancecoinm", [shared_data])) as url:
        depth = await _get(f"{url}/dapi/v1/depth?symbol=BTCUSD_PERP&limit=5")
        info = await _get(f"{url}/dapi/v1/exchangeInfo")

    assert depth[0] == 200
    assert depth[1]["symbol"] == "BTCUSD_PERP"
    assert len(depth[1]["asks"]) == 5
    assert info[0] == 404


async def test_bybit_load_markets_parses_linear_and_inverse(shared_data: Path) -> None:
    async with serve_rest(rest_app("bybit", [shared_data])) as url:
        ex = make_exchange("bybit", endpoint=url, pro=True)
        try:
            markets = await asyncio.wait_for(ex.load_markets(), TIMEOUT)
        finally:
            await ex.close()

    assert sorted(markets) == [
        "BTC/USD:BTC",
        "BTC/USDT:USDT",
        "ETH/USDT:USDT",
        "LTC/USD:LTC",
        "XRP/USDT:USDT",
    ]
    assert markets["BTC/USD:BTC"]["inverse"] is True
    assert markets["BTC/USD:BTC"]["contractSize"] == 1.0
    assert markets["XRP/USDT:USDT"]["precision"]["price"] == 0.0001


async def test_bybit_bad_category_and_symbol_get_bybit_error_envelopes(shared_data: Path) -> None:
    async with serve_rest(rest_app("bybit", [shared_data])) as url:
        cat = await _get(f"{url}/v5/market/instruments-info?category=spot")
        sym = await _get(f"{url}/v5/market/instruments-info?category=linear&symbol=NOPEUSDT")

    assert (cat[1]["retCode"], cat[1]["retMsg"]) == (10001, "params error: Category is invalid")
    assert sym[1]["retCode"] == 10001


@pytest.mark.parametrize("venue", ["binanceusdm", "bybit"])
def test_in_process_transport_gives_sync_ccxt_the_same_markets(
    shared_data: Path, venue: str
) -> None:
    ex = make_exchange(venue, endpoint=IN_PROCESS_BASE)
    attach_recorded(ex, venue, [shared_data])

    markets = ex.load_markets()

    assert "BTC/USDT:USDT" in markets
    assert markets["BTC/USDT:USDT"]["limits"]["amount"]["min"] == 0.001
