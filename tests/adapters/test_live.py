"""open_feed: native feeds for Binance/Bybit, the ccxt feed elsewhere; probes fail fast."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.ccxt_feed import CcxtFeed
from adapters.live import check_reachable, merge, open_feed, probe_target
from adapters.loopback.server import LoopbackExchange
from config.settings import load_settings
from sim.engine.market import BookTop, Heartbeat, LastTrade
from sim.errors import FeedError, InputError


async def _first(feed: AsyncIterator, kind: type) -> object:
    async def pull() -> object:
        async for item in feed:
            if isinstance(item, kind):
                return item
        raise AssertionError("feed ended")

    try:
        return await asyncio.wait_for(pull(), 10)
    finally:
        await feed.aclose()  # type: ignore[attr-defined]


async def test_binanceusdm_uses_the_native_feed_on_the_loopback(shared_data: Path) -> None:
    settings = load_settings()
    async with LoopbackExchange(
        "binanceusdm", [shared_data], symbols=["BTCUSDT"], pace_s=0.002, max_frames=200
    ) as lb:
        await check_reachable("binanceusdm", settings, lb.base_url)
        feed = open_feed("binanceusdm", ["BTC/USDT:USDT"], settings, endpoint=lb.base_url)
        trade = await _first(feed, LastTrade)

    assert not isinstance(feed, CcxtFeed)
    assert trade == LastTrade(
        "binanceusdm", "BTC/USDT:USDT", 1723161256322, Decimal("61800.30"), Decimal("0.006"), "buy"
    )


async def test_bybit_uses_the_native_feed_on_the_loopback(shared_data: Path) -> None:
    settings = load_settings()
    async with LoopbackExchange("bybit", [shared_data], pace_s=0.002) as lb:
        feed = open_feed("bybit", ["XRP/USDT:USDT"], settings, endpoint=lb.base_url)
        top = await _first(feed, BookTop)

    assert (top.bid, top.ask) == (Decimal("1.9531"), Decimal("1.9532"))


def test_other_venues_get_the_generic_ccxt_feed() -> None:
    feed = open_feed("mexc", ["BTC/USDT:USDT"], load_settings())

    assert isinstance(feed, CcxtFeed)
    assert feed.venue == "mexc"
    assert feed.poll_interval_s == 2.0  # [feeds] poll_interval_s from default.toml


@pytest.mark.parametrize(
    ("exchange", "symbols", "message"),
    [
        ("binanceusdm", ["BTC/USDT"], "not a futures symbol"),
        ("bybit", [], "at least one symbol"),
        ("binanse", ["BTC/USDT:USDT"], "did you mean 'binance'"),
    ],
)
def test_bad_exchange_or_symbols_are_input_errors(
    exchange: str, symbols: list, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        open_feed(exchange, symbols, load_settings())


async def test_unreachable_endpoint_fails_fast_with_a_feed_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    with pytest.raises(FeedError, match=f"cannot reach 127.0.0.1:{port}"):
        await asyncio.wait_for(
            check_reachable("bybit", load_settings(), f"http://127.0.0.1:{port}"), timeout=15
        )


def test_probe_targets_the_public_hosts_without_an_endpoint() -> None:
    assert probe_target("binanceusdm", None) == ("fstream.binance.com", 443)
    assert probe_target("binancecoinm", None) == ("dstream.binance.com", 443)
    assert probe_target("bybit", None) == ("stream.bybit.com", 443)
    assert probe_target("bybit", "http://127.0.0.1:8080") == ("127.0.0.1", 8080)


async def test_merge_interleaves_feeds_and_surfaces_errors() -> None:
    async def beats(start: int, n: int, fail: bool = False) -> AsyncIterator[Heartbeat]:
        for i in range(n):
            await asyncio.sleep(0.01)
            yield Heartbeat(start + i)
        if fail:
            raise FeedError("boom")

    got: list[int] = []

    async def drain() -> None:
        async for beat in merge([beats(0, 3), beats(100, 2, fail=True)]):
            got.append(beat.ts_ms)

    with pytest.raises(FeedError, match="boom"):
        await asyncio.wait_for(drain(), 5)

    assert sorted(got)[:2] == [0, 1]
    assert {100, 101} <= set(got)
