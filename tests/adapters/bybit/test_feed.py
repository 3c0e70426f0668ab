"""The native Bybit feed against the loopback exchange replaying the recorded XRPUSDT book."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.bybit.book import BybitBook
from adapters.bybit.feed import BybitFeed, bybit_feed
from adapters.bybit.wire import decode
from adapters.loopback.faults import Fault
from adapters.loopback.server import LoopbackExchange
from adapters.stream import FeedStats
from config.settings import FeedSettings
from sim.engine.market import BookTop, FeedStatus, FundingRate, LastTrade, MarketInput, MarkPrice
from sim.errors import FeedError

BOOK = "bybit/ws_orderbook500_XRPUSDT_2024-12-01.jsonl"
FAST = FeedSettings(stale_after_s=0.5, reconnect_initial_s=0.02, reconnect_max_s=0.2)


def final_top(shared_data: Path) -> BookTop:
    book = BybitBook("bybit", "XRP/USDT:USDT")
    for line in (shared_data / BOOK).read_text().splitlines():
        book.on_update(decode(json.loads(line))[0])  # type: ignore[arg-type]
    return book.top()  # type: ignore[return-value]


async def run_until_done(
    ex: LoopbackExchange, feed: AsyncIterator[MarketInput], linger_s: float = 0.3
) -> list[MarketInput]:
    out: list[MarketInput] = []

    async def pump() -> None:
        async for item in feed:
            out.append(item)

    task = asyncio.create_task(pump())
    try:
        await asyncio.wait_for(ex.wait_done("XRPUSDT"), 20)
        await asyncio.sleep(linger_s)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return out


def serve(shared_data: Path, *faults: Fault) -> LoopbackExchange:
    """The recorded XRPUSDT book, 10 ms between frames (0.5 s in all)."""
    return LoopbackExchange("bybit", [shared_data], pace_s=0.01, faults=list(faults))


def tops(items: list) -> list[BookTop]:
    return [i for i in items if isinstance(i, BookTop)]


async def test_book_rebuilds_to_the_recorded_best(shared_data: Path) -> None:
    stats = FeedStats()
    async with serve(shared_data) as ex:
        feed = bybit_feed(["XRP/USDT:USDT"], endpoint=ex.base_url, settings=FAST, stats=stats)

        got = await run_until_done(ex, feed)

    at_1091 = next(t for t in tops(got) if t.ts_ms == 1733011201091)
    # exchange-mechanics.md §B.6: best 1.9531/1.9532 at 2024-12-01T00:00:01.091Z
    assert (at_1091.bid, at_1091.ask) == (Decimal("1.9531"), Decimal("1.9532"))
    assert len(tops(got)) == 50
    assert (tops(got)[-1].bid, tops(got)[-1].ask) == (
        final_top(shared_data).bid,
        final_top(shared_data).ask,
    )
    assert stats.gaps == 0
    assert stats.bad_messages == 0


async def test_skipped_delta_resubscribes_and_rebuilds(shared_data: Path) -> None:
    stats = FeedStats()
    async with LoopbackExchange(
        "bybit", [shared_data], pace_s=0.01, faults=[Fault("gap", 20)]
    ) as ex:
        feed = bybit_feed(["XRP/USDT:USDT"], endpoint=ex.base_url, settings=FAST, stats=stats)

        got = await run_until_done(ex, feed)

    assert [(i.stale, i.reason) for i in got if isinstance(i, FeedStatus)] == [
        (True, "book gap"),
        (False, "book resynced"),
    ]
    assert stats.gaps == 1
    assert stats.snapshots == 2  # the first one and the one after re-subscribing
    final = final_top(shared_data)
    assert (tops(got)[-1].bid, tops(got)[-1].ask) == (final.bid, final.ask)


async def test_drop_reconnects_and_book_comes_back(shared_data: Path) -> None:
    stats = FeedStats()
    async with LoopbackExchange(
        "bybit", [shared_data], pace_s=0.01, faults=[Fault("drop", 25)]
    ) as ex:
        feed = bybit_feed(["XRP/USDT:USDT"], endpoint=ex.base_url, settings=FAST, stats=stats)

        got = await run_until_done(ex, feed)

    assert stats.connects == 2
    assert stats.disconnects == 1
    final = final_top(shared_data)
    assert (tops(got)[-1].bid, tops(got)[-1].ask) == (final.bid, final.ask)


async def test_garbled_frame_is_counted_and_the_feed_goes_on(shared_data: Path) -> None:
    stats = FeedStats()
    async with LoopbackExchange(
        "bybit", [shared_data], pace_s=0.01, faults=[Fault("garble", 10)]
    ) as ex:
        feed = bybit_feed(["XRP/USDT:USDT"], endpoint=ex.base_url, settings=FAST, stats=stats)

        got = await run_until_done(ex, feed)

    assert stats.bad_messages == 1
    assert len(tops(got)) == 50


async def test_silence_reports_stale_then_recovered(shared_data: Path) -> None:
    silence = [Fault("silence", 10, 1.0)]
    async with serve(shared_data, *silence) as ex:
        feed = bybit_feed(["XRP/USDT:USDT"], endpoint=ex.base_url, settings=FAST)

        got = await run_until_done(ex, feed)

    assert [(s.stale, s.reason) for s in got if isinstance(s, FeedStatus)] == [
        (True, "no data for 0.5 s"),
        (False, "data resumed"),
    ]


async def test_ticker_stream_gives_mark_and_funding(shared_data: Path) -> None:
    # Bybit docs' linear ticker shape, synthetic values: the capture holds only the book.
    synthetic = {
        "topic": "tickers.XRPUSDT",
        "type": "snapshot",
        "ts": 1733011201500,
        "cs": 7,
        "data": {
            "symbol": "XRPUSDT",
            "markPrice": "1.9533",
            "indexPrice": "1.9526",
            "fundingRate": "0.000125",
            "nextFundingTime": "1733040000000",
        },
    }
    async with LoopbackExchange("bybit", [shared_data], pace_s=0.05) as ex:
        seen: list[MarketInput] = []

        async def read() -> None:
            async for item in bybit_feed(["XRP/USDT:USDT"], endpoint=ex.base_url, settings=FAST):
                seen.append(item)
                if isinstance(item, FundingRate):
                    return

        reader = asyncio.create_task(read())
        await asyncio.wait_for(ex.wait_subscribed("XRPUSDT", "tickers"), 5)
        ex.push("XRPUSDT", "tickers", synthetic)
        await asyncio.wait_for(reader, 5)

    assert [i for i in seen if isinstance(i, MarkPrice | FundingRate)] == [
        MarkPrice("bybit", "XRP/USDT:USDT", 1733011201500, Decimal("1.9533"), Decimal("1.9526")),
        FundingRate("bybit", "XRP/USDT:USDT", 1733011201500, Decimal("0.000125"), 1733040000000),
    ]


async def test_depth_500_is_refused_as_bybit_retired_it() -> None:
    with pytest.raises(FeedError, match="depth must be one of"):
        await anext(bybit_feed(["XRP/USDT:USDT"], depth=500))


def test_default_url_is_bybit_public_stream_and_endpoint_overrides_it() -> None:
    live = BybitFeed(["BTC/USD:BTC"], category="inverse", depth=200)
    local = BybitFeed(["XRP/USDT:USDT"], endpoint="http://127.0.0.1:9999")

    assert live.url == "wss://stream.bybit.com/v5/public/inverse"
    assert live.topics() == ["publicTrade.BTCUSD", "orderbook.200.BTCUSD", "tickers.BTCUSD"]
    assert local.url == "ws://127.0.0.1:9999/v5/public/linear"
    assert live.stream.app_ping == (20.0, '{"op": "ping"}')


async def test_trades_sent_twice_are_yielded_once(shared_data: Path) -> None:
    # Bybit docs' publicTrade shape, synthetic values: the capture holds only the book.
    frame = {
        "topic": "publicTrade.XRPUSDT",
        "type": "snapshot",
        "ts": 1733011201000,
        "data": [
            {"T": 1733011200999, "s": "XRPUSDT", "S": "Buy", "v": "120", "p": "1.9532", "i": "a1"},
            {"T": 1733011201000, "s": "XRPUSDT", "S": "Sell", "v": "5", "p": "1.9531", "i": "a2"},
        ],
    }
    again = {**frame, "data": [frame["data"][1], {**frame["data"][1], "i": "a3", "v": "7"}]}
    stats = FeedStats()
    async with serve(shared_data) as ex:
        seen: list[MarketInput] = []

        async def read() -> None:
            feed = bybit_feed(["XRP/USDT:USDT"], endpoint=ex.base_url, settings=FAST, stats=stats)
            async for item in feed:
                if isinstance(item, LastTrade):
                    seen.append(item)
                    if len(seen) == 3:
                        return

        reader = asyncio.create_task(read())
        await asyncio.wait_for(ex.wait_subscribed("XRPUSDT", "publicTrade"), 5)
        for payload in (frame, frame, again):
            ex.push("XRPUSDT", "publicTrade", payload)
        await asyncio.wait_for(reader, 5)

    assert [(t.qty, t.side) for t in seen] == [(120, "buy"), (5, "sell"), (7, "sell")]
    assert stats.duplicates == 3
