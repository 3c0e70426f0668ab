"""The generic ccxt feed: ccxt structures → inputs, REST polling and ccxt.pro watching.

Real ccxt classes talk to the loopback exchange on 127.0.0.1 serving the recorded payloads;
binanceusdm stands in for "some ccxt venue" (it goes through the generic path here).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt_async
import pytest
from aiohttp import web

from adapters.ccxt_feed import CcxtFeed
from adapters.ccxt_wire import decode_ccxt
from adapters.exchanges import make_exchange, point_at
from adapters.loopback.faults import parse_fault_spec
from adapters.loopback.rest import rest_app
from adapters.loopback.server import LoopbackExchange
from adapters.replay import open_replay
from config.settings import FeedSettings
from sim.engine.market import (
    BookDepth,
    BookTop,
    FeedStatus,
    LastTrade,
)
from sim.errors import FeedError, InputError

BTC = "BTC/USDT:USDT"
FAST = FeedSettings(
    stale_after_s=5.0, poll_interval_s=0.05, reconnect_initial_s=0.02, reconnect_max_s=0.1
)


# -- REST polling against the loopback REST ------------------------------------------------
@asynccontextmanager
async def rest_server(shared_data: Path, port: int = 0) -> AsyncIterator[tuple[str, web.AppRunner]]:
    runner = web.AppRunner(rest_app("binanceusdm", [shared_data]))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, reuse_address=True)
    await site.start()
    try:
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{bound}", runner
    finally:
        await runner.cleanup()


def _snapshot(shared_data: Path) -> dict:
    with gzip.open(shared_data / "binanceusdm" / "ws_raw_btcusdt_20240808.gz", "rt") as f:
        for line in f:
            if '"lastUpdateId"' in line:
                return json.loads(line.split(" ", 1)[1])
    raise AssertionError("no snapshot in the capture")


async def _take(feed: CcxtFeed, n: int, kinds: tuple[type, ...]) -> list:
    out = []
    async for item in feed:
        if isinstance(item, kinds):
            out.append(item)
            if len(out) == n:
                break
    return out


def _async_exchange(url: str) -> ccxt_async.Exchange:
    ex = ccxt_async.binanceusdm({"enableRateLimit": False})
    point_at(ex, "binanceusdm", url)
    return ex


async def test_polling_async_class_reads_the_recorded_depth(shared_data: Path) -> None:
    snap = _snapshot(shared_data)
    async with rest_server(shared_data) as (url, _):
        ex = _async_exchange(url)
        feed = CcxtFeed(
            "binanceusdm", [BTC], FAST, exchange=ex, mode="poll", channels=("book", "ticker")
        )
        try:
            items = await asyncio.wait_for(_take(feed, 4, (BookDepth, BookTop)), timeout=10)
        finally:
            await feed.aclose()
            await ex.close()

    depth, top = items[0], items[1]
    assert isinstance(depth, BookDepth)
    assert len(depth.bids) == len(depth.asks) == 50
    assert depth.bids[0] == (Decimal(snap["bids"][0][0]), Decimal(snap["bids"][0][1]))
    assert depth.asks[:2] == tuple((Decimal(p), Decimal(q)) for p, q in snap["asks"][:2])
    assert (top.bid, top.ask) == (Decimal("61800.20"), Decimal("61800.30"))
    assert top.ts_ms == snap["T"]
    assert items[2] == depth  # polled again: the recorded snapshot does not change
    # the loopback has no 24 h ticker recorded: that channel fails and retries, the book flows
    assert feed.stats.errors > 0


async def test_polling_sync_class_runs_in_threads(shared_data: Path) -> None:
    async with rest_server(shared_data) as (url, _):
        ex = make_exchange("binanceusdm", endpoint=url)
        ex.enableRateLimit = False
        feed = CcxtFeed("binanceusdm", [BTC], FAST, exchange=ex, channels=("book",))
        try:
            (top,) = await asyncio.wait_for(_take(feed, 1, (BookTop,)), timeout=10)
        finally:
            await feed.aclose()

    assert (top.bid, top.bid_qty) == (Decimal("61800.20"), Decimal("2.909"))


async def test_feed_reports_stale_and_recovery(shared_data: Path) -> None:
    slow = FeedSettings(
        stale_after_s=0.3, poll_interval_s=1.0, reconnect_initial_s=0.02, reconnect_max_s=0.1
    )
    async with rest_server(shared_data) as (url, _):
        ex = _async_exchange(url)
        feed = CcxtFeed("binanceusdm", [BTC], slow, exchange=ex, mode="poll", channels=("book",))
        try:
            items = await asyncio.wait_for(_take(feed, 6, (BookTop, FeedStatus)), timeout=10)
        finally:
            await feed.aclose()
            await ex.close()

    kinds = [(type(x).__name__, getattr(x, "stale", None)) for x in items]
    assert kinds[:4] == [
        ("BookTop", None),
        ("FeedStatus", True),
        ("FeedStatus", False),
        ("BookTop", None),
    ]
    assert items[1].symbol == BTC
    assert "no update for 0.3s" in items[1].reason


async def test_feed_survives_the_server_going_away_and_coming_back(shared_data: Path) -> None:
    async with rest_server(shared_data) as (url, runner):
        port = int(url.rsplit(":", 1)[1])
        ex = _async_exchange(url)
        feed = CcxtFeed("binanceusdm", [BTC], FAST, exchange=ex, mode="poll", channels=("book",))
        try:
            await asyncio.wait_for(_take(feed, 1, (BookTop,)), timeout=10)
            await runner.cleanup()  # the exchange disappears
            await asyncio.sleep(0.3)
            errors_while_down = feed.stats.errors
            async with rest_server(shared_data, port):
                (top,) = await asyncio.wait_for(_take(feed, 1, (BookTop,)), timeout=10)
        finally:
            await feed.aclose()
            await ex.close()

    assert errors_while_down > 0
    assert feed.stats.reconnects >= 1
    assert top.bid == Decimal("61800.20")


async def test_tee_replays_into_the_same_inputs(shared_data: Path) -> None:
    raw: list[tuple[int, str, str]] = []
    async with rest_server(shared_data) as (url, _):
        ex = _async_exchange(url)
        feed = CcxtFeed(
            "binanceusdm",
            [BTC],
            FAST,
            exchange=ex,
            mode="poll",
            channels=("book",),
            on_raw=lambda *a: raw.append(a),
        )
        try:
            live = await asyncio.wait_for(_take(feed, 4, (BookDepth, BookTop)), timeout=10)
        finally:
            await feed.aclose()
            await ex.close()

    replayed = [
        x
        for ns, venue, text in raw[:2]
        for x in decode_ccxt(venue, json.loads(text), ns // 1_000_000)
    ]
    assert replayed == live


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unreachable_venue_is_one_feed_error() -> None:
    feed = CcxtFeed(
        "binanceusdm", [BTC], FAST, endpoint=f"http://127.0.0.1:{_free_port()}", mode="poll"
    )

    with pytest.raises(FeedError, match=re.escape("cannot load markets from http://127.0.0.1")):
        await asyncio.wait_for(feed.start(), timeout=20)


async def test_unknown_symbol_is_an_input_error_with_suggestions(shared_data: Path) -> None:
    async with rest_server(shared_data) as (url, _):
        ex = _async_exchange(url)
        feed = CcxtFeed("binanceusdm", ["BTC/USDT"], FAST, exchange=ex, mode="poll")
        try:
            with pytest.raises(InputError, match="did you mean 'BTC/USDT:USDT'"):
                await asyncio.wait_for(feed.start(), timeout=10)
        finally:
            await feed.aclose()
            await ex.close()


def test_bad_mode_or_channel_is_refused() -> None:
    with pytest.raises(InputError, match="mode"):
        CcxtFeed("mexc", [BTC], FAST, mode="fast")
    with pytest.raises(InputError, match="channels"):
        CcxtFeed("mexc", [BTC], FAST, channels=("candles",))


# -- ccxt.pro watching against the loopback exchange -----------------------------------------
SLICE = 400  # frames of the BTCUSDT capture the loopback replays (59 trades, 1 snapshot)


def _capture_inputs(shared_data: Path, tmp_path: Path) -> list:
    with gzip.open(shared_data / "binanceusdm" / "ws_raw_btcusdt_20240808.gz", "rb") as f:
        lines = [next(f) for _ in range(SLICE)]
    path = tmp_path / "binanceusdm" / "slice.gz"
    path.parent.mkdir()
    with gzip.open(path, "wb") as f:
        f.writelines(lines)
    return list(open_replay(path))


def _is_ordered_subsequence(part: list, whole: list) -> bool:
    it = iter(whole)
    return all(any(x == y for y in it) for x in part)


async def _watch_until_done(lb: LoopbackExchange, feed: CcxtFeed) -> list:
    out: list = []

    async def consume() -> None:
        async for item in feed:
            out.append(item)

    task = asyncio.create_task(consume())
    try:
        await asyncio.wait_for(lb.wait_done("BTCUSDT"), timeout=20)
        await asyncio.sleep(0.3)  # let the last frames through
    finally:
        await feed.aclose()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return out


def _loopback(shared_data: Path, **kwargs: object) -> LoopbackExchange:
    return LoopbackExchange(
        "binanceusdm", [shared_data], symbols=["BTCUSDT"], pace_s=0.005, max_frames=SLICE, **kwargs
    )  # type: ignore[arg-type]


async def test_watching_through_the_generic_path_matches_the_capture(
    shared_data: Path, tmp_path: Path
) -> None:
    expected = _capture_inputs(shared_data, tmp_path)
    expected_trades = [x for x in expected if isinstance(x, LastTrade)]
    async with _loopback(shared_data) as lb:
        feed = CcxtFeed(
            "binanceusdm", [BTC], FAST, endpoint=lb.base_url, channels=("trades", "book")
        )
        got = await _watch_until_done(lb, feed)

    trades = [x for x in got if isinstance(x, LastTrade)]
    depths = [x for x in got if isinstance(x, BookDepth)]
    assert len(expected_trades) == 59
    assert len(trades) >= 50  # the replay starts on the first subscription, trades may join late
    assert trades == expected_trades[-len(trades) :]
    # ccxt's book (loopback snapshot + diffs) ends where the capture's rebuilt book ends
    last_depth = [x for x in expected if isinstance(x, BookDepth)][-1]
    assert depths[-1].bids[:20] == last_depth.bids
    assert depths[-1].asks[:20] == last_depth.asks
    assert feed.stats.errors == feed.stats.skipped == 0


@pytest.mark.parametrize("fault", ["drop", "garble"])
async def test_watching_survives_a_fault_without_duplicates(
    shared_data: Path, tmp_path: Path, fault: str
) -> None:
    expected_trades = [
        x for x in _capture_inputs(shared_data, tmp_path) if isinstance(x, LastTrade)
    ]
    quick = FeedSettings(
        stale_after_s=0.5, poll_interval_s=1.0, reconnect_initial_s=0.02, reconnect_max_s=0.1
    )
    async with _loopback(shared_data, faults=parse_fault_spec(f"{fault}@150")) as lb:
        feed = CcxtFeed(
            "binanceusdm", [BTC], quick, endpoint=lb.base_url, channels=("trades", "book")
        )
        got = await _watch_until_done(lb, feed)

    trades = [x for x in got if isinstance(x, LastTrade)]
    assert lb.faults.fired == [(150, fault)]
    assert feed.stats.reconnects >= 1
    # the garbled frame went to each open connection; each copy is counted, none raised
    assert (feed.stats.skipped > 0) is (fault == "garble")
    assert lb.connections_opened >= 3  # two streams, then at least one reconnect
    assert _is_ordered_subsequence(trades, expected_trades)
    assert trades[-1] == expected_trades[-1]  # data flows again after recovery


async def test_trades_resent_after_a_reconnect_are_dropped(
    shared_data: Path, tmp_path: Path
) -> None:
    expected_trades = [
        x for x in _capture_inputs(shared_data, tmp_path) if isinstance(x, LastTrade)
    ]
    async with _loopback(shared_data, overlap=20, faults=parse_fault_spec("drop@250")) as lb:
        feed = CcxtFeed("binanceusdm", [BTC], FAST, endpoint=lb.base_url, channels=("trades",))
        got = await _watch_until_done(lb, feed)

    trades = [x for x in got if isinstance(x, LastTrade)]
    assert feed.stats.reconnects >= 1
    assert feed.stats.duplicates > 0  # the loopback re-sent its last 20 trades
    assert _is_ordered_subsequence(trades, expected_trades)
    assert trades[-1] == expected_trades[-1]


async def test_a_bad_trade_is_skipped_and_the_feed_goes_on(
    shared_data: Path, tmp_path: Path
) -> None:
    synthetic_bad = {
        "e": "trade",
        "E": 1723161256400,
        "T": 1723161256400,
        "s": "BTCUSDT",
        "t": 1,
        "p": "-5",
        "q": "0.001",
        "X": "MARKET",
        "m": True,
    }
    async with _loopback(shared_data) as lb:
        feed = CcxtFeed("binanceusdm", [BTC], FAST, endpoint=lb.base_url, channels=("trades",))
        got: list = []

        async def consume() -> None:
            async for item in feed:
                got.append(item)

        task = asyncio.create_task(consume())
        try:
            await asyncio.wait_for(lb.wait_subscribed("BTCUSDT", "trade"), timeout=10)
            lb.push("BTCUSDT", "trade", synthetic_bad)
            await asyncio.wait_for(lb.wait_done("BTCUSDT"), timeout=20)
            await asyncio.sleep(0.3)
        finally:
            await feed.aclose()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    assert feed.stats.skipped == 1
    assert all(t.price > 0 for t in got)
    assert len(got) >= 50
