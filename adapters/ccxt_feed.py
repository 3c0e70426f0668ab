"""Any ccxt venue as a market-input feed: ccxt.pro ``watch_*`` where the venue has it, else polling.

Used for every venue without a native feed (BingX, MEXC, WEEX, ...). Each (channel, symbol) runs
in its own task: a websocket watch loop when ``ex.has['watchX']`` says so, otherwise a REST poll
(``fetch_ticker`` / ``fetch_order_book`` / ``fetch_funding_rate`` / ``fetch_trades``) every
``feeds.poll_interval_s``. Network errors back off with full jitter and retry (ccxt.pro
reconnects and resubscribes on the next watch call); a bad item is logged, counted and skipped;
a symbol silent for ``feeds.stale_after_s`` yields ``FeedStatus(stale=True)``.

Recording: ``on_raw`` receives each ccxt result as JSON text ``{"ccxt": kind, "symbol": s,
"data": ...}`` (``adapters/ccxt_wire.py``), which a replay decodes into the same inputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import inspect
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ccxt
import ccxt.pro

from adapters.ccxt_wire import decode_ccxt, envelope
from adapters.exchanges import make_exchange
from adapters.trade_filter import TradeFilter
from adapters.wire_errors import WireError
from sim.engine.market import FeedStatus
from sim.engine.market import MarketInput as Input
from sim.errors import FeedError, InputError

log = logging.getLogger("microfut.feed.ccxt")

RawSink = Callable[[int, str, str], None]
CHANNELS = ("trades", "book", "ticker", "mark", "funding")
# channel → (ccxt.pro watch method, REST method); None where ccxt has no such method.
_METHODS: dict[str, tuple[str | None, str | None]] = {
    "trades": ("watch_trades", "fetch_trades"),
    "book": ("watch_order_book", "fetch_order_book"),
    "ticker": ("watch_ticker", "fetch_ticker"),
    "mark": ("watch_mark_price", None),
    "funding": ("watch_funding_rate", "fetch_funding_rate"),
}


def _has_key(method: str) -> str:
    head, *rest = method.split("_")
    return head + "".join(w.capitalize() for w in rest)


# -- the feed ----------------------------------------------------------------------------------
@dataclass
class FeedStats:
    """Counters a screen or test can read while the feed runs."""

    received: int = 0
    emitted: int = 0
    skipped: int = 0
    duplicates: int = 0
    errors: int = 0
    reconnects: int = 0
    disabled: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    channel: str
    symbol: str
    method: str
    poll: bool


class CcxtFeed:
    """An async iterator of market inputs for ``symbols`` on any ccxt venue.

    ``mode``: "auto" (watch where available, else poll), "poll" (REST only). ``exchange`` may be
    a ready ccxt instance (sync or async, already pointed where it should be); it is then not
    closed by the feed.
    """

    def __init__(
        self,
        exchange_id: str,
        symbols: Sequence[str],
        feeds: Any,
        *,
        endpoint: str | None = None,
        on_raw: RawSink | None = None,
        exchange: Any = None,
        mode: str = "auto",
        channels: Sequence[str] = CHANNELS,
        book_levels: int = 50,
    ) -> None:
        feeds = getattr(feeds, "feeds", feeds)  # accept Settings or FeedSettings
        if mode not in ("auto", "poll"):
            raise InputError(f"feed mode must be 'auto' or 'poll', was {mode!r}")
        unknown = sorted(set(channels) - set(CHANNELS))
        if unknown:
            raise InputError(f"unknown feed channels {unknown}; known: {', '.join(CHANNELS)}")
        self.venue = exchange_id
        self.symbols = list(symbols)
        self.stale_after_s = float(feeds.stale_after_s)
        self.poll_interval_s = float(feeds.poll_interval_s)
        self.backoff = (float(feeds.reconnect_initial_s), float(feeds.reconnect_max_s))
        self.endpoint, self.on_raw, self.mode = endpoint, on_raw, mode
        self.channels, self.book_levels = tuple(channels), book_levels
        self.stats = FeedStats()
        self._ex = exchange
        self._own_ex = exchange is None
        self._queue: asyncio.Queue[Input | BaseException] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._last: dict[str, float] = {}
        self._stale: set[str] = set()
        self._started = False
        self._closed = False
        self._watching = False
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._previous_handler: Any = None

    # -- iteration ---------------------------------------------------------------------------

    def _count_duplicate(self) -> None:
        self.stats.duplicates += 1

    def __aiter__(self) -> CcxtFeed:
        return self

    async def __anext__(self) -> Input:
        if self._closed:
            raise StopAsyncIteration
        if not self._started:
            await self.start()
        item = await self._queue.get()
        if isinstance(item, BaseException):
            await self.aclose()
            raise item
        return item

    async def __aenter__(self) -> CcxtFeed:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def start(self) -> None:
        """Load markets (FeedError when the venue cannot be reached), then start every loop."""
        if self._started:
            return
        self._started = True
        if self._ex is None:
            self._ex = make_exchange(self.venue, endpoint=self.endpoint, pro=self._pro_wanted())
        try:
            await self._call("load_markets")
        except ccxt.BaseError as e:
            await self.aclose()
            where = self.endpoint or "its public endpoint"
            raise FeedError(
                f"{self.venue}: cannot load markets from {where} ({type(e).__name__}: "
                f"{str(e)[:120]}); check the network or --endpoint"
            ) from e
        try:
            self._check_symbols()
        except InputError:
            await self.aclose()
            raise
        plans = self._plans()
        if not plans:
            await self.aclose()
            raise FeedError(f"{self.venue}: ccxt offers no way to read {', '.join(self.channels)}")
        now = time.monotonic()
        self._last = dict.fromkeys(self.symbols, now)
        self._watching = any(not p.poll for p in plans)
        if self._watching:
            self._hook_loop_errors()
        self._tasks = [
            asyncio.create_task(self._run(p), name=f"{p.method}:{p.symbol}") for p in plans
        ]
        self._tasks.append(asyncio.create_task(self._watchdog(), name="stale-watchdog"))

    async def aclose(self) -> None:
        """Stop every loop and close the exchange the feed created."""
        if self._closed:
            return
        self._closed = True
        pending = list(self._tasks)
        for _ in range(10):  # a cancel swallowed inside a library is simply repeated
            pending = [t for t in pending if not t.done()]
            if not pending:
                break
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=1.0)
        if self._own_ex and self._ex is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(10):
                    await self._call("close")
        if self._event_loop is not None:
            self._event_loop.set_exception_handler(self._previous_handler)

    def _hook_loop_errors(self) -> None:
        """Turn ccxt.pro's unhandled frame-parse errors into one counted warning line.

        ccxt decodes websocket JSON in a bare loop callback, so a garbled frame would print a
        traceback through asyncio; everything else goes to the previous handler.
        """
        loop = asyncio.get_running_loop()
        self._event_loop, self._previous_handler = loop, loop.get_exception_handler()

        def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            callback = getattr(context.get("handle"), "_callback", None)
            if "receive_loop" in getattr(callback, "__qualname__", ""):
                self.stats.skipped += 1
                log.warning(
                    "%s: skipped a websocket frame ccxt could not read (%s)",
                    self.venue,
                    str(context.get("exception"))[:100],
                )
                return
            if self._previous_handler is not None:
                self._previous_handler(loop, context)
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(handler)

    # -- planning ----------------------------------------------------------------------------
    def _pro_wanted(self) -> bool:
        return self.mode == "auto" and hasattr(ccxt.pro, self.venue)

    def _check_symbols(self) -> None:
        markets = self._ex.markets or {}
        for symbol in self.symbols:
            if symbol not in markets:
                close = difflib.get_close_matches(symbol, list(markets), n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
                raise InputError(f"unknown symbol {symbol!r} on {self.venue}{hint}")

    def _plans(self) -> list[_Plan]:
        has = self._ex.has
        can_watch = self.mode == "auto" and _is_async(self._ex)
        plans: list[_Plan] = []
        for channel in self.channels:
            watch, fetch = _METHODS[channel]
            if can_watch and watch and has.get(_has_key(watch)):
                plans += [_Plan(channel, s, watch, False) for s in self.symbols]
            elif fetch and has.get(_has_key(fetch)):
                plans += [_Plan(channel, s, fetch, True) for s in self.symbols]
        return plans

    # -- loops -------------------------------------------------------------------------------
    async def _run(self, plan: _Plan) -> None:
        """Call the method forever; errors back off and retry; a failure here ends the feed."""
        try:
            await self._loop(plan)
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # an unexpected failure must reach the consumer, not vanish
            self._queue.put_nowait(e)

    async def _loop(self, plan: _Plan) -> None:
        failures = 0
        trades = TradeFilter(plan.poll, self._count_duplicate) if plan.channel == "trades" else None
        while True:
            try:
                result = await self._fetch(plan)
            except (ccxt.NotSupported, ccxt.BadSymbol) as e:
                log.warning(
                    "%s %s: %s not available (%s); channel off",
                    self.venue,
                    plan.symbol,
                    plan.method,
                    e,
                )
                self.stats.disabled.append(f"{plan.method}:{plan.symbol}")
                return
            except (ccxt.NetworkError, ccxt.ExchangeError) as e:
                if self._closed:
                    return
                failures += 1
                self.stats.errors += 1
                delay = self._backoff_delay(failures)
                log.warning(
                    "%s %s %s failed (%s: %s); retry in %.2fs",
                    self.venue,
                    plan.symbol,
                    plan.method,
                    type(e).__name__,
                    str(e)[:100],
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            if failures:
                self.stats.reconnects += 1
                failures = 0
            if trades is not None and isinstance(result, list):
                result = trades.new(result)
            if result or trades is None:
                self._deliver(plan, result)
            if plan.poll:
                await asyncio.sleep(self.poll_interval_s)

    async def _fetch(self, plan: _Plan) -> Any:
        if plan.channel == "book":
            return await self._call(
                plan.method, plan.symbol, self.book_levels if plan.poll else None
            )
        return await self._call(plan.method, plan.symbol)

    def _backoff_delay(self, failures: int) -> float:
        first, cap = self.backoff
        return random.uniform(first, min(cap, first * 2 ** (failures - 1)))

    def _deliver(self, plan: _Plan, result: Any) -> None:
        """Tee and decode a result; trades one by one, so one bad trade costs only itself."""
        recv_ns = time.time_ns()
        items = [[t] for t in result] if plan.channel == "trades" else [result]
        inputs: list[Input] = []
        for item in items:
            self.stats.received += 1
            try:
                frame = envelope(plan.channel, plan.symbol, item, self.book_levels)
                if self.on_raw is not None:
                    self.on_raw(recv_ns, self.venue, json.dumps(frame, separators=(",", ":")))
                inputs += decode_ccxt(self.venue, frame, recv_ns // 1_000_000)
            except (WireError, AttributeError, TypeError, ValueError) as e:
                self.stats.skipped += 1
                log.warning(
                    "%s %s: skipped a bad %s item: %s", self.venue, plan.symbol, plan.channel, e
                )
        if not inputs:
            return
        self._last[plan.symbol] = time.monotonic()
        if plan.symbol in self._stale:
            self._stale.discard(plan.symbol)
            self._queue.put_nowait(
                FeedStatus(
                    venue=self.venue,
                    symbol=plan.symbol,
                    ts_ms=recv_ns // 1_000_000,
                    stale=False,
                    reason="data resumed",
                )
            )
        for inp in inputs:
            self._queue.put_nowait(inp)
        self.stats.emitted += len(inputs)

    async def _watchdog(self) -> None:
        tick = min(1.0, self.stale_after_s / 4)
        last_reset = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            silent = [s for s, last in self._last.items() if now - last >= self.stale_after_s]
            for symbol in silent:
                if symbol not in self._stale:
                    self._stale.add(symbol)
                    self._queue.put_nowait(
                        FeedStatus(
                            venue=self.venue,
                            symbol=symbol,
                            ts_ms=time.time_ns() // 10**6,
                            stale=True,
                            reason=f"no update for {self.stale_after_s:g}s",
                        )
                    )
            if silent and self._watching and now - last_reset >= self.stale_after_s:
                last_reset = now
                await self._reset_websockets()

    async def _reset_websockets(self) -> None:
        """Drop ccxt's websocket clients so every watch reconnects and resubscribes.

        ccxt.pro's receive loop dies silently on a frame it cannot parse (its JSON decode runs
        outside any handler), leaving every watch waiting forever; a stale feed is the only
        symptom, so staleness is answered with a fresh connection.
        """
        clients = dict(getattr(self._ex, "clients", None) or {})
        if not clients:
            return
        log.warning(
            "%s: no data for %gs; reconnecting %d websocket(s)",
            self.venue,
            self.stale_after_s,
            len(clients),
        )
        for url, client in clients.items():
            client.reject(ccxt.NetworkError(f"{self.venue}: stale websocket, reconnecting"))
            with contextlib.suppress(Exception):
                await client.close()
            self._ex.clients.pop(url, None)

    async def _call(self, method: str, *args: Any) -> Any:
        fn = getattr(self._ex, method)
        args = tuple(a for a in args if a is not None)
        if not _is_async(self._ex):
            return await asyncio.to_thread(fn, *args)
        result = fn(*args)  # some ccxt.pro watch_* are plain functions returning a coroutine
        return await result if inspect.isawaitable(result) else result


def _is_async(ex: Any) -> bool:
    return inspect.iscoroutinefunction(getattr(ex, "load_markets", None))
