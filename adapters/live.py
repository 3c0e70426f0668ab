"""Open the live market feed for a venue: native websockets where microfut has them, else ccxt.

``open_feed`` is the one door the practice desk, strategies and ``microfut record`` use:
Binance USDⓈ-M / COIN-M and Bybit get the native feeds (``adapters/binance|bybit/feed.py``),
every other ccxt venue the generic ``adapters/ccxt_feed.py``. All yield the same inputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from adapters.binance.feed import PUBLIC_URLS as BINANCE_URLS
from adapters.binance.feed import binance_feed
from adapters.bybit.feed import PUBLIC_WS as BYBIT_WS
from adapters.bybit.feed import bybit_feed
from adapters.ccxt_feed import CcxtFeed, RawSink
from adapters.exchanges import check_exchange_id, rest_base
from sim.engine.market import MarketInput
from sim.errors import FeedError, InputError

log = logging.getLogger("microfut.feed")

NATIVE = ("binanceusdm", "binancecoinm", "bybit")
CONNECT_TIMEOUT_S = 10.0


def _feed_settings(settings: Any) -> Any:
    return getattr(settings, "feeds", settings)


def _endpoint(settings: Any, endpoint: str | None) -> str | None:
    if endpoint:
        return endpoint
    configured = getattr(getattr(settings, "exchange", None), "endpoint", "")
    return configured or None


def check_symbols(exchange_id: str, symbols: Sequence[str]) -> list[str]:
    """Futures symbols in ccxt form; InputError naming the expected shape otherwise."""
    if not symbols:
        raise InputError(f"name at least one symbol to follow on {exchange_id}")
    for symbol in symbols:
        base_quote, sep, settle = symbol.partition(":")
        if not sep or "/" not in base_quote or not settle:
            raise InputError(
                f"symbol {symbol!r} on {exchange_id} is not a futures symbol; perpetuals look "
                "like 'BTC/USDT:USDT' (linear) or 'BTC/USD:BTC' (inverse)"
            )
    return list(symbols)


def open_feed(
    exchange_id: str,
    symbols: Sequence[str],
    settings: Any,
    *,
    endpoint: str | None = None,
    on_raw: RawSink | None = None,
) -> AsyncIterator[MarketInput]:
    """An async iterator of market inputs for ``symbols`` on ``exchange_id``.

    ``settings`` is the loaded ``Settings`` (or just its ``feeds`` section); ``endpoint``
    (else ``[exchange] endpoint``) points the feed at a compatible host such as the loopback.
    ``on_raw(recv_ns, venue, text)`` receives every frame before parsing (``Recorder.write``).
    Close it with ``aclose()`` when done.
    """
    check_exchange_id(exchange_id)
    symbols = check_symbols(exchange_id, symbols)
    feeds = _feed_settings(settings)
    url = _endpoint(settings, endpoint)
    if exchange_id in ("binanceusdm", "binancecoinm"):
        market = "usdm" if exchange_id == "binanceusdm" else "coinm"
        return binance_feed(symbols, market=market, endpoint=url, settings=feeds, on_raw=on_raw)
    if exchange_id == "bybit":
        linear = [s for s in symbols if not _is_inverse(s)]
        inverse = [s for s in symbols if _is_inverse(s)]
        feeds_by_category = [
            bybit_feed(group, category=cat, endpoint=url, settings=feeds, on_raw=on_raw)
            for cat, group in (("linear", linear), ("inverse", inverse))
            if group
        ]
        return feeds_by_category[0] if len(feeds_by_category) == 1 else merge(feeds_by_category)
    return CcxtFeed(exchange_id, symbols, feeds, endpoint=url, on_raw=on_raw)


def _is_inverse(symbol: str) -> bool:
    """``BTC/USD:BTC`` settles in the base coin: Bybit's inverse category."""
    base = symbol.split("/", 1)[0]
    return symbol.partition(":")[2].split("-", 1)[0] == base


async def merge(feeds: Sequence[AsyncIterator[MarketInput]]) -> AsyncIterator[MarketInput]:
    """Interleave several feeds as their inputs arrive; an error in one ends all."""
    queue: asyncio.Queue[tuple[MarketInput | None, BaseException | None]] = asyncio.Queue(1000)

    async def pump(feed: AsyncIterator[MarketInput]) -> None:
        try:
            async for item in feed:
                await queue.put((item, None))
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # surfaced to the consumer below
            await queue.put((None, e))

    tasks = [asyncio.create_task(pump(f)) for f in feeds]
    try:
        while True:
            item, error = await queue.get()
            if error is not None:
                raise error
            assert item is not None
            yield item
    finally:
        await cancel_and_wait(tasks)
        for feed in feeds:
            with contextlib.suppress(Exception):
                await feed.aclose()  # type: ignore[attr-defined]


async def cancel_and_wait(tasks: Sequence[asyncio.Task[Any]], attempts: int = 10) -> None:
    """Cancel ``tasks`` and wait for them, cancelling again any that swallowed the cancel.

    On Python 3.11 ``asyncio.wait_for`` can swallow a cancellation that races with its inner
    result; a feed task caught that way would otherwise keep its owner from ever returning.
    """
    pending = list(tasks)
    for attempt in range(attempts):
        pending = [t for t in pending if not t.done()]
        if not pending:
            return
        if attempt:
            log.info("%d feed task(s) ignored cancel #%d; cancelling again", len(pending), attempt)
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1.0)


def probe_target(exchange_id: str, endpoint: str | None) -> tuple[str, int]:
    """The (host, port) a native feed connects to first."""
    if endpoint:
        parts = urlsplit(rest_base(endpoint))
    elif exchange_id == "bybit":
        parts = urlsplit(BYBIT_WS)
    else:
        parts = urlsplit(BINANCE_URLS["usdm" if exchange_id == "binanceusdm" else "coinm"][0])
    default = 443 if parts.scheme in ("https", "wss") else 80
    return parts.hostname or "", parts.port or default


async def check_reachable(
    exchange_id: str,
    settings: Any,
    endpoint: str | None = None,
    timeout_s: float = CONNECT_TIMEOUT_S,
) -> None:
    """FeedError unless a TCP connection to the venue (or endpoint) opens within ``timeout_s``.

    The native feeds retry forever by design; a recorder started offline should instead say
    so at once. ccxt venues need no probe: loading their markets fails the same way.
    """
    if exchange_id not in NATIVE:
        return
    host, port = probe_target(exchange_id, _endpoint(settings, endpoint))
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
    except (OSError, TimeoutError) as e:
        reason = "timed out" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise FeedError(
            f"{exchange_id}: cannot reach {host}:{port} ({reason}); check the network or --endpoint"
        ) from None
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
