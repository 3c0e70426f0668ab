"""The websocket loop every native feed shares: connect, subscribe, ping, reconnect, staleness.

Reconnects use exponential backoff with full jitter (delay ~ U(0, min(cap, first·2ⁿ)), AWS
Architecture Blog "Exponential Backoff And Jitter") from ``[feeds]`` settings; subscriptions are
re-sent after every reconnect; protocol pings are answered by ``websockets`` and an optional
app-level ping (Bybit's ``{"op":"ping"}``) is sent on a timer. One bad message never ends a feed:
``FeedStats`` counts it and the feed logs and skips it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.client import process_exception as default_process_exception
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI

from config.settings import FeedSettings
from sim.engine.market import FeedStatus
from sim.errors import FeedError

log = logging.getLogger(__name__)

# A connection that lived at least this long resets the backoff.
HEALTHY_AFTER_S = 10.0
RawTap = Callable[[int, str, str], None]  # (recv_ns, venue, text): the recorder's tee


@dataclass(frozen=True, slots=True)
class Connected:
    """A (re)connection is open and its subscriptions were sent; ``count`` starts at 1."""

    url: str
    count: int


@dataclass(frozen=True, slots=True)
class Received:
    """One text frame, stamped with the local receive time (epoch ns)."""

    url: str
    recv_ns: int
    text: str


@dataclass(frozen=True, slots=True)
class Disconnected:
    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class Tick:
    """Nothing arrived for ``tick_s``: a chance to notice stale symbols."""

    url: str


StreamEvent = Connected | Received | Disconnected | Tick


@dataclass
class FeedStats:
    """Counters a feed keeps so tests, the screen and the log can tell what it survived."""

    messages: int = 0
    bad_messages: int = 0
    connects: int = 0
    disconnects: int = 0
    gaps: int = 0
    snapshots: int = 0
    duplicates: int = 0
    last_error: str = ""
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=20))

    def bad(self, reason: str) -> None:
        self.bad_messages += 1
        self.last_error = reason
        self.errors.append(reason)
        log.warning("skipped a bad message: %s", reason)


def full_jitter(attempt: int, first_s: float, cap_s: float) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (0-based)."""
    return random.uniform(0, min(cap_s, first_s * 2 ** min(attempt, 30)))


def _connect(url: str, settings: FeedSettings) -> connect:
    """``websockets.connect`` retrying with the configured full-jitter backoff.

    Transient failures (refused, reset, timeout, HTTP 5xx) are retried forever; the rest (a bad
    URL, HTTP 4xx) will not heal, so they end the feed as a FeedError naming the URL.
    """

    def delays() -> Iterator[float]:
        attempt = 0
        while True:
            yield full_jitter(attempt, settings.reconnect_initial_s, settings.reconnect_max_s)
            attempt += 1

    def classify(exc: Exception) -> Exception | None:
        verdict = default_process_exception(exc)
        if verdict is None:
            return None
        if isinstance(exc, InvalidStatus):
            return FeedError(
                f"{url} refused the websocket with HTTP {exc.response.status_code}; "
                "check the endpoint URL"
            )
        if isinstance(exc, InvalidURI):
            return FeedError(f"websocket URL {url!r} is not valid: {exc.msg}")
        return FeedError(f"{url}: {exc}")

    return connect(
        url,
        process_exception=classify,
        reconnect_delays=delays,  # type: ignore[arg-type]
        open_timeout=10,
        ping_interval=20,
        ping_timeout=20,
        max_size=1 << 24,
        max_queue=4096,
    )


class WsStream:
    """One websocket URL kept open forever; ``events()`` yields what happens on it.

    ``subscribe()`` returns the messages to send after each connect (called every time, so
    it can reflect the current subscription set).
    """

    def __init__(
        self,
        url: str,
        settings: FeedSettings,
        *,
        subscribe: Callable[[], Iterable[str]] = tuple,
        app_ping: tuple[float, str] | None = None,
        tick_s: float = 1.0,
        stats: FeedStats | None = None,
    ) -> None:
        self.url = url
        self.settings = settings
        self.subscribe = subscribe
        self.app_ping = app_ping
        self.tick_s = tick_s
        self.stats = stats or FeedStats()
        self._ws: ClientConnection | None = None
        self._short_lived = 0

    async def send(self, text: str) -> bool:
        """Send on the open connection; False when there is none right now."""
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(text)
        except ConnectionClosed:
            return False
        return True

    async def events(self) -> AsyncIterator[StreamEvent]:
        """Connect, subscribe and yield events; reconnect with jittered backoff forever."""
        loop = asyncio.get_running_loop()
        # aclosing: leaving the loop early must close the socket now, not at garbage collection.
        async with aclosing(aiter(_connect(self.url, self.settings))) as connections:
            async for ws in connections:
                opened = loop.time()
                reason = "closed"
                pinger = asyncio.create_task(self._ping_loop(ws)) if self.app_ping else None
                try:
                    for text in self.subscribe():
                        await ws.send(text)
                    self._ws = ws
                    self.stats.connects += 1
                    yield Connected(self.url, self.stats.connects)
                    while True:
                        try:
                            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a
                            # cancellation that arrives as the receive completes.
                            async with asyncio.timeout(self.tick_s):
                                text = await ws.recv()
                        except TimeoutError:
                            yield Tick(self.url)
                            continue
                        if isinstance(text, bytes):
                            text = text.decode("utf-8", "replace")
                        yield Received(self.url, time.time_ns(), text)
                except ConnectionClosed as e:
                    reason = f"connection closed ({e.rcvd.code if e.rcvd else 'no close frame'})"
                finally:
                    self._ws = None
                    if pinger is not None:
                        pinger.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await pinger
                self.stats.disconnects += 1
                log.warning("%s: %s; reconnecting", self.url, reason)
                yield Disconnected(self.url, reason)
                await self._pause_if_flapping(loop.time() - opened)

    async def _pause_if_flapping(self, lived_s: float) -> None:
        """Back off before reconnecting when connections keep dying young."""
        self._short_lived = 0 if lived_s >= HEALTHY_AFTER_S else self._short_lived + 1
        if self._short_lived > 1:
            s = self.settings
            await asyncio.sleep(
                full_jitter(self._short_lived - 2, s.reconnect_initial_s, s.reconnect_max_s)
            )

    async def _ping_loop(self, ws: ClientConnection) -> None:
        assert self.app_ping is not None
        every_s, text = self.app_ping
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(every_s)
                await ws.send(text)


async def merge_events(
    streams: list[WsStream], extra: asyncio.Queue[Any] | None = None
) -> AsyncIterator[tuple[WsStream | None, Any]]:
    """Interleave several streams' events (and items put on ``extra``) as they arrive."""
    queue: asyncio.Queue[tuple[WsStream | None, Any]] = asyncio.Queue(maxsize=10_000)

    async def pump(stream: WsStream) -> None:
        async for ev in stream.events():
            await queue.put((stream, ev))

    async def pump_extra(q: asyncio.Queue[Any]) -> None:
        while True:
            await queue.put((None, await q.get()))

    tasks = [asyncio.create_task(pump(s)) for s in streams]
    if extra is not None:
        tasks.append(asyncio.create_task(pump_extra(extra)))
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait([getter, *tasks], return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                yield getter.result()
                continue
            getter.cancel()
            for t in done:  # a pump died: surface its error (a FeedError for a fatal URL)
                if t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class Staleness:
    """Per-symbol "last heard from" clock: stale after ``after_s`` of silence, fresh on data."""

    def __init__(self, symbols: Iterable[str], after_s: float) -> None:
        now = time.monotonic()
        self.after_s = after_s
        self.last = dict.fromkeys(symbols, now)
        self.stale: set[str] = set()

    def seen(self, symbol: str) -> bool:
        """Note data for ``symbol``; True when it was stale (the feed reports recovery)."""
        self.last[symbol] = time.monotonic()
        if symbol in self.stale:
            self.stale.discard(symbol)
            return True
        return False

    def newly_stale(self) -> list[str]:
        """Symbols that just crossed the silence limit (each reported once until it recovers)."""
        now = time.monotonic()
        out = [s for s, t in self.last.items() if s not in self.stale and now - t >= self.after_s]
        self.stale.update(out)
        return out


class RecentKeys:
    """Remembers the last ``size`` keys per symbol, to drop trades re-sent after a reconnect."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._seen: dict[str, tuple[set[Any], deque[Any]]] = {}

    def fresh(self, symbol: str, key: Any) -> bool:
        """True the first time ``key`` is seen for ``symbol``."""
        seen, order = self._seen.setdefault(symbol, (set(), deque()))
        if key in seen:
            return False
        seen.add(key)
        order.append(key)
        if len(order) > self.size:
            seen.discard(order.popleft())
        return True


def wall_ms() -> int:
    """Wall-clock epoch ms for feed statuses (the engine gets time only through inputs)."""
    return time.time_ns() // 1_000_000


def resumed_status(venue: str, staleness: Staleness, symbol: str) -> list[FeedStatus]:
    """Note data for ``symbol``: a "data resumed" status when it had been reported stale."""
    if staleness.seen(symbol):
        return [FeedStatus(venue, symbol, wall_ms(), stale=False, reason="data resumed")]
    return []


def stale_statuses(venue: str, staleness: Staleness) -> list[FeedStatus]:
    """One stale status per symbol that just crossed the silence limit."""
    reason = f"no data for {staleness.after_s:g} s"
    return [
        FeedStatus(venue, symbol, wall_ms(), stale=True, reason=reason)
        for symbol in staleness.newly_stale()
    ]


def symbol_ids(
    symbols: Iterable[str],
    symbol_map: Mapping[str, str] | None,
    venue_id: Callable[[str, dict[str, str]], str],
) -> tuple[dict[str, str], dict[str, str]]:
    """ccxt symbol → venue id, and venue id → ccxt symbol (``symbol_map`` entries kept first)."""
    by_id = dict(symbol_map or {})
    ids = {s: venue_id(s, by_id) for s in symbols}
    for sym, vid in ids.items():
        by_id.setdefault(vid, sym)
    return ids, by_id
