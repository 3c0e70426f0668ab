"""The native Binance feed against the loopback exchange replaying the recorded captures."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from itertools import islice
from pathlib import Path

import pytest

from adapters.binance.feed import BinanceFeed, binance_feed
from adapters.binance.wire import decode
from adapters.loopback.faults import Fault, parse_fault_spec
from adapters.loopback.server import LoopbackExchange
from adapters.stream import FeedStats
from config.settings import FeedSettings
from sim.engine.market import BookTop, FeedStatus, FundingRate, LastTrade, MarketInput, MarkPrice
from sim.errors import FeedError

USDM = "binanceusdm/ws_raw_btcusdt_20240808.gz"
COINM = "binancecoinm/ws_raw_btcusd_perp_20240808.gz"
FAST = FeedSettings(stale_after_s=0.5, reconnect_initial_s=0.02, reconnect_max_s=0.2)
SLICE = 2500  # recorded frames replayed per test (about 30 s of market, replayed in ~1-2 s)


def capture(path: Path, n: int, venue: str, symbol: str) -> list:
    with gzip.open(path, "rt") as f:
        frames = [json.loads(line.split(" ", 1)[1]) for line in islice(f, n)]
    return [i for fr in frames for i in decode(venue, fr, symbol_hint=symbol)]


def loopback(shared_data: Path, venue: str = "binanceusdm", **kw) -> LoopbackExchange:
    vid = "BTCUSDT" if venue == "binanceusdm" else "BTCUSD_PERP"
    kw.setdefault("max_frames", SLICE)
    return LoopbackExchange(venue, [shared_data], symbols=[vid], pace_s=0.0004, **kw)


async def collect(
    feed: AsyncIterator[MarketInput], until: asyncio.Event, linger_s: float = 0.3
) -> list[MarketInput]:
    """Everything the feed yields until ``until`` is set (+ ``linger_s`` for in-flight frames)."""
    out: list[MarketInput] = []

    async def pump() -> None:
        async for item in feed:
            out.append(item)

    task = asyncio.create_task(pump())
    await until.wait()
    await asyncio.sleep(linger_s)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return out


async def run_until_done(ex: LoopbackExchange, feed: AsyncIterator[MarketInput], vid: str):
    done = asyncio.Event()

    async def finish() -> None:
        await ex.wait_done(vid)
        done.set()

    waiter = asyncio.create_task(finish())
    try:
        return await asyncio.wait_for(collect(feed, done), timeout=30)
    finally:
        waiter.cancel()


def trades(items: list) -> list[LastTrade]:
    return [i for i in items if isinstance(i, LastTrade)]


def last_ticker(items: list) -> BookTop:
    return [i for i in items if isinstance(i, BookTop)][-1]


def book_tops(items: list) -> list[BookTop]:
    """Tops from the rebuilt book (bookTicker tops carry T, the book's carry the diff's time)."""
    return [i for i in items if isinstance(i, BookTop)]


async def test_trades_and_rebuilt_book_match_the_capture(shared_data: Path) -> None:
    recorded = capture(shared_data / USDM, SLICE, "binanceusdm", "BTC/USDT:USDT")
    stats = FeedStats()
    raw: list[tuple[int, str, str]] = []
    async with loopback(shared_data) as ex:
        feed = binance_feed(
            ["BTC/USDT:USDT"],
            endpoint=ex.base_url,
            settings=FAST,
            stats=stats,
            on_raw=lambda ns, venue, text: raw.append((ns, venue, text)),
        )

        got = await run_until_done(ex, feed, "BTCUSDT")

    # The recorder's tee sees every frame, parsed or not, and each REST depth snapshot.
    assert len(raw) == stats.messages + stats.snapshots
    assert sum('"lastUpdateId"' in text for _, _, text in raw) == stats.snapshots
    assert {venue for _, venue, _ in raw} == {"binanceusdm"}
    assert trades(got) == trades(recorded)
    assert len(trades(got)) > 300
    final = ex.markets["BTCUSDT"].book.binance.top()
    tops = book_tops(got)
    assert (tops[-1].bid, tops[-1].ask) == (final.bid, final.ask)
    assert (final.bid, final.ask) == (last_ticker(recorded).bid, last_ticker(recorded).ask)
    assert stats.bad_messages == 0
    assert stats.gaps == 0
    assert stats.snapshots >= 1


async def test_mark_price_stream_gives_mark_and_funding(shared_data: Path) -> None:
    # Binance docs' markPriceUpdate shape with synthetic values: the captures have no mark stream.
    synthetic = {
        "e": "markPriceUpdate",
        "E": 1723161300000,
        "s": "BTCUSDT",
        "p": "61812.5",
        "i": "61790.1",
        "P": "61800",
        "r": "0.00010000",
        "T": 1723190400000,
    }
    async with loopback(shared_data, max_frames=200) as ex:
        feed = binance_feed(["BTC/USDT:USDT"], endpoint=ex.base_url, settings=FAST)
        seen: list[MarketInput] = []

        async def read() -> None:
            async for item in feed:
                seen.append(item)
                if isinstance(item, FundingRate):
                    return

        reader = asyncio.create_task(read())
        await asyncio.wait_for(ex.wait_subscribed("BTCUSDT", "markPrice"), 5)
        ex.push("BTCUSDT", "markPrice", synthetic)
        await asyncio.wait_for(reader, 5)

    marks = [i for i in seen if isinstance(i, MarkPrice | FundingRate)]
    assert marks == [
        MarkPrice(
            "binanceusdm", "BTC/USDT:USDT", 1723161300000, Decimal("61812.5"), Decimal("61790.1")
        ),
        FundingRate(
            "binanceusdm", "BTC/USDT:USDT", 1723161300000, Decimal("0.00010000"), 1723190400000
        ),
    ]


async def test_dropped_connection_reconnects_without_losing_or_repeating_trades(
    shared_data: Path,
) -> None:
    recorded = capture(shared_data / USDM, SLICE, "binanceusdm", "BTC/USDT:USDT")
    stats = FeedStats()
    async with loopback(shared_data, faults=parse_fault_spec("drop@1200"), overlap=5) as ex:
        feed = binance_feed(["BTC/USDT:USDT"], endpoint=ex.base_url, settings=FAST, stats=stats)

        got = await run_until_done(ex, feed, "BTCUSDT")

    assert ex.faults.fired == [(1200, "drop")]
    assert stats.connects == 4
    assert stats.disconnects == 2
    assert stats.duplicates == 5  # the re-sent trades were recognised by id and dropped
    assert trades(got) == trades(recorded)
    final = ex.markets["BTCUSDT"].book.binance.top()
    assert (book_tops(got)[-1].bid, book_tops(got)[-1].ask) == (final.bid, final.ask)


async def test_garbled_message_is_skipped_and_counted(shared_data: Path) -> None:
    recorded = capture(shared_data / USDM, SLICE, "binanceusdm", "BTC/USDT:USDT")
    stats = FeedStats()
    async with loopback(shared_data) as ex:
        ex.faults.garble()
        feed = binance_feed(["BTC/USDT:USDT"], endpoint=ex.base_url, settings=FAST, stats=stats)

        got = await run_until_done(ex, feed, "BTCUSDT")

    assert stats.bad_messages == 2  # one per connection (public and market)
    assert stats.disconnects == 0
    assert trades(got) == trades(recorded)


async def test_skipped_depth_diff_resyncs_from_the_rest_snapshot(shared_data: Path) -> None:
    stats = FeedStats()
    async with loopback(shared_data, faults=[Fault("gap", 1500)]) as ex:
        feed = binance_feed(
            ["BTC/USDT:USDT"],
            endpoint=ex.base_url,
            settings=FAST,
            stats=stats,
            snapshot_retry_s=0.05,
        )

        got = await run_until_done(ex, feed, "BTCUSDT")

    statuses = [(i.stale, i.reason) for i in got if isinstance(i, FeedStatus)]
    assert statuses == [(True, "book gap"), (False, "book resynced")]
    assert stats.gaps == 1
    assert stats.snapshots >= 2  # the start and the resync
    final = ex.markets["BTCUSDT"].book.binance.top()
    assert (book_tops(got)[-1].bid, book_tops(got)[-1].ask) == (final.bid, final.ask)


async def test_silence_marks_the_symbol_stale_then_recovered(shared_data: Path) -> None:
    async with loopback(shared_data, max_frames=600, faults=[Fault("silence", 300, 1.2)]) as ex:
        feed = binance_feed(["BTC/USDT:USDT"], endpoint=ex.base_url, settings=FAST)

        got = await run_until_done(ex, feed, "BTCUSDT")

    statuses = [(s.stale, s.reason) for s in got if isinstance(s, FeedStatus)]
    assert statuses == [(True, "no data for 0.5 s"), (False, "data resumed")]
    stale_at = next(i for i, s in enumerate(got) if isinstance(s, FeedStatus))
    assert any(isinstance(i, LastTrade) for i in got[stale_at + 2 :])  # trades flow again


async def test_coinm_feed_trades_match_the_capture(shared_data: Path) -> None:
    recorded = capture(shared_data / COINM, 3000, "binancecoinm", "BTC/USD:BTC")
    async with loopback(shared_data, "binancecoinm", max_frames=3000) as ex:
        feed = binance_feed(["BTC/USD:BTC"], market="coinm", endpoint=ex.base_url, settings=FAST)

        got = await run_until_done(ex, feed, "BTCUSD_PERP")

    assert trades(got) == trades(recorded)
    assert len(trades(got)) > 10
    assert all(t.symbol == "BTC/USD:BTC" for t in trades(got))


async def test_unknown_market_kind_is_refused() -> None:
    feed = binance_feed(["BTC/USDT:USDT"], market="spot")  # type: ignore[arg-type]

    with pytest.raises(FeedError, match="'usdm' or 'coinm'"):
        await anext(feed)


def test_default_urls_are_binance_public_endpoints_and_endpoint_overrides_them() -> None:
    live = BinanceFeed(["BTC/USDT:USDT"])
    coinm = BinanceFeed(["BTC/USD:BTC"], market="coinm")
    local = BinanceFeed(["BTC/USDT:USDT"], endpoint="http://127.0.0.1:9999")

    assert [s.url for s in live.streams()] == [
        "wss://fstream.binance.com/public/stream",
        "wss://fstream.binance.com/market/stream",
    ]
    assert live.rest_root == "https://fapi.binance.com"
    assert [s.url for s in coinm.streams()] == ["wss://dstream.binance.com/stream"]
    assert coinm.ids == {"BTC/USD:BTC": "BTCUSD_PERP"}
    assert (local.ws_root, local.rest_root) == ("ws://127.0.0.1:9999", "http://127.0.0.1:9999")
    assert json.loads(live.streams()[0].subscribe()[0])["params"] == [
        "btcusdt@trade",
        "btcusdt@bookTicker",
        "btcusdt@depth@100ms",
    ]
