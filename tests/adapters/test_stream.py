"""The shared websocket loop against tiny aiohttp servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing, asynccontextmanager

import pytest
from aiohttp import WSMsgType, web
from hypothesis import given
from hypothesis import strategies as st

from adapters.stream import (
    Connected,
    Disconnected,
    Received,
    RecentKeys,
    Staleness,
    Tick,
    WsStream,
    full_jitter,
    merge_events,
)
from config.settings import FeedSettings
from sim.errors import FeedError

FAST = FeedSettings(stale_after_s=0.2, reconnect_initial_s=0.01, reconnect_max_s=0.05)
Handler = Callable[[web.WebSocketResponse, list[str]], Awaitable[None]]


@asynccontextmanager
async def ws_server(handler: Handler, port: int = 0) -> AsyncIterator[tuple[str, list[str]]]:
    """A websocket server on 127.0.0.1 running ``handler``; yields its URL and what it received."""
    received: list[str] = []

    async def endpoint(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await handler(ws, received)
        return ws

    app = web.Application()
    app.router.add_get("/ws", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"ws://127.0.0.1:{bound}/ws", received
    finally:
        await runner.cleanup()


async def take(stream: WsStream, n: int) -> list:
    """The first ``n`` events of the stream (closing it after), within 5 seconds."""

    async def run() -> list:
        out = []
        async with aclosing(stream.events()) as events:
            async for ev in events:
                out.append(ev)
                if len(out) == n:
                    break
        return out

    return await asyncio.wait_for(run(), 5)


async def test_subscribes_on_every_connect_and_reconnects_after_a_close() -> None:
    async def handler(ws: web.WebSocketResponse, received: list[str]) -> None:
        msg = await ws.receive()
        received.append(msg.data)
        await ws.send_str(f"hello {len(received)}")
        await ws.close()

    async with ws_server(handler) as (url, received):
        stream = WsStream(url, FAST, subscribe=lambda: ["SUB"])

        events = await take(stream, 5)

    kinds = [type(e) for e in events]
    assert kinds == [Connected, Received, Disconnected, Connected, Received]
    assert [e.text for e in events if isinstance(e, Received)] == ["hello 1", "hello 2"]
    assert received == ["SUB", "SUB"]
    assert stream.stats.connects == 2
    assert stream.stats.disconnects == 1


async def test_idle_connection_ticks_and_sends_app_pings() -> None:
    async def handler(ws: web.WebSocketResponse, received: list[str]) -> None:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                received.append(msg.data)

    async with ws_server(handler) as (url, received):
        stream = WsStream(url, FAST, app_ping=(0.05, '{"op":"ping"}'), tick_s=0.1)

        events = await take(stream, 4)

    assert [type(e) for e in events] == [Connected, Tick, Tick, Tick]
    assert len(received) >= 4
    assert set(received) == {'{"op":"ping"}'}


async def test_http_404_is_a_feed_error_not_a_retry_loop() -> None:
    async with ws_server(lambda ws, r: ws.close()) as (url, _):
        stream = WsStream(url.replace("/ws", "/nope"), FAST)

        with pytest.raises(FeedError, match="HTTP 404"):
            await take(stream, 1)


async def test_refused_connection_is_retried_until_the_server_appears() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def handler(ws: web.WebSocketResponse, received: list[str]) -> None:
        await ws.send_str("up")
        await ws.receive()

    stream = WsStream(f"ws://127.0.0.1:{port}/ws", FAST)
    events = asyncio.create_task(take(stream, 2))
    await asyncio.sleep(0.3)
    async with ws_server(handler, port):
        got = await events

    assert [type(e) for e in got] == [Connected, Received]


async def test_merge_interleaves_streams_and_extra_items() -> None:
    async def handler(ws: web.WebSocketResponse, received: list[str]) -> None:
        await ws.send_str("x")
        await ws.receive()

    async with ws_server(handler) as (url, _):
        extra: asyncio.Queue[str] = asyncio.Queue()
        extra.put_nowait("snapshot ready")
        streams = [WsStream(url, FAST), WsStream(url, FAST)]
        got = []

        async def run() -> None:
            async with aclosing(merge_events(streams, extra)) as merged:
                async for source, ev in merged:
                    got.append((source, ev))
                    if len(got) == 5:
                        return

        await asyncio.wait_for(run(), 5)

    assert (None, "snapshot ready") in got
    assert sum(isinstance(ev, Received) for _, ev in got) == 2
    assert {s for s, _ in got if s is not None} == set(streams)


@given(attempt=st.integers(0, 100), first=st.floats(0.01, 5), cap=st.floats(0.01, 60))
def test_full_jitter_stays_between_zero_and_the_capped_exponential(
    attempt: int, first: float, cap: float
) -> None:
    delay = full_jitter(attempt, first, cap)

    assert 0 <= delay <= min(cap, first * 2**attempt)


async def test_staleness_reports_once_then_recovery() -> None:
    tracker = Staleness(["A", "B"], after_s=0.05)

    early = tracker.newly_stale()
    await asyncio.sleep(0.06)
    tracker.seen("B")
    stale = tracker.newly_stale()
    again = tracker.newly_stale()
    recovered = tracker.seen("A")

    assert (early, stale, again, recovered) == ([], ["A"], [], True)
    assert tracker.seen("A") is False


def test_recent_keys_drop_repeats_within_the_window() -> None:
    keys = RecentKeys(size=2)

    first = [keys.fresh("s", k) for k in (1, 2, 1, 3)]
    later = keys.fresh("s", 1)  # fell out of the window of 2

    assert first == [True, True, False, True]
    assert later is True
    assert keys.fresh("other", 1) is True


def test_full_jitter_is_random_within_the_bound() -> None:
    start = time.monotonic()

    delays = {full_jitter(3, 0.5, 30) for _ in range(50)}

    assert len(delays) > 40
    assert max(delays) <= 4.0
    assert time.monotonic() - start < 1
